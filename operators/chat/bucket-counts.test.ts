import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import { type Bucket, bucketCounts } from './bucket-counts.ts';

interface Msg {
  broadcaster_login: string;
  broadcaster_id?: number;
  ts: number;
}

const T0 = 1_700_000_000_000; // a multiple of 5 s

function harness(options: Parameters<typeof bucketCounts>[1] = {}) {
  return new OperatorHarness<Msg, Bucket>((s) =>
    bucketCounts(
      s.keyBy((m) => m.broadcaster_login),
      options,
    ),
  );
}

function push(h: OperatorHarness<Msg, Bucket>, login: string, offsets: number[]) {
  for (const o of offsets) h.push({ broadcaster_login: login, ts: T0 + o }, T0 + o);
}

const counts = (h: OperatorHarness<Msg, Bucket>, login = 'a') =>
  h
    .values()
    .filter((b) => b.broadcaster_login === login)
    .map((b) => [b.bucket_start - T0, b.count]);

describe('bucketCounts', () => {
  it('reports a bucket in which nothing arrived as 0, closed by the watermark alone', () => {
    const h = harness();
    push(h, 'a', [100, 200, 4_999]);
    h.watermark(T0 + 19_999);
    assert.deepEqual(counts(h), [
      [0, 3],
      [5_000, 0],
      [10_000, 0],
      [15_000, 0],
    ]);
  });

  it('closes a bucket only when the watermark has passed its last millisecond', () => {
    const h = harness();
    push(h, 'a', [1_000]);
    h.watermark(T0 + 4_998);
    assert.deepEqual(counts(h), []);
    h.watermark(T0 + 4_999);
    assert.deepEqual(counts(h), [[0, 1]]);
  });

  it('counts messages of later buckets that arrive before the earlier bucket closes', () => {
    const h = harness();
    push(h, 'a', [1_000, 6_000, 7_000, 2_000, 12_000]);
    h.watermark(T0 + 14_999);
    assert.deepEqual(counts(h), [
      [0, 2],
      [5_000, 2],
      [10_000, 1],
    ]);
  });

  it('drops a message for a bucket already reported', () => {
    const h = harness();
    push(h, 'a', [1_000]);
    h.watermark(T0 + 4_999);
    push(h, 'a', [2_000, 6_000]);
    h.watermark(T0 + 9_999);
    assert.deepEqual(counts(h), [
      [0, 1],
      [5_000, 1],
    ]);
  });

  it('keeps channels apart and records since when each was first seen', () => {
    const h = harness();
    push(h, 'a', [1_000]);
    push(h, 'b', [7_000]);
    h.watermark(T0 + 9_999);
    assert.deepEqual(counts(h, 'a'), [
      [0, 1],
      [5_000, 0],
    ]);
    assert.deepEqual(counts(h, 'b'), [[5_000, 1]]);
    assert.equal(h.values().find((b) => b.broadcaster_login === 'b')?.since, T0 + 7_000);
  });

  it('stops a channel after the quiet time and starts it afresh when chat returns', () => {
    const h = harness({ quietStopMs: 15_000 });
    push(h, 'a', [1_000]);
    h.watermark(T0 + 60_000);
    // Buckets 0, 5, 10 and 15 s: the last ends 20 s in, 19 s after the message ≥ 15 s of quiet.
    assert.deepEqual(counts(h), [
      [0, 1],
      [5_000, 0],
      [10_000, 0],
      [15_000, 0],
    ]);
    assert.equal(h.pendingTimers()['bucket-counts'], undefined, 'no timer left for a stopped channel');
    h.clearOutput();
    push(h, 'a', [62_000]);
    h.watermark(T0 + 64_999);
    assert.deepEqual(counts(h), [[60_000, 1]]);
    assert.equal(h.values()[0]?.since, T0 + 62_000);
  });

  it('at the end of input (watermark +∞) closes the open buckets and invents no zeros after the last message', () => {
    const h = harness();
    push(h, 'a', [1_000, 11_000]);
    h.watermark(Number.POSITIVE_INFINITY);
    assert.deepEqual(counts(h), [
      [0, 1],
      [5_000, 0],
      [10_000, 1],
    ]);
  });

  it('carries the broadcaster id when messages have one', () => {
    const h = harness();
    h.push({ broadcaster_login: 'a', broadcaster_id: 42, ts: T0 + 1 }, T0 + 1);
    h.watermark(T0 + 4_999);
    assert.equal(h.values()[0]?.broadcaster_id, 42);
  });

  it('survives a snapshot and restore mid-bucket', () => {
    const h = harness();
    push(h, 'a', [1_000, 2_000]);
    const snap = h.snapshot();
    const restored = harness().restore(snap);
    push(restored, 'a', [3_000]);
    restored.watermark(T0 + 9_999);
    assert.deepEqual(counts(restored), [
      [0, 3],
      [5_000, 0],
    ]);
  });

  it('refuses a quiet stop shorter than a bucket', () => {
    assert.throws(() => harness({ quietStopMs: 1_000 }), /quiet stop/);
  });
});
