/**
 * The contract of connectors/kafka/driver.ts, checked against a real broker for each driver: the
 * partition tasks above the drivers must not be able to tell kafkajs from node-rdkafka, so both pass
 * one suite. Every test works in topics and groups of its own (random names) and cleans nothing up:
 * the test broker is throwaway.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { kafkaBrokers } from '../../test/services.ts';
import {
  type AdminDriver,
  type ConsumerDriver,
  type ConsumerListener,
  DRIVER_NAMES,
  type DriverName,
  type KafkaDriver,
  type KafkaRecord,
  loadDriver,
  type OutgoingRecord,
} from './driver.ts';

/** The broker's minimum: a group notices a closed or dead member quickly. */
const SESSION_TIMEOUT_MS = 6_000;

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  if (!(await holdsWithin(condition, timeoutMs))) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Whether `condition` comes to hold within `ms`, polled every 50 ms. */
async function holdsWithin(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Orders the listener calls of several consumers of one test. */
let sequence = 0;

interface ListenerEvent {
  readonly kind: 'assigned' | 'revoking';
  readonly partitions: readonly number[];
  readonly at: number;
}

/** A listener that keeps what it is told; `onBatch` replaces the immediate answer to a batch. */
class Recorder implements ConsumerListener {
  readonly byPartition = new Map<number, KafkaRecord[]>();
  readonly events: ListenerEvent[] = [];
  assignment: readonly number[] = [];
  failure: Error | undefined;
  onBatch: ((partition: number, records: KafkaRecord[]) => Promise<void>) | undefined;

  assigned(partitions: readonly number[]): Promise<void> {
    this.assignment = [...partitions];
    this.events.push({ kind: 'assigned', partitions: [...partitions], at: ++sequence });
    return Promise.resolve();
  }

  revoking(partitions: readonly number[]): Promise<void> {
    this.events.push({ kind: 'revoking', partitions: [...partitions], at: ++sequence });
    return Promise.resolve();
  }

  batch(partition: number, records: KafkaRecord[]): Promise<void> {
    let list = this.byPartition.get(partition);
    if (list === undefined) {
      list = [];
      this.byPartition.set(partition, list);
    }
    list.push(...records);
    return this.onBatch?.(partition, records) ?? Promise.resolve();
  }

  failed(error: Error): void {
    this.failure = error;
  }

  get count(): number {
    let n = 0;
    for (const list of this.byPartition.values()) n += list.length;
    return n;
  }

  offsets(partition: number): number[] {
    return (this.byPartition.get(partition) ?? []).map((r) => r.offset);
  }

  all(): KafkaRecord[] {
    return [...this.byPartition.values()].flat();
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function values(count: number, prefix = 'v'): OutgoingRecord[] {
  return range(0, count).map((i) => ({ key: `k${i}`, value: Buffer.from(`${prefix}${i}`) }));
}

for (const name of DRIVER_NAMES) {
  describe(name, () => {
    let brokers: string[];
    let driver: KafkaDriver;

    before(async () => {
      brokers = kafkaBrokers();
      driver = await loadDriver(name);
    });

    async function withAdmin<T>(use: (admin: AdminDriver) => Promise<T>): Promise<T> {
      const admin = driver.admin({ brokers });
      try {
        return await use(admin);
      } finally {
        await admin.close();
      }
    }

    async function createTopic(partitions: number): Promise<string> {
      const topic = unique(`driver-${name}`);
      await withAdmin((admin) => admin.createTopics([{ topic, partitions }]));
      return topic;
    }

    async function produce(topic: string, records: readonly OutgoingRecord[], using = driver): Promise<void> {
      const producer = using.producer({ brokers });
      await producer.connect();
      try {
        await producer.send(topic, records);
      } finally {
        await producer.close();
      }
    }

    function consumer(topic: string, groupId: string): ConsumerDriver {
      return driver.consumer({ brokers, topic, groupId, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    }

    /** Starts a consumer of a group of its own and waits until it has `count` records. */
    async function consumeAll(topic: string, count: number): Promise<Recorder> {
      const recorder = new Recorder();
      const c = consumer(topic, unique('all'));
      await c.start(recorder);
      try {
        await waitFor(() => recorder.count >= count, `${count} records of ${topic}`);
      } finally {
        await c.close();
      }
      assert.equal(recorder.failure, undefined);
      return recorder;
    }

    test('places a key in the same partition as the other driver, and keeps the order of its records', async () => {
      const other = await loadDriver(DRIVER_NAMES.find((n) => n !== name) as DriverName);
      const [mine, theirs] = await Promise.all([createTopic(6), createTopic(6)]);
      // 100 keys with 10 records each; the value is the key's sequence number.
      const records = range(0, 1_000).map((i) => ({
        key: `key-${i % 100}`,
        value: Buffer.from(String(Math.floor(i / 100))),
      }));
      await Promise.all([produce(mine, records), produce(theirs, records, other)]);
      const [a, b] = await Promise.all([consumeAll(mine, 1_000), consumeAll(theirs, 1_000)]);
      const partitionOf = (recorder: Recorder) =>
        new Map(recorder.all().map((r) => [r.key!.toString(), r.partition] as const));
      const ours = partitionOf(a);
      assert.equal(ours.size, 100);
      assert.deepEqual(ours, partitionOf(b));
      assert.ok(new Set(ours.values()).size > 1, 'the keys spread over several partitions');
      for (const recorder of [a, b]) {
        const sequences = new Map<string, number[]>();
        for (const r of recorder.all()) {
          const key = r.key!.toString();
          assert.equal(r.partition, ours.get(key), `every record of ${key} is in one partition`);
          sequences.set(key, [...(sequences.get(key) ?? []), Number(r.value!.toString())]);
        }
        for (const [key, seen] of sequences) {
          assert.deepEqual(seen, range(0, 10), `the records of ${key} in order`);
        }
      }
    });

    test('a group member gets every record once, commits, and a successor starts after the commit', async () => {
      const topic = await createTopic(3);
      const groupId = unique('group');
      await produce(topic, values(300));
      const first = new Recorder();
      const c1 = consumer(topic, groupId);
      await c1.start(first);
      try {
        await waitFor(() => first.count >= 300, '300 records');
        assert.deepEqual(first.assignment, [0, 1, 2]);
        const ends = await withAdmin((admin) => admin.endOffsets(topic));
        let total = 0;
        for (const [partition, end] of ends) {
          assert.deepEqual(first.offsets(partition), range(0, end), `partition ${partition} once, in order`);
          total += end;
        }
        assert.equal(total, 300);
        for (const r of first.all()) {
          assert.ok(
            r.timestamp > Date.now() - 120_000 && r.timestamp <= Date.now(),
            'timestamps are epoch ms',
          );
        }
        await c1.commit(ends);
        const committed = await withAdmin((admin) => admin.committed(groupId, topic));
        assert.deepEqual(new Map([...committed].map(([p, c]) => [p, c.offset])), ends);
      } finally {
        await c1.close();
      }
      assert.equal(first.failure, undefined);

      await produce(topic, values(30, 'new'));
      const second = new Recorder();
      const c2 = consumer(topic, groupId);
      await c2.start(second);
      try {
        await waitFor(() => second.count >= 30, 'the 30 new records');
        assert.deepEqual(
          second
            .all()
            .map((r) => r.value!.toString())
            .sort(),
          values(30, 'new')
            .map((r) => r.value!.toString())
            .sort(),
        );
      } finally {
        await c2.close();
      }
      assert.equal(second.failure, undefined);
    });

    test('seek re-delivers from the offset sought', async () => {
      const topic = await createTopic(1);
      await produce(topic, values(20));
      const recorder = new Recorder();
      const c = consumer(topic, unique('seek'));
      await c.start(recorder);
      try {
        await waitFor(() => recorder.count >= 20, '20 records');
        assert.deepEqual(recorder.offsets(0), range(0, 20));
        recorder.byPartition.clear();
        c.seek(0, 5);
        await waitFor(() => recorder.count >= 15, 'the records from offset 5');
        assert.deepEqual(recorder.offsets(0), range(5, 20));
      } finally {
        await c.close();
      }
      assert.equal(recorder.failure, undefined);
    });

    test('a seek made while partitions are assigned is where the partition starts', async () => {
      const topic = await createTopic(1);
      await produce(topic, values(20));
      const recorder = new Recorder();
      const c = consumer(topic, unique('seek-assigned'));
      const assigned = recorder.assigned.bind(recorder);
      recorder.assigned = async (partitions) => {
        await assigned(partitions);
        for (const p of partitions) c.seek(p, 12);
      };
      await c.start(recorder);
      try {
        await waitFor(() => recorder.offsets(0).at(-1) === 19, 'the last record');
        const offsets = recorder.offsets(0);
        // kafkajs may hand out what it fetched before the seek; after it, 12 on comes once, in order.
        assert.deepEqual(offsets.slice(offsets.lastIndexOf(12)), range(12, 20));
        if (name === 'rdkafka') assert.deepEqual(offsets, range(12, 20));
      } finally {
        await c.close();
      }
      assert.equal(recorder.failure, undefined);
    });

    test('two members split the partitions, and the one left takes them all', async () => {
      const topic = await createTopic(4);
      const groupId = unique('split');
      const a = new Recorder();
      const b = new Recorder();
      const ca = consumer(topic, groupId);
      const cb = consumer(topic, groupId);
      try {
        await ca.start(a);
        await waitFor(() => a.assignment.length === 4, 'the first member to get all partitions');
        await cb.start(b);
        await waitFor(
          () =>
            a.assignment.length > 0 &&
            b.assignment.length > 0 &&
            a.assignment.length + b.assignment.length === 4,
          'the partitions to be split',
        );
        assert.deepEqual([...a.assignment, ...b.assignment].sort(), [0, 1, 2, 3]);
        const bGot = b.assignment;
        await cb.close();
        await waitFor(() => a.assignment.length === 4, 'the member left to get all partitions');
        if (name === 'rdkafka') {
          // Each partition was revoked by its owner before its new owner was told it had it.
          const firstTold = (r: Recorder, p: number) =>
            r.events.find((e) => e.kind === 'assigned' && e.partitions.includes(p))!.at;
          const revokedAt = (r: Recorder, p: number, before: number) =>
            r.events.findLast((e) => e.kind === 'revoking' && e.partitions.includes(p) && e.at < before);
          for (const p of bGot) assert.ok(revokedAt(a, p, firstTold(b, p)), `a revoked ${p} before b got it`);
          const aGotAll = a.events.findLast((e) => e.kind === 'assigned')!.at;
          for (const p of bGot) assert.ok(revokedAt(b, p, aGotAll), `b revoked ${p} before a got it back`);
        }
      } finally {
        await Promise.all([ca.close(), cb.close()]);
      }
      assert.equal(a.failure, undefined);
      assert.equal(b.failure, undefined);
    });

    test('a batch not yet done holds back that partition (backpressure)', async () => {
      const topic = await createTopic(1);
      await produce(topic, values(10, 'first'));
      const recorder = new Recorder();
      let pending = 0;
      let overlapping = 0;
      let release: (() => void) | undefined;
      recorder.onBatch = () => {
        if (pending > 0) overlapping++;
        pending++;
        if (release !== undefined) {
          pending--;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          release = () => {
            pending--;
            resolve();
          };
        });
      };
      const c = consumer(topic, unique('slow'));
      await c.start(recorder);
      try {
        await waitFor(() => release !== undefined, 'the first batch');
        const first = recorder.count;
        await produce(topic, values(10, 'second'));
        // The driver had 2 s (eight fetch waits) to hand out the new records while the batch was pending.
        assert.equal(
          await holdsWithin(() => recorder.count > first, 2_000),
          false,
          'nothing more while pending',
        );
        release!();
        await waitFor(() => recorder.count >= 20, 'the records after the batch was done');
        assert.deepEqual(recorder.offsets(0), range(0, 20));
        assert.equal(overlapping, 0);
      } finally {
        await c.close();
      }
      assert.equal(recorder.failure, undefined);
    });

    test('idempotent sends, and transactions: an aborted one is never read, a committed one is', async () => {
      const topic = await createTopic(1);
      const idempotent = driver.producer({ brokers });
      await idempotent.connect();
      try {
        await idempotent.send(topic, values(5, 'plain'));
      } finally {
        await idempotent.close();
      }
      const producer = driver.producer({ brokers, transactionalId: unique('tx') });
      await producer.connect();
      try {
        const thrown = new Error('changed my mind');
        await assert.rejects(
          producer.transaction!(async (tx) => {
            await tx.send(topic, values(5, 'aborted'));
            throw thrown;
          }),
          thrown,
        );
        await producer.transaction!((tx) => tx.send(topic, values(5, 'committed')));
      } finally {
        await producer.close();
      }
      const recorder = await consumeAll(topic, 10);
      const seen = recorder.all().map((r) => r.value!.toString());
      assert.deepEqual(seen, [
        ...range(0, 5).map((i) => `plain${i}`),
        ...range(0, 5).map((i) => `committed${i}`),
      ]);
    });

    test('a transaction commits group offsets with their metadata, only if it commits (kafkajs)', async (t) => {
      const topic = await createTopic(2);
      const groupId = unique('group');
      const producer = driver.producer({ brokers, transactionalId: unique('tx') });
      await producer.connect();
      try {
        if (driver.name === 'rdkafka') {
          await assert.rejects(
            producer.transaction!((tx) => tx.sendOffsets(groupId, topic, new Map([[0, { offset: 1 }]]))),
            /use --kafka-driver kafkajs for --exactly-once/,
          );
          t.diagnostic('node-rdkafka refuses offsets in a transaction, as documented');
          return;
        }
        await assert.rejects(
          producer.transaction!(async (tx) => {
            await tx.sendOffsets(groupId, topic, new Map([[0, { offset: 7, metadata: 'aborted' }]]));
            throw new Error('no');
          }),
        );
        assert.deepEqual(await withAdmin((admin) => admin.committed(groupId, topic)), new Map());
        await producer.transaction!(async (tx) => {
          await tx.send(topic, values(3, 'out'));
          await tx.sendOffsets(
            groupId,
            topic,
            new Map([
              [0, { offset: 12, metadata: 'checkpoint 4' }],
              [1, { offset: 3 }],
            ]),
          );
        });
      } finally {
        await producer.close();
      }
      const committed = await withAdmin((admin) => admin.committed(groupId, topic));
      assert.deepEqual(committed.get(0), { offset: 12, metadata: 'checkpoint 4' });
      assert.equal(committed.get(1)?.offset, 3);
      assert.ok(!committed.get(1)?.metadata, 'no metadata where none was given');
    });

    test('admin: end offsets, committed offsets of a new group, topics created once, a missing topic', async () => {
      const topic = await createTopic(1);
      await produce(topic, values(42));
      await withAdmin(async (admin) => {
        assert.deepEqual(await admin.endOffsets(topic), new Map([[0, 42]]));
        assert.deepEqual(await admin.committed(unique('nobody'), topic), new Map());
        await admin.createTopics([{ topic, partitions: 3 }]);
        assert.deepEqual(await admin.partitions(topic), [0]);
        const missing = unique('missing');
        await assert.rejects(admin.partitions(missing), { message: `topic "${missing}" does not exist` });
      });
    });
  });
}
