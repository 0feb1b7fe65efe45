import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { robustDetector } from './robust.ts';
import { activityOf, T0 } from './testing.ts';

const robust = robustDetector();

describe('robust detector', () => {
  it('is not moved by one earlier spike inside the baseline, unlike mean and σ', () => {
    const history = [...Array.from({ length: 59 }, (_, i) => (i % 2 === 0 ? 9 : 11)), 200];
    // The earlier 200 is in the window, so the new bucket must beat it (a new high) to fire.
    assert.equal(robust.judge(activityOf(history, 150), undefined).fire, false);
    assert.equal(robust.judge(activityOf(history, 201), undefined).fire, true);
    const without = history.slice(0, 59).concat(10);
    assert.equal(robust.judge(activityOf(without, 40), undefined).fire, true);
  });

  it('gives quiet channels a count-aware floor: two extra messages on a near-silent chat are not a spike', () => {
    const sparse = Array.from({ length: 60 }, (_, i) => (i % 20 === 0 ? 1 : 0));
    assert.equal(robust.judge(activityOf(sparse, 3), undefined).fire, false);
    assert.equal(robust.judge(activityOf(sparse, 5), undefined).fire, true);
  });

  it('fires only on a new high over the whole baseline', () => {
    const history = [...Array.from({ length: 59 }, () => 10), 30];
    assert.equal(robust.judge(activityOf(history, 30), undefined).fire, false);
    assert.equal(robust.judge(activityOf(history, 31), undefined).fire, true);
  });

  it('re-arms by hysteresis: not again until the count has fallen back under k/2 spreads', () => {
    const history = Array.from({ length: 60 }, () => 16); // median 16, spread √16 = 4
    const first = robust.judge(activityOf(history, 40, T0 + 600_000), undefined);
    assert.equal(first.fire, true);
    // 60 s later the chat is still high (z = 3.5): the same moment, no second detection.
    const still = robust.judge(activityOf(history, 30, T0 + 660_000), first.memory);
    assert.equal(still.fire, false);
    // It drops under 16 + 1.5·4 = 22, re-arming…
    const lull = robust.judge(activityOf(history, 20, T0 + 665_000), still.memory);
    assert.equal(lull.fire, false);
    // …and the next rise fires, 70 s after the first.
    assert.equal(robust.judge(activityOf(history, 40, T0 + 670_000), lull.memory).fire, true);
  });

  it('does not fire before the channel is warm', () => {
    assert.equal(robust.judge(activityOf([1, 1, 1], 100, T0, false), undefined).fire, false);
  });
});
