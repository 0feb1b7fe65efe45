/**
 * The highlights job on a real Kafka broker, schema registry and Postgres, as `scout run --kafka`
 * processes:
 *
 * - scale-out: one instance runs; a second joins mid-stream and takes half the partitions; the
 *   first is killed with SIGKILL and the second takes over its partitions from their last
 *   checkpoints in the shared state folder. The clips in Postgres and the detections on the
 *   `highlights` topic are exactly those of a single instance that ran alone over the same chat.
 * - restart: an instance stopped and started again resumes from its checkpoints.
 * - dead letters: records that are not readable Avro go to `chat-messages.dlq` with their offsets,
 *   errors and original bytes, and the job goes on.
 *
 * Chat is produced in phases so that "mid-stream" is a fact, not a race: the second instance joins
 * after the first has committed the first phase, and the kill comes while the next phase is
 * being processed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { produceChat } from '../connectors/kafka/produce.ts';
import { generateChat } from '../connectors/synthetic/generate.ts';
import type { ChatLine } from '../schemas/chat-line.ts';
import {
  caughtUp,
  clipIdsIn,
  detectionKey,
  highlightsInstance,
  type KafkaTestEnv,
  kafkaRunSuite,
  readTopicAvro,
  type ScoutProcess,
  waitFor,
} from './kafka-harness.ts';
import { createTestDatabase, type TestDatabase } from './services.ts';

const CHAT: ChatLine[] = [...generateChat({ channels: 16, durationMs: 20 * 60_000, seed: 7 })];
const PHASES = [0.4, 0.7, 1].map((f) => Math.floor(CHAT.length * f));

interface ClipRow {
  clip_id: string;
  broadcaster_id: string;
  embed_url: string;
  detected_at: number;
}

async function clipRowsIn(db: TestDatabase): Promise<ClipRow[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<ClipRow>(
      `SELECT clip_id, broadcaster_id::text, embed_url,
              (extract(epoch FROM detected_at) * 1000)::float8 AS detected_at
         FROM clips ORDER BY clip_id`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

const clipsIn = (db: TestDatabase) => clipIdsIn(db.url);

describe('scout run highlights --kafka', { timeout: 300_000 }, () => {
  const suite = kafkaRunSuite('scout-kafka');
  const { databases, processes, work } = suite;
  let env: KafkaTestEnv;
  before(() => {
    env = suite.env;
  });

  /** A `scout run highlights --kafka` instance of one test's group, topics and database. */
  function instance(prefix: string, db: TestDatabase, stateDir: string): ScoutProcess {
    const p = highlightsInstance(env, { prefix, databaseUrl: db.url, stateDir });
    processes.push(p);
    return p;
  }

  async function produce(prefix: string, from: number, to: number) {
    await produceChat(CHAT.slice(from, to), {
      driver: env.driver,
      brokers: env.brokers,
      serde: env.serde,
      topic: `${prefix}chat-messages`,
      partitions: 4,
    });
  }

  const done = (prefix: string) => () => caughtUp(env, `${prefix}highlights`, `${prefix}chat-messages`);

  let reference: { clips: string[]; detections: string[] };

  it('runs alone over all of the chat (the reference)', async () => {
    const prefix = `${env.prefix}ref.`;
    const db = await createTestDatabase();
    databases.push(db);
    await produce(prefix, 0, CHAT.length);
    const alone = instance(prefix, db, join(work, 'ref'));
    await alone.waitForLine(/joined group/);
    await waitFor('the reference run to catch up', done(prefix), 120_000);
    alone.kill('SIGTERM');
    assert.equal(await alone.exited, 0);
    const detections = (await readTopicAvro(env, `${prefix}highlights`)).map(detectionKey);
    reference = { clips: await clipsIn(db), detections: [...new Set(detections)].sort() };
    assert.ok(reference.clips.length >= 5, `the chat has spikes to clip (got ${reference.clips.length})`);
    assert.equal(detections.length, reference.detections.length, 'a clean run writes each detection once');
  });

  it('a second instance joins mid-stream, the first is killed, and nothing is missing or doubled', async () => {
    const prefix = `${env.prefix}scale.`;
    const db = await createTestDatabase();
    databases.push(db);
    const shared = join(work, 'shared');
    await produce(prefix, 0, PHASES[0]!);
    const first = instance(prefix, db, shared);
    await first.waitForLine(/joined group/);
    await waitFor('the first instance to finish the first phase', done(prefix), 120_000);

    const second = instance(prefix, db, shared);
    await second.waitForLine(/gained \[/);
    await first.waitForLine(/lost \[/);
    await produce(prefix, PHASES[0]!, PHASES[1]!);
    first.kill('SIGKILL');
    assert.equal(await first.exited, null, 'killed, not exited');
    await second.waitForLine(/partitions of .* now \[0, 1, 2, 3\]/, 60_000);
    await produce(prefix, PHASES[1]!, PHASES[2]!);
    await waitFor('the second instance to catch up', done(prefix), 120_000);
    second.kill('SIGTERM');
    assert.equal(await second.exited, 0);

    assert.deepEqual(await clipsIn(db), reference.clips);
    const detections = (await readTopicAvro(env, `${prefix}highlights`)).map(detectionKey);
    assert.deepEqual([...new Set(detections)].sort(), reference.detections);
  });

  it('a stopped instance resumes from its checkpoints, and unreadable records go to the dead-letter topic', async () => {
    const prefix = `${env.prefix}restart.`;
    const db = await createTestDatabase();
    databases.push(db);
    const stateDir = join(work, 'restart');
    const half = Math.floor(CHAT.length / 2);
    await produce(prefix, 0, half);
    const bad = [
      { key: '1', value: Buffer.from('not avro at all') },
      { key: '2', value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]) }, // a schema id the registry never gave
      { key: '3', value: Buffer.from([0]) }, // shorter than the header
    ];
    const producer = env.driver.producer({ brokers: env.brokers });
    await producer.connect();
    await producer.send(
      `${prefix}chat-messages`,
      bad.map((b) => ({ ...b, partition: 0 })),
    );
    await producer.close();

    const first = instance(prefix, db, stateDir);
    await waitFor('the first run to catch up', done(prefix), 120_000);
    first.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    await produce(prefix, half, CHAT.length);
    const second = instance(prefix, db, stateDir);
    await second.waitForLine(/restoring checkpoint \d+ of highlights/);
    await waitFor('the second run to catch up', done(prefix), 120_000);
    second.kill('SIGTERM');
    assert.equal(await second.exited, 0);

    assert.deepEqual(await clipsIn(db), reference.clips);

    // Confluent's Python client decodes the clips topic by itself (its own Avro library, the
    // registry's schema) into the values Postgres holds.
    const published = (await readTopicAvro(env, `${prefix}clips`)) as Array<{
      clip_id: string;
      broadcaster_id: number;
      broadcaster_login: string;
      embed_url: string;
      detected_at: number;
    }>;
    const byId = new Map(published.map((c) => [c.clip_id, c]));
    const rows = await clipRowsIn(db);
    assert.equal(byId.size, rows.length);
    for (const row of rows) {
      const c = byId.get(row.clip_id);
      assert.ok(c, `clip ${row.clip_id} is on the topic`);
      assert.equal(String(c.broadcaster_id), row.broadcaster_id);
      assert.equal(c.embed_url, row.embed_url);
      assert.equal(c.detected_at, row.detected_at);
      assert.match(c.broadcaster_login, /^[a-z0-9_]+$/);
    }

    const dead = (
      (await readTopicAvro(env, `${prefix}chat-messages.dlq`)) as Array<{
        topic: string;
        partition: number;
        offset: number;
        error: string;
        value: { bytes: string } | null;
      }>
    ).sort((a, b) => a.offset - b.offset);
    assert.equal(dead.length, bad.length);
    assert.deepEqual(
      dead.map((d) => [d.topic, d.partition]),
      bad.map(() => [`${prefix}chat-messages`, 0]),
    );
    assert.match(dead[0]!.error, /magic byte/);
    assert.match(dead[1]!.error, /schema id \d+ is not in the registry/);
    assert.match(dead[2]!.error, /shorter than the 5-byte header/);
    assert.equal(dead[0]!.value?.bytes, 'not avro at all');
  });
});
