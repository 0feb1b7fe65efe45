import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a, partitionOf } from './partition-hash.ts';

/** Byte-wise reference: FNV-1a over TextEncoder's output. */
function reference(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

describe('fnv1a', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of non-ASCII text, surrogate pairs and lone surrogates included', () => {
    for (const text of ['é', 'Ωmega', '日本語', 'emoji 😀 ok', 'lone \ud800 surrogate', 'tail \udc00']) {
      assert.equal(fnv1a(text), reference(text), text);
    }
  });
});

describe('partitionOf', () => {
  it('treats a number key as its decimal string', () => {
    assert.equal(partitionOf(12345, 7), partitionOf('12345', 7));
  });

  it('spreads distinct keys over every partition', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(partitionOf(`channel-${i}`, 8));
    assert.equal(seen.size, 8);
  });
});
