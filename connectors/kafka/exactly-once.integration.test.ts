/**
 * The exactly-once sink's Kafka side (exactly-once.ts) against the real broker and registry, with
 * the kafkajs driver: a checkpoint's records, its due dead letters and the group's offset with the
 * checkpoint id are published in one transaction; a newer owner of a partition fences an older one
 * and aborts the transaction it left open; and the committed checkpoint is read back from the
 * offset's metadata. What readers see is checked with Confluent's Python client, in
 * read_committed isolation (what any Kafka consumer does by default) and, where it matters,
 * read_uncommitted. Every test works in topics and groups of its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatMessage, DeadLetter } from '../../schemas/avro-types.ts';
import { chatMessageOf } from '../../schemas/chat-message.ts';
import type { Encoder } from '../../schemas/serde.ts';
import { DEAD_LETTER_SCHEMA, keyOf, loadSchema, topicSchema } from '../../schemas/topics.ts';
import { type KafkaTestEnv, kafkaTestEnv, readTopicAvro, waitFor } from '../../test/kafka-harness.ts';
import { generateChat } from '../synthetic/generate.ts';
import { deadLetterTopic } from './dead-letters.ts';
import type { AdminDriver, OutgoingRecord } from './driver.ts';
import {
  checkpointMetadata,
  committedCheckpointOf,
  TaskTransaction,
  transactionalIdOf,
} from './exactly-once.ts';

/** The broker's minimum: the plain consumer of the last test joins and leaves quickly. */
const SESSION_TIMEOUT_MS = 6_000;

const CHAT: ChatMessage[] = [...generateChat({ channels: 3, durationMs: 10 * 60_000, seed: 11 })]
  .slice(0, 30)
  .map((line, i) => chatMessageOf(line, i));

/** One test's topics (one partition each, so that order is checked too) and group. */
interface Names {
  readonly input: string;
  readonly group: string;
  readonly out: string;
  readonly other: string;
  readonly dlq: string;
}

