import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, settle } from '../../pipeline/time/clock.ts';
import { MemoryTopic } from './memory-topic.ts';
import { memoryTopicSink } from './memory-topic-sink.ts';

interface Msg {
  readonly channel: string;
  readonly n: number;
}

const ctx = { clock: new ManualClock() };

describe('memoryTopicSink', () => {
  it('describes the topic', () => {
    assert.equal(memoryTopicSink(new MemoryTopic('out')).describe(), 'memory-topic out (4 partitions)');
  });

  it('appends synchronously by key while there is room', async () => {
    const topic = new MemoryTopic<Msg>('t', { partitions: 4 });
    const writer = await memoryTopicSink(topic, { key: (m: Msg) => m.channel }).open(ctx);
    const records = [
      { channel: 'a', n: 1 },
      { channel: 'b', n: 2 },
      { channel: 'a', n: 3 },
    ];
    assert.equal(writer.write(records, [0, 0, 0]), undefined);
    const byPartition = [0, 1, 2, 3].map((p) => topic.endOffset(p));
    topic.attach('check');
    const read = byPartition.map((_, p) => topic.read('check', p, 10).records);
    for (const channel of ['a', 'b']) {
      const expected = records.filter((m) => m.channel === channel);
      assert.deepEqual(
        read[topic.partitionFor(channel)]!.filter((m) => m.channel === channel),
        expected,
        `${channel} in its key's partition, in order`,
      );
    }
    assert.equal(read.flat().length, 3);
  });

  it('returns a promise only when a consumer lags, resolving once it reads, and keeps order', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 2 });
    topic.attach('g');
    const writer = await memoryTopicSink(topic).open(ctx);
    const first = writer.write([1, 2, 3], [0, 0, 0]);
    assert.ok(first instanceof Promise, 'the third record must wait');
    assert.equal(topic.endOffset(0), 2);
    let firstDone = false;
    first.then(() => (firstDone = true));
    const second = writer.write([4], [0]);
    assert.ok(second instanceof Promise, 'a write behind a waiting one waits too, to keep order');
    let secondDone = false;
    second.then(() => (secondDone = true));
    await settle();
    assert.equal(firstDone, false);

    assert.deepEqual(topic.read('g', 0, 1).records, [1]);
    await settle();
    assert.equal(firstDone, true);
    assert.equal(secondDone, false);

    assert.deepEqual(topic.read('g', 0, 10).records, [2, 3]);
    await settle();
    assert.equal(secondDone, true);
    assert.deepEqual(topic.read('g', 0, 10).records, [4]);
    assert.equal(writer.write([5], [0]), undefined, 'back to the synchronous path');
    await writer.flush?.();
    await writer.close();
  });

  it('makes flush wait for a write still waiting for capacity', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 1 });
    topic.attach('g');
    const writer = await memoryTopicSink(topic).open(ctx);
    writer.write([1, 2], [0, 0]);
    let flushed = false;
    Promise.resolve(writer.flush?.()).then(() => (flushed = true));
    await settle();
    assert.equal(flushed, false);
    topic.read('g', 0, 1);
    await settle();
    assert.equal(flushed, true);
  });
});
