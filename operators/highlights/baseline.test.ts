import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mean, standardDeviation } from 'simple-statistics';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import type { Bucket } from '../chat/bucket-counts.ts';
import { type Activity, baseline, describe as stats } from './baseline.ts';
import { BUCKET, bucketsOf, T0 } from './testing.ts';

function run(buckets: readonly Bucket[]): Activity[] {
  const h = new OperatorHarness<Bucket, Activity>((s) => baseline(s));
  h.pushAll(
    buckets,
    buckets.map((b) => b.bucket_end - 1),
  );
  return h.values();
}

describe('baseline', () => {
  it('never includes the bucket being judged', () => {
    const out = run(bucketsOf([2, 4, 100]));
    assert.deepEqual(out[2]?.history, [2, 4]);
    assert.equal(out[2]?.baseline_mean, 3);
    assert.equal(out[2]?.baseline_stddev, 1);
    assert.deepEqual(out[0]?.history, []);
    assert.equal(out[0]?.baseline_mean, null);
  });

  it('holds exactly the trailing 5 minutes: 60 buckets of 5 s', () => {
    const counts = Array.from({ length: 70 }, (_, i) => i);
    const out = run(bucketsOf(counts));
    assert.deepEqual(out[69]?.history, counts.slice(9, 69));
  });

  it('is warm only after 5 minutes of observed event time, counting quiet (zero) buckets', () => {
    // A sparse channel: one message at the start, then zeros (as the bucket counter reports them).
    const counts = [1, ...Array.from({ length: 70 }, () => 0)];
    const out = run(bucketsOf(counts));
    const firstWarm = out.findIndex((a) => a.warm);
    assert.equal(out[firstWarm]!.bucket_start - T0, 300_000);
    assert.equal(firstWarm, 60);
  });

  it('gates on when the channel was first seen, not on the first full bucket', () => {
    // First message 3 s into the first bucket: the bucket at 5:00 starts 4:57 after it.
    const out = run(
      bucketsOf(
        Array.from({ length: 70 }, () => 1),
        'a',
        T0 + 3_000,
      ),
    );
    assert.equal(out.find((a) => a.warm)!.bucket_start - T0, 300_000 + BUCKET);
  });

  it('starts a fresh history when the counter restarted the channel (a gap in the buckets)', () => {
    const first = bucketsOf([5, 5, 5]);
    const later = bucketsOf([1, 2], 'a', T0 + 3_600_000, 3_600_000);
    const out = run([...first, ...later]);
    assert.deepEqual(out[3]?.history, []);
    assert.deepEqual(out[4]?.history, [1]);
  });
});

describe('baseline statistics', () => {
  it('are bit for bit those of simple-statistics, whole counts or not', () => {
    // A fixed linear congruential sequence: the same arrays every run.
    let seed = 12_345;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 2_000; i++) {
      const n = 1 + Math.floor(next() * 60);
      const whole = i % 2 === 0;
      const values = Array.from({ length: n }, () => (whole ? Math.floor(next() * 40) : next() * 1e3 - 500));
      assert.deepEqual(stats(values), { mean: mean(values), stddev: standardDeviation(values) }, `${values}`);
    }
    assert.equal(stats([]), undefined);
  });
});
