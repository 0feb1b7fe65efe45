import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChatLine } from './is-chat-line.ts';

describe('isChatLine', () => {
  const good = { broadcaster_login: 'xqc', ts: 1_700_000_000_000, user: 'u1', text: 'hi' };

  it('accepts a chat line, extra fields included', () => {
    assert.equal(isChatLine(good), true);
    assert.equal(isChatLine({ ...good, badges: ['sub'] }), true);
  });

  it('rejects a missing or mistyped field and a non-finite ts', () => {
    for (const field of ['broadcaster_login', 'ts', 'user', 'text'] as const) {
      const { [field]: _dropped, ...missing } = good;
      assert.equal(isChatLine(missing), false, `without ${field}`);
    }
    assert.equal(isChatLine({ ...good, ts: '1700000000000' }), false);
    assert.equal(isChatLine({ ...good, ts: Number.NaN }), false);
    assert.equal(isChatLine({ ...good, text: null }), false);
  });

  it('rejects values that are not objects', () => {
    for (const value of [null, undefined, 42, 'text', [good]]) assert.equal(isChatLine(value), false);
  });
});
