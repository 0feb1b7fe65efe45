import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from '../../pipeline/time/clock.ts';
import { MemoryTopic } from './memory-topic.ts';

/** Tracks whether a promise has settled yet, without waiting on it. */
function track<T>(promise: Promise<T>): { done: () => boolean; value: () => T | undefined } {
  let done = false;
  let value: T | undefined;
  promise.then(
    (v) => {
      done = true;
      value = v;
    },
    () => {
      done = true;
    },
  );
  return { done: () => done, value: () => value };
}

describe('MemoryTopic', () => {
  it('describes itself with its partition count', () => {
    assert.equal(new MemoryTopic('chat-messages').describe(), 'memory-topic chat-messages (4 partitions)');
    assert.equal(new MemoryTopic('one', { partitions: 1 }).describe(), 'memory-topic one (1 partition)');
  });

  it('rejects a non-positive partition count or capacity', () => {
    assert.throws(() => new MemoryTopic('t', { partitions: 0 }), /partitions must be a positive integer/);
    assert.throws(() => new MemoryTopic('t', { capacity: 1.5 }), /capacity must be a positive integer/);
  });

  it('sends a key to the same partition every time, in every topic of the same size', () => {
    const a = new MemoryTopic<string>('a', { partitions: 8 });
    const b = new MemoryTopic<string>('b', { partitions: 8 });
    for (const key of ['xqc', 'pokimane', 'shroud', 42, '42']) {
      const first = a.append('m', key).partition;
      assert.equal(a.append('m', key).partition, first);
      assert.equal(b.partitionFor(key), first);
    }
    assert.equal(a.partitionFor(42), a.partitionFor('42'));
  });

  it('numbers offsets per partition from 0 and spreads keyless records round-robin', () => {
    const topic = new MemoryTopic<string>('t', { partitions: 3 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((r) => topic.append(r));
    assert.deepEqual(results, [
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 2, offset: 0 },
      { partition: 0, offset: 1 },
      { partition: 1, offset: 1 },
    ]);
    assert.deepEqual(
      [0, 1, 2].map((p) => topic.endOffset(p)),
      [2, 2, 1],
    );
  });

  it('reads a partition in offset order and moves the group position', () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1 });
    for (let i = 0; i < 5; i++) topic.append(i);
    topic.attach('g');
    assert.deepEqual(topic.read('g', 0, 3), { records: [0, 1, 2], next: 3 });
    assert.deepEqual(topic.read('g', 0, 3), { records: [3, 4], next: 5 });
    assert.deepEqual(topic.read('g', 0, 3), { records: [], next: 5 });
  });

  describe('appendAsync backpressure', () => {
    it('waits while the slowest group lags by capacity, and appends in call order once it reads', async () => {
      const topic = new MemoryTopic<string>('t', { partitions: 1, capacity: 2 });
      topic.attach('fast');
      topic.attach('slow');
      assert.deepEqual(await topic.appendAsync('a'), { partition: 0, offset: 0 });
      assert.deepEqual(await topic.appendAsync('b'), { partition: 0, offset: 1 });
      topic.read('fast', 0, 10);
      const c = track(topic.appendAsync('c'));
      const d = track(topic.appendAsync('d'));
      await settle();
      assert.equal(c.done(), false, 'the slow group lags 2 = capacity, so c waits');
      assert.equal(topic.tryAppend('x'), undefined, 'tryAppend does not jump the queue');
      assert.equal(topic.endOffset(0), 2);

      topic.read('slow', 0, 1);
      await settle();
      assert.deepEqual(c.value(), { partition: 0, offset: 2 });
      assert.equal(d.done(), false);

      topic.read('slow', 0, 10);
      await settle();
      assert.deepEqual(d.value(), { partition: 0, offset: 3 });
      assert.deepEqual(topic.read('fast', 0, 10).records, ['c', 'd']);
    });

    it('lets a producer append once a lagging group is removed', async () => {
      const topic = new MemoryTopic<string>('t', { partitions: 1, capacity: 1 });
      topic.attach('g');
      topic.append('a');
      const b = track(topic.appendAsync('b'));
      await settle();
      assert.equal(b.done(), false);
      topic.detach('g');
      topic.removeGroup('g');
      await settle();
      assert.deepEqual(b.value(), { partition: 0, offset: 1 });
    });

    it('never waits with no group registered', async () => {
      const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 2 });
      for (let i = 0; i < 5; i++) assert.equal((await topic.appendAsync(i)).offset, i);
    });

    it('rejects appends waiting for capacity when the topic closes', async () => {
      const topic = new MemoryTopic<string>('t', { partitions: 1, capacity: 1 });
      topic.attach('g');
      topic.append('a');
      const pending = topic.appendAsync('b');
      topic.close();
      await assert.rejects(pending, /memory-topic t was closed before the record could be appended/);
      assert.throws(() => topic.append('c'), /memory-topic t is closed/);
    });
  });

  describe('retention', () => {
    /** Appends 20 000 records over 2 partitions while groups a and b read every 10th step; returns the most ever held. */
    function run(topic: MemoryTopic<{ i: number }>, commit: boolean): number {
      topic.attach('a');
      topic.attach('b');
      let most = 0;
      for (let i = 0; i < 20_000; i++) {
        topic.append({ i }, i);
        if (i % 10 === 9) {
          for (const p of [0, 1]) {
            for (const group of ['a', 'b']) {
              const { next } = topic.read(group, p, 100);
              if (commit) topic.commit(group, p, next);
            }
          }
        }
        most = Math.max(most, topic.retained());
      }
      return most;
    }

    it('drops committed records, so memory holds only what is not yet read', () => {
      const topic = new MemoryTopic<{ i: number }>('t', { partitions: 2, capacity: 50 });
      const most = run(topic, true);
      assert.ok(most <= 10, `held at most ${most} records`);
      assert.equal(topic.retained(), 0);
      assert.equal(topic.earliestOffset(0) + topic.earliestOffset(1), 20_000);
    });

    it('keeps at most `capacity` read records per partition for a group that never commits', () => {
      const topic = new MemoryTopic<{ i: number }>('t', { partitions: 2, capacity: 50 });
      const most = run(topic, false);
      assert.ok(most <= 2 * 50 + 10, `held at most ${most} records`);
      assert.deepEqual([topic.earliestOffset(0), topic.earliestOffset(1)], [10_000 - 50, 10_000 - 50]);
    });

    it('is held back by the slowest group', () => {
      const topic = new MemoryTopic<number>('t', { partitions: 1 });
      topic.attach('a');
      topic.attach('b');
      for (let i = 0; i < 10; i++) topic.append(i);
      topic.commit('a', 0, topic.read('a', 0, 10).next);
      topic.commit('b', 0, topic.read('b', 0, 4).next);
      topic.append(10);
      assert.equal(topic.earliestOffset(0), 4);
      assert.equal(topic.retained(), 7);
    });

    it('keeps records after the committed offset even once read, so a reader can resume there', () => {
      const topic = new MemoryTopic<number>('t', { partitions: 1 });
      topic.attach('g');
      for (let i = 0; i < 10; i++) topic.append(i);
      topic.read('g', 0, 10);
      topic.commit('g', 0, 6);
      topic.append(10);
      assert.equal(topic.earliestOffset(0), 6);
      topic.detach('g');
      topic.attach('g', new Map([[0, 6]]));
      assert.deepEqual(topic.read('g', 0, 100).records, [6, 7, 8, 9, 10]);
    });

    it('keeps the latest `capacity` records per partition while no group is registered', () => {
      const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 3 });
      for (let i = 0; i < 10; i++) topic.append(i);
      assert.equal(topic.retained(), 3);
      topic.attach('late');
      assert.deepEqual(topic.read('late', 0, 100), { records: [7, 8, 9], next: 10 });
    });

    it('refuses to resume at a dropped offset or beyond the end', () => {
      const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 3 });
      for (let i = 0; i < 10; i++) topic.append(i);
      assert.throws(
        () => topic.attach('g', new Map([[0, 2]])),
        /cannot resume partition 0 at offset 2, it holds offsets 7\.\.10/,
      );
      assert.throws(() => topic.attach('g', new Map([[0, 11]])), /offset 11/);
      assert.throws(() => topic.attach('g', new Map([[5, 0]])), /has no partition 5/);
    });
  });

  it('allows one open reader per group', () => {
    const topic = new MemoryTopic<number>('t');
    topic.attach('g');
    assert.throws(() => topic.attach('g'), /group g already has an open reader/);
    assert.throws(() => topic.removeGroup('g'), /still has an open reader/);
    topic.detach('g');
    topic.attach('g');
  });

  it('resolves nextAppend on the next append or on close, not before', async () => {
    const topic = new MemoryTopic<number>('t');
    const first = track(topic.nextAppend());
    await settle();
    assert.equal(first.done(), false);
    topic.append(1);
    await settle();
    assert.equal(first.done(), true);

    const second = track(topic.nextAppend());
    await settle();
    assert.equal(second.done(), false);
    topic.close();
    await settle();
    assert.equal(second.done(), true);
  });
});
