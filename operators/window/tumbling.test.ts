import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tumbling } from './tumbling.ts';

describe('tumbling', () => {
  it('is plain data with the offset defaulting to 0', () => {
    assert.deepEqual(tumbling(5_000), { kind: 'tumbling', sizeMs: 5_000, offsetMs: 0 });
    assert.deepEqual(tumbling(5_000, 1_000), { kind: 'tumbling', sizeMs: 5_000, offsetMs: 1_000 });
    assert.deepEqual(JSON.parse(JSON.stringify(tumbling(60_000, -30_000))), tumbling(60_000, -30_000));
  });

  it('refuses a size that is not a positive number', () => {
    for (const bad of [0, -5_000, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => tumbling(bad), /tumbling window size must be a positive number of ms/);
    }
  });
});
