import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, settle } from '../../pipeline/time/clock.ts';
import type { Poll, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import { MemoryTopic } from './memory-topic.ts';
import { memoryTopicSource } from './memory-topic-source.ts';

async function open<T>(
  topic: MemoryTopic<T>,
  startPositions?: ReadonlyMap<string, SourcePosition>,
  group = 'g',
): Promise<SourceReader<T>> {
  const ctx = startPositions ? { clock: new ManualClock(), startPositions } : { clock: new ManualClock() };
  return memoryTopicSource(topic, { group }).open(ctx);
}

async function poll<T>(reader: SourceReader<T>, max = 100): Promise<Poll<T>> {
  return reader.poll(max);
}

describe('memoryTopicSource', () => {
  it('describes the topic', () => {
    const topic = new MemoryTopic('chat-messages');
    assert.equal(memoryTopicSource(topic).describe(), 'memory-topic chat-messages (4 partitions)');
  });

  it('reads one partition per poll with the next offset as position, taking partitions in turn', async () => {
    const topic = new MemoryTopic<string>('t', { partitions: 3 });
    for (const r of ['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2']) topic.append(r);
    const reader = await open(topic);
    assert.deepEqual(reader.partitions(), ['0', '1', '2']);
    assert.deepEqual(await poll(reader, 2), {
      kind: 'records',
      partition: '0',
      records: ['a0', 'a1'],
      position: 2,
    });
    assert.deepEqual(await poll(reader, 2), {
      kind: 'records',
      partition: '1',
      records: ['b0', 'b1'],
      position: 2,
    });
    assert.deepEqual(await poll(reader, 2), {
      kind: 'records',
      partition: '2',
      records: ['c0', 'c1'],
      position: 2,
    });
    assert.deepEqual(await poll(reader, 2), {
      kind: 'records',
      partition: '0',
      records: ['a2'],
      position: 3,
    });
    assert.equal((await poll(reader)).kind, 'idle');
  });

  it('does not let a busy partition starve the others', async () => {
    const topic = new MemoryTopic<string>('t', { partitions: 2 });
    const keyOf = (partition: number) =>
      [...Array(100).keys()].find((k) => topic.partitionFor(k) === partition)!;
    for (let i = 0; i < 10; i++) topic.append('busy', keyOf(0));
    topic.append('quiet', keyOf(1));
    const reader = await open(topic);
    const polled = [];
    for (let i = 0; i < 4; i++) {
      const p = await poll(reader, 1);
      polled.push(p.kind === 'records' ? p.records[0] : p.kind);
    }
    assert.deepEqual(polled, ['busy', 'quiet', 'busy', 'busy']);
  });

  it('resumes from startPositions and treats absent partitions as the beginning', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 2 });
    for (let i = 0; i < 6; i++) topic.append(i);
    const reader = await open(topic, new Map<string, SourcePosition>([['0', 2]]));
    assert.deepEqual(await poll(reader), { kind: 'records', partition: '0', records: [4], position: 3 });
    assert.deepEqual(await poll(reader), {
      kind: 'records',
      partition: '1',
      records: [1, 3, 5],
      position: 3,
    });
  });

  it('accepts positions that came back from a checkpoint as strings, and rejects nonsense', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1 });
    for (let i = 0; i < 3; i++) topic.append(i);
    const reader = await open(topic, new Map<string, SourcePosition>([['0', '2']]));
    assert.deepEqual(await poll(reader), { kind: 'records', partition: '0', records: [2], position: 3 });
    await reader.close();
    await assert.rejects(
      open(topic, new Map<string, SourcePosition>([['0', 'x']])),
      /position "x" is not an offset/,
    );
    await assert.rejects(open(topic, new Map<string, SourcePosition>([['9', 0]])), /has no partition "9"/);
  });

  it('idles with a promise that resolves on the next append, then returns that record', async () => {
    const topic = new MemoryTopic<string>('t', { partitions: 2 });
    const reader = await open(topic);
    const first = await poll(reader);
    assert.equal(first.kind, 'idle');
    let woke = false;
    if (first.kind === 'idle') first.ready.then(() => (woke = true));
    await settle();
    assert.equal(woke, false, 'nothing was appended yet');
    topic.append('hello', 'k');
    await settle();
    assert.equal(woke, true);
    assert.deepEqual(await poll(reader), {
      kind: 'records',
      partition: String(topic.partitionFor('k')),
      records: ['hello'],
      position: 1,
    });
  });

  it('ends each drained partition after close, then ends', async () => {
    const topic = new MemoryTopic<string>('t', { partitions: 2 });
    topic.append('x', 0);
    const p = String(topic.partitionFor(0));
    const other = p === '0' ? '1' : '0';
    const reader = await open(topic);
    topic.close();
    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await poll(reader));
    assert.deepEqual(
      new Set(polls.slice(0, 3).map((x) => JSON.stringify(x))),
      new Set([
        JSON.stringify({ kind: 'records', partition: p, records: ['x'], position: 1 }),
        JSON.stringify({ kind: 'partition-end', partition: p }),
        JSON.stringify({ kind: 'partition-end', partition: other }),
      ]),
    );
    const recordsAt = polls.findIndex((x) => x.kind === 'records');
    const endAt = polls.findIndex((x) => x.kind === 'partition-end' && x.partition === p);
    assert.ok(recordsAt < endAt, 'a partition ends only after its records were read');
    assert.deepEqual(polls[3], { kind: 'end' });
    assert.deepEqual(await poll(reader), { kind: 'end' });
  });

  it('commits offsets so retention can drop records, and a reopened reader resumes there', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1 });
    for (let i = 0; i < 5; i++) topic.append(i);
    const reader = await open(topic);
    assert.deepEqual(await poll(reader, 3), {
      kind: 'records',
      partition: '0',
      records: [0, 1, 2],
      position: 3,
    });
    assert.equal(topic.earliestOffset(0), 0, 'nothing committed yet');
    await reader.commit?.(new Map([['0', 3]]), 1);
    assert.equal(topic.earliestOffset(0), 3);
    await poll(reader);
    await reader.close();

    const again = await open(topic, new Map([['0', 3]]));
    assert.deepEqual(await poll(again), { kind: 'records', partition: '0', records: [3, 4], position: 5 });
  });

  it('relieves a waiting producer as it reads', async () => {
    const topic = new MemoryTopic<number>('t', { partitions: 1, capacity: 2 });
    const reader = await open(topic);
    topic.append(0);
    topic.append(1);
    let appended = false;
    topic.appendAsync(2).then(() => (appended = true));
    await settle();
    assert.equal(appended, false);
    await poll(reader, 1);
    await settle();
    assert.equal(appended, true);
  });
});
