import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decoder, Encoder } from './value-codec.ts';

function roundTrip(values: readonly unknown[]): unknown[] {
  const enc = new Encoder(64);
  for (const v of values) enc.value(v);
  const d = new Decoder(enc.take());
  const out: unknown[] = [];
  while (!d.done) out.push(d.value());
  return out;
}

describe('value codec', () => {
  it('round-trips plain data exactly, including what JSON loses', () => {
    const values = [
      null,
      true,
      false,
      undefined,
      0,
      -0,
      1,
      -1,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      Number.MAX_SAFE_INTEGER,
      1_763_661_600_000,
      0.1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '',
      'channel_abc',
      'ünïcödé ✓ 🎉',
      'x'.repeat(10_000),
      [],
      [1, 2],
      [0, 1, 2, 255, 3],
      [0, 256, -1, 7],
      [1, 2.5, 3, 4],
      [1, 2, 3, -0],
      [1, 2, 3, 'four'],
      [[1, 2, 3, 4], { a: [5, 6, 7, 8] }],
      { since: 1, last: 2, next: 3, counts: [0, 1, 2] },
      { nested: { deeper: { deepest: [null, undefined, true] } } },
      { 2: 'b', 1: 'a', z: 'z' },
      {},
    ];
    assert.deepStrictEqual(roundTrip(values), values);
    const [negativeZero] = roundTrip([-0]);
    assert.ok(Object.is(negativeZero, -0));
    const [packed] = roundTrip([[1, 2, 3, -0]]) as [number[]];
    assert.ok(Object.is(packed[3], -0));
  });

  it('keeps number and string keys apart', () => {
    const [n, s] = roundTrip([1, '1']);
    assert.equal(typeof n, 'number');
    assert.equal(typeof s, 'string');
  });

  it('decodes many objects of one shape, and a __proto__ key as an own property', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({
      since: i,
      last: i + 1,
      next: i + 2,
      counts: [i, 1, 2],
    }));
    assert.deepStrictEqual(roundTrip(rows), rows);
    const [o] = roundTrip([JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}')]) as [
      Record<string, unknown>,
    ];
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepStrictEqual(Object.keys(o), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('decodes each record on its own: shape numbers do not leak between records', () => {
    const enc = new Encoder(64);
    enc.value({ a: 1, b: 2 });
    const first = enc.take();
    enc.value({ a: 3, b: 4 });
    enc.value({ c: 5 });
    const second = enc.take();
    assert.deepStrictEqual(new Decoder(second).value(), { a: 3, b: 4 });
    assert.deepStrictEqual(new Decoder(first).value(), { a: 1, b: 2 });
  });

  it('keeps records already taken intact when the buffer fills and a new one starts', () => {
    const enc = new Encoder(32);
    const records = Array.from({ length: 50 }, (_, i) => {
      enc.value({ i, text: `record ${i} `.repeat(i) });
      return enc.take();
    });
    records.forEach((r, i) => {
      assert.deepStrictEqual(new Decoder(r).value(), { i, text: `record ${i} `.repeat(i) });
    });
  });

  it('skips any value without building it, landing on the next one', () => {
    const values = [
      null,
      -7,
      1.5,
      'ünïcödé',
      [1, 2, 3, 4],
      [1, 300, 3, 4],
      [0.5, 1, 2, 3],
      ['a', ['b', { c: 1 }]],
      { since: 1, counts: [0, 1, 2] },
      { since: 2, counts: [3, 4, 5] },
    ];
    const enc = new Encoder();
    for (const v of values) {
      enc.value(v);
      enc.value('marker');
    }
    const d = new Decoder(enc.take());
    for (let i = 0; i < values.length; i++) {
      d.skip();
      assert.equal(d.value(), 'marker', `after skipping value ${i}`);
    }
    assert.ok(d.done);
  });

  it('refuses what is not plain data, naming it', () => {
    const enc = new Encoder();
    assert.throws(() => enc.value(new Map()), /must be plain data; found a Map object/);
    assert.throws(() => enc.value(new Date(0)), /found a Date object/);
    assert.throws(() => enc.value(() => 1), /found a function/);
    assert.throws(() => enc.value(1n), /found a bigint/);
  });

  it('reports a truncated or unknown record instead of inventing values', () => {
    const enc = new Encoder();
    enc.value({ counts: [1, 2, 3, 4, 5] });
    const bytes = enc.take();
    assert.throws(
      () => new Decoder(bytes.subarray(0, bytes.length - 2)).value(),
      /truncated checkpoint record/,
    );
    assert.throws(() => new Decoder(Uint8Array.of(200)).value(), /unknown tag 200/);
  });
});
