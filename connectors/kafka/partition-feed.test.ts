import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaRecord } from './driver.ts';
import { FEED_CAPACITY, PartitionFeed } from './partition-feed.ts';

const records = (from: number, n: number): KafkaRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    partition: 0,
    offset: from + i,
    key: null,
    value: Buffer.from([i]),
    timestamp: 0,
  }));

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('PartitionFeed', () => {
  it('hands records out in order, in pieces no larger than asked', () => {
    const feed = new PartitionFeed(0);
    void feed.push(records(0, 5));
    void feed.push(records(5, 3));
    assert.deepEqual(
      feed.take(3).map((r) => r.offset),
      [0, 1, 2],
    );
    assert.deepEqual(
      feed.take(10).map((r) => r.offset),
      [3, 4],
    );
    assert.deepEqual(
      feed.take(10).map((r) => r.offset),
      [5, 6, 7],
    );
    assert.equal(feed.take(10).length, 0);
  });

  it('makes the consumer wait while it is full, and lets it go on once a batch is taken', async () => {
    const feed = new PartitionFeed(0);
    for (let i = 0; i < FEED_CAPACITY - 1; i++)
      assert.equal(await settled(feed.push(records(i * 2, 2))), true);
    const full = feed.push(records(100, 2));
    assert.equal(await settled(full), false);
    feed.take(2);
    assert.equal(await settled(full), true);
  });

  it('after a seek drops what it held and anything older that still arrives', () => {
    const feed = new PartitionFeed(0);
    void feed.push(records(10, 5));
    feed.seek(3);
    assert.equal(feed.size, 0);
    void feed.push(records(0, 6)); // fetched before the seek took effect: 0..5
    assert.deepEqual(
      feed.take(10).map((r) => r.offset),
      [3, 4, 5],
    );
  });

  it('wakes a waiting taker when records arrive', async () => {
    const feed = new PartitionFeed(0);
    const ready = feed.ready();
    assert.equal(await settled(ready), false);
    void feed.push(records(0, 1));
    assert.equal(await settled(ready), true);
  });

  it('once frozen hands out nothing, releases the consumer, and wakes its taker once', async () => {
    const feed = new PartitionFeed(0);
    const ready = feed.ready();
    for (let i = 0; i < FEED_CAPACITY; i++) void feed.push(records(i, 1));
    const blocked = feed.push(records(50, 1));
    feed.freeze();
    assert.equal(await settled(blocked), true);
    assert.equal(await settled(ready), true);
    assert.equal(feed.take(10).length, 0);
    assert.equal(await settled(feed.push(records(60, 1))), true);
    assert.equal(feed.take(10).length, 0);
    assert.equal(await settled(feed.ready()), false);
  });
});
