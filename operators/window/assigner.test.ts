import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeAssigner, formatMs, positiveMs, windowStart } from './assigner.ts';
import { session } from './session.ts';
import { sliding } from './sliding.ts';
import { tumbling } from './tumbling.ts';

describe('windowStart', () => {
  it('aligns to multiples of the step from the epoch', () => {
    assert.equal(windowStart(0, 1_000, 0), 0);
    assert.equal(windowStart(999, 1_000, 0), 0);
    assert.equal(windowStart(1_000, 1_000, 0), 1_000);
    assert.equal(windowStart(1_234_567, 60_000, 0), 1_200_000);
  });

  it('rounds negative timestamps down, not towards zero', () => {
    assert.equal(windowStart(-1, 1_000, 0), -1_000);
    assert.equal(windowStart(-999, 1_000, 0), -1_000);
    assert.equal(windowStart(-1_000, 1_000, 0), -1_000);
    assert.equal(windowStart(-1_001, 1_000, 0), -2_000);
  });

  it('shifts the grid by the offset, also by offsets beyond the step or below zero', () => {
    assert.equal(windowStart(0, 1_000, 250), -750);
    assert.equal(windowStart(249, 1_000, 250), -750);
    assert.equal(windowStart(250, 1_000, 250), 250);
    assert.equal(windowStart(1_249, 1_000, 250), 250);
    assert.equal(windowStart(0, 1_000, 1_250), windowStart(0, 1_000, 250));
    assert.equal(windowStart(0, 1_000, -750), windowStart(0, 1_000, 250));
    assert.equal(windowStart(-500, 1_000, 250), -750);
  });

  it('always returns a start at or before the timestamp and less than one step before it', () => {
    for (const step of [1, 7, 1_000, 3_600_000]) {
      for (const offset of [0, 3, -5, step + 1]) {
        for (const ts of [-10_000_001, -step, -1, 0, 1, step - 1, step, 1_700_000_000_123]) {
          const start = windowStart(ts, step, offset);
          assert.ok(start <= ts && ts < start + step, `ts ${ts} step ${step} offset ${offset} → ${start}`);
          assert.equal((((start - offset) % step) + step) % step, 0, 'on the grid');
        }
      }
    }
  });
});

describe('positiveMs', () => {
  it('accepts positive numbers and refuses zero, negatives, NaN and infinity', () => {
    assert.equal(positiveMs('x', 1), 1);
    assert.equal(positiveMs('x', 0.5), 0.5);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => positiveMs('window size', bad), RangeError);
    }
    assert.throws(() => positiveMs('window size', 0), /window size must be a positive number of ms, got 0/);
  });
});

describe('formatMs and describeAssigner', () => {
  it('uses the largest whole unit', () => {
    assert.equal(formatMs(7_200_000), '2h');
    assert.equal(formatMs(90 * 60_000), '90min');
    assert.equal(formatMs(5_000), '5s');
    assert.equal(formatMs(1_500), '1500ms');
    assert.equal(formatMs(250), '250ms');
  });

  it('describes each assigner on one line', () => {
    assert.equal(describeAssigner(tumbling(5_000)), 'tumbling 5s');
    assert.equal(describeAssigner(sliding(60_000, 5_000)), 'sliding 1min every 5s');
    assert.equal(describeAssigner(session(30 * 60_000)), 'session gap 30min');
  });
});
