import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { session } from './session.ts';

describe('session', () => {
  it('is plain data holding the gap', () => {
    assert.deepEqual(session(30_000), { kind: 'session', gapMs: 30_000 });
  });

  it('refuses a gap that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => session(bad), /session gap must be a positive number of ms/);
    }
  });
});