describe('exactly-once output on Kafka', { timeout: 240_000 }, () => {
  let env: KafkaTestEnv;
  let admin: AdminDriver;
  const transactions: TaskTransaction[] = [];

  before(async () => {
    env = await kafkaTestEnv();
    admin = env.driver.admin({ brokers: env.brokers });
  });
  after(async () => {
    await Promise.all(transactions.map((t) => t.close().catch(() => {})));
    await admin.close();
  });

  async function topics(tag: string): Promise<Names> {
    const prefix = `${env.prefix}${tag}.`;
    const input = `${prefix}chat-messages`;
    const names = {
      input,
      group: `${prefix}group`,
      out: `${prefix}out-a`,
      other: `${prefix}out-b`,
      dlq: deadLetterTopic(input),
    };
    await admin.createTopics(
      [names.input, names.out, names.other, names.dlq].map((topic) => ({ topic, partitions: 1 })),
    );
    return names;
  }

  /** The task transaction of partition 0 of `n.input`, closed after the file if the test does not. */
  async function open(n: Names): Promise<TaskTransaction> {
    const tx = await TaskTransaction.open({
      driver: env.driver,
      brokers: env.brokers,
      clientId: 'exactly-once-test',
      groupId: n.group,
      topic: n.input,
      partition: 0,
    });
    transactions.push(tx);
    return tx;
  }

  const chatEncoder = (topic: string) => env.serde.encoder<ChatMessage>(topic, topicSchema('chat-messages'));

  const records = (encoder: Encoder<ChatMessage>, messages: readonly ChatMessage[]): OutgoingRecord[] =>
    messages.map((m) => ({ key: keyOf(m), value: encoder.encode(m) }));

  /** The message ids on `topic`, in offset order, as Confluent's client reads them. */
  async function idsOn(topic: string, isolation: 'committed' | 'uncommitted' = 'committed') {
    return (await readTopicAvro(env, topic, isolation)).map((r) => (r as ChatMessage).message_id);
  }

  const ids = (messages: readonly ChatMessage[]) => messages.map((m) => m.message_id);

  it('commits the staged records, the dead letters before the offset, and the offset with the checkpoint id, together', async () => {
    const n = await topics('commit');
    const [a, b] = await Promise.all([chatEncoder(n.out), chatEncoder(n.other)]);
    const dlqEncoder = await env.serde.encoder<DeadLetter>(n.dlq, loadSchema(DEAD_LETTER_SCHEMA));
    const letter = (offset: number) => ({
      offset,
      record: {
        key: null,
        value: dlqEncoder.encode({
          topic: n.input,
          partition: 0,
          offset,
          timestamp: 1_000 + offset,
          key: null,
          value: Buffer.from([0xff, offset]),
          error: `bad record at ${offset}`,
          job: 'exactly-once-test',
          failed_at: 2_000,
        }),
      },
    });
    const tx = await open(n);
    tx.stage(n.out, records(a, CHAT.slice(0, 4)));
    tx.stage(n.other, records(b, CHAT.slice(4, 6)));
    tx.stage(n.other, records(b, CHAT.slice(6, 9)));
    // Read at 3, 5 and 9: a checkpoint at position 5 has processed only the one at 3.
    tx.holdDeadLetters(n.dlq, [letter(3), letter(5), letter(9)]);
    assert.deepEqual(await idsOn(n.out, 'uncommitted'), [], 'staging sent something before the commit');

    await tx.commit(5, 7);
    assert.deepEqual(await idsOn(n.out), ids(CHAT.slice(0, 4)));
    assert.deepEqual(await idsOn(n.other), ids(CHAT.slice(4, 9)));
    const dlqOffsets = async () => (await readTopicAvro(env, n.dlq)).map((r) => (r as DeadLetter).offset);
    assert.deepEqual(await dlqOffsets(), [3]);
    assert.deepEqual((await admin.committed(n.group, n.input)).get(0), {
      offset: 5,
      metadata: checkpointMetadata(7),
    });
    assert.deepEqual(await committedCheckpointOf(admin, n.group, n.input, 0), {
      id: 7,
      what: `the offsets of group ${n.group}`,
    });

    tx.stage(n.out, records(a, CHAT.slice(9, 10)));
    await tx.commit(10, 8);
    assert.deepEqual(await dlqOffsets(), [3, 5, 9]);
    // Each staged record once: the first commit's are not sent again.
    assert.deepEqual(await idsOn(n.out), ids([...CHAT.slice(0, 4), CHAT[9]!]));
    assert.deepEqual(await idsOn(n.other), ids(CHAT.slice(4, 9)));
    assert.deepEqual((await admin.committed(n.group, n.input)).get(0), {
      offset: 10,
      metadata: checkpointMetadata(8),
    });
    assert.equal((await committedCheckpointOf(admin, n.group, n.input, 0)).id, 8);
  });

  it('fences the earlier owner of a partition: its commit fails and nothing it staged is published', async () => {
    const n = await topics('fence');
    const encoder = await chatEncoder(n.out);
    const older = await open(n);
    const newer = await open(n);
    older.stage(n.out, records(encoder, CHAT.slice(0, 3)));
    // kafkajs's words for the broker's INVALID_PRODUCER_EPOCH / PRODUCER_FENCED.
    await assert.rejects(older.commit(3, 1), /old epoch|fenced/i);
    newer.stage(n.out, records(encoder, CHAT.slice(3, 6)));
    await newer.commit(6, 2);
    assert.deepEqual(await idsOn(n.out), ids(CHAT.slice(3, 6)));
    assert.deepEqual((await admin.committed(n.group, n.input)).get(0), {
      offset: 6,
      metadata: checkpointMetadata(2),
    });
  });

  it('aborts the transaction a previous owner left open when the next owner starts', async () => {
    const n = await topics('abort');
    const encoder = await chatEncoder(n.out);
    const previous = env.driver.producer({
      brokers: env.brokers,
      transactionalId: transactionalIdOf(n.group, n.input, 0),
    });
    await previous.connect();
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let sent = false;
      const left = previous.transaction!(async (tx) => {
        await tx.send(n.out, records(encoder, CHAT.slice(0, 4)));
        sent = true;
        await gate;
      });
      left.catch(() => {}); // awaited below
      await waitFor('the previous owner to send into its transaction', () => sent, 30_000);

      const next = await open(n);
      // A record written outside any transaction after the next owner started: a read_committed
      // reader gets to it only if the previous owner's transaction before it has ended, and sees
      // none of that one's records only if it was aborted.
      const plain = env.driver.producer({ brokers: env.brokers });
      await plain.connect();
      await plain.send(n.out, records(encoder, CHAT.slice(4, 5))).finally(() => plain.close());
      assert.deepEqual(
        await idsOn(n.out, 'uncommitted'),
        ids(CHAT.slice(0, 5)),
        'the previous owner sent nothing',
      );
      assert.deepEqual(await idsOn(n.out), ids(CHAT.slice(4, 5)));

      next.stage(n.out, records(encoder, CHAT.slice(5, 7)));
      await next.commit(2, 1);
      release();
      await assert.rejects(left, /old epoch|fenced/i);
      assert.deepEqual(await idsOn(n.out), ids(CHAT.slice(4, 7)));
    } finally {
      await previous.close().catch(() => {});
    }
  });

  it('reads no checkpoint of a group without an offset, and refuses an offset committed without one', async () => {
    const n = await topics('read');
    assert.deepEqual(await committedCheckpointOf(admin, n.group, n.input, 0), {
      id: undefined,
      what: `the offsets of group ${n.group}`,
    });

    // A run without --exactly-once commits through its consumer: no metadata.
    const consumer = env.driver.consumer({
      brokers: env.brokers,
      groupId: n.group,
      topic: n.input,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    let assignment: readonly number[] = [];
    let failure: Error | undefined;
    await consumer.start({
      assigned: async (partitions) => {
        assignment = partitions;
      },
      revoking: async () => {},
      batch: async () => {},
      failed: (error) => {
        failure = error;
      },
    });
    try {
      await waitFor(
        'the plain consumer to be given partition 0',
        () => assignment.includes(0) || !!failure,
        30_000,
      );
      assert.equal(failure, undefined);
      await consumer.commit(new Map([[0, 4]]));
    } finally {
      await consumer.close();
    }
    await assert.rejects(committedCheckpointOf(admin, n.group, n.input, 0), {
      message: `group ${n.group} committed offset 4 of ${n.input}[0] without a checkpoint id (a run without --exactly-once); use another --group for --exactly-once`,
    });
  });
});
