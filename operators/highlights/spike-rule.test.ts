import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import type { Bucket } from '../chat/bucket-counts.ts';
import { baseline } from './baseline.ts';
import { detect, type Spike } from './detector.ts';
import { spikeRule } from './spike-rule.ts';
import { activityOf, bucketsOf, T0 } from './testing.ts';

const rule = spikeRule();
// mean 10, population σ 2
const history = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 8 : 12));

describe('spike rule: count > mean + 3σ', () => {
  it('fires strictly above the threshold and not at it', () => {
    assert.equal(rule.judge(activityOf(history, 16), undefined).fire, false);
    const verdict = rule.judge(activityOf(history, 17), undefined);
    assert.equal(verdict.fire, true);
    assert.equal(verdict.z, 3.5);
  });

  it('takes k from its options', () => {
    assert.equal(spikeRule({ k: 2 }).judge(activityOf(history, 15), undefined).fire, true);
    assert.equal(spikeRule({ k: 4 }).judge(activityOf(history, 17), undefined).fire, false);
  });

  it('does not fire before the channel is warm', () => {
    assert.equal(rule.judge(activityOf(history, 1_000, T0 + 600_000, false), undefined).fire, false);
  });

  it('with σ = 0 measures spread as one message: fires only above mean + k', () => {
    const flat = Array.from({ length: 60 }, () => 4);
    assert.equal(rule.judge(activityOf(flat, 5), undefined).fire, false, 'one extra message is not a spike');
    assert.equal(rule.judge(activityOf(flat, 7), undefined).fire, false);
    const verdict = rule.judge(activityOf(flat, 8), undefined);
    assert.equal(verdict.fire, true);
    assert.equal(verdict.z, 4);
    const silent = Array.from({ length: 60 }, () => 0);
    assert.equal(rule.judge(activityOf(silent, 3), undefined).fire, false);
    assert.equal(rule.judge(activityOf(silent, 4), undefined).fire, true);
  });

  it('stays quiet for 30 s after a detection, then fires again', () => {
    const fired = rule.judge(activityOf(history, 50, T0 + 600_000), undefined);
    assert.equal(fired.fire, true);
    const during = rule.judge(activityOf(history, 50, T0 + 625_000), fired.memory);
    assert.equal(during.fire, false);
    assert.deepEqual(during.memory, fired.memory, 'a suppressed spike does not extend the cooldown');
    assert.equal(rule.judge(activityOf(history, 50, T0 + 630_000), during.memory).fire, true);
  });

  it('runs as a keyed step: cooldown per channel, detections carry the judged bucket', () => {
    const h = new OperatorHarness<Bucket, Spike>((s) => detect(baseline(s), spikeRule()));
    const quiet = Array.from({ length: 61 }, (_, i) => (i % 2 === 0 ? 8 : 12));
    // Channel a spikes at buckets 61 and 62 (cooldown suppresses 62); channel b spikes at 62.
    const a = bucketsOf([...quiet, 40, 40], 'a');
    const b = bucketsOf([...quiet, 10, 40], 'b');
    const all = [...a, ...b].sort((x, y) => x.bucket_end - y.bucket_end);
    h.pushAll(
      all,
      all.map((x) => x.bucket_end - 1),
    );
    const spikes = h.values();
    assert.deepEqual(
      spikes.map((s) => [s.broadcaster_login, s.bucket_start - T0]),
      [
        ['a', 61 * 5_000],
        ['b', 62 * 5_000],
      ],
    );
    const first = spikes[0]!;
    assert.equal(first.detected_at, first.bucket_end);
    assert.equal(first.count, 40);
    assert.equal(first.history.length, 60);
  });
});
