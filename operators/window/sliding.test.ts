import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sliding } from './sliding.ts';

describe('sliding', () => {
  it('is plain data with the offset defaulting to 0', () => {
    assert.deepEqual(sliding(60_000, 5_000), {
      kind: 'sliding',
      sizeMs: 60_000,
      slideMs: 5_000,
      offsetMs: 0,
    });
    assert.deepEqual(sliding(10, 5, 3), { kind: 'sliding', sizeMs: 10, slideMs: 5, offsetMs: 3 });
  });

  it('accepts a slide equal to the size (tumbling windows)', () => {
    assert.deepEqual(sliding(1_000, 1_000), { kind: 'sliding', sizeMs: 1_000, slideMs: 1_000, offsetMs: 0 });
  });

  it('refuses a slide larger than the size, which would leave gaps no window covers', () => {
    assert.throws(
      () => sliding(1_000, 1_001),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === 'sliding window slide (1001) must not exceed its size (1000)',
    );
  });

  it('refuses a size or slide that is not a positive number', () => {
    assert.throws(() => sliding(0, 1), /sliding window size must be a positive number of ms/);
    assert.throws(() => sliding(-10, 1), /sliding window size/);
    assert.throws(() => sliding(10, 0), /sliding window slide must be a positive number of ms/);
    assert.throws(() => sliding(10, Number.NaN), /sliding window slide/);
  });
});
