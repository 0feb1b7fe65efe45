/**
 * `scout run highlights --kafka --exactly-once` on a real broker, registry and Postgres, killed
 * with SIGKILL while it reads and started again each time: a read_committed reader (Confluent's
 * Python client) must then find on the `highlights` and `clips` topics each detection and each clip
 * exactly once — as many records as an uninterrupted run wrote, none doubled, none missing — and
 * Postgres the same clips. An at-least-once run killed the same way publishes some outputs twice
 * (the scale-out test compares sets for that reason); here the lists are compared whole.
 *
 * The chat arrives in phases: an instance starts, catches up with what is there (so it has
 * committed a checkpoint the next one must restore), then a new phase is produced and the
 * instance is killed at a seeded random moment while it reads it. A kill can land before a
 * checkpoint is durable, between the state write and the transaction's commit, or after it; what
 * is asserted does not depend on where.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
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
import { createTestBucket, createTestDatabase, type TestBucket, type TestDatabase } from './services.ts';

const CHAT: ChatLine[] = [...generateChat({ channels: 64, durationMs: 90 * 60_000, seed: 11 })];
const KILLS = 4;
/** A kill comes this long after the instance's first commit, in ms; a run alone reads the chat in about 3 s. */
const KILL_AFTER = { min: 0, max: 300 };

describe('scout run highlights --kafka --exactly-once, killed and restarted', { timeout: 600_000 }, () => {
  const suite = kafkaRunSuite('scout-eos');
  const { databases, processes, work } = suite;
  let env: KafkaTestEnv;
  before(() => {
    env = suite.env;
  });

  /**
   * One run's topics, database and instances. With `bucket`, checkpoints go to MinIO and every
   * instance gets a local folder of its own, so that the bucket is all they share.
   */
  async function setUp(name: string, bucket?: TestBucket) {
    const prefix = `${env.prefix}${name}.`;
    const db = await createTestDatabase();
    databases.push(db);
    const produce = (from: number, to: number) =>
      produceChat(CHAT.slice(from, to), {
        driver: env.driver,
        brokers: env.brokers,
        serde: env.serde,
        topic: `${prefix}chat-messages`,
        partitions: 4,
      });
    let instances = 0;
    const start = (extra: readonly string[] = []) => {
      const p = highlightsInstance(env, {
        prefix,
        databaseUrl: db.url,
        stateDir: join(work, bucket ? `${name}-${++instances}` : name),
        extra: bucket ? [...extra, '--checkpoint-store', `s3://${bucket.name}/${name}`] : extra,
        ...(bucket ? { env: bucket.env } : {}),
      });
      processes.push(p);
      return p;
    };
    const done = () => caughtUp(env, `${prefix}highlights`, `${prefix}chat-messages`);
    /** The group's committed offsets, summed over the partitions. */
    const committed = async () => {
      const admin = env.driver.admin({ brokers: env.brokers });
      try {
        let sum = 0;
        for (const c of (await admin.committed(`${prefix}highlights`, `${prefix}chat-messages`)).values()) {
          sum += c.offset;
        }
        return sum;
      } finally {
        await admin.close();
      }
    };
    const finish = async (p: ScoutProcess) => {
      await p.waitForLine(/joined group/);
      await waitFor('the run to catch up', done, 180_000);
      p.kill('SIGTERM');
      assert.equal(await p.exited, 0);
    };
    return { prefix, db, start, finish, done, produce, committed };
  }

  /** What a run left: detections and clip ids as read_committed lists (sorted, not de-duplicated), and the clips table. */
  async function outcome(prefix: string, db: TestDatabase) {
    const detections = (await readTopicAvro(env, `${prefix}highlights`)).map(detectionKey).sort();
    const clips = (await readTopicAvro(env, `${prefix}clips`))
      .map((c) => (c as { clip_id: string }).clip_id)
      .sort();
    return { detections, clips, stored: await clipIdsIn(db.url) };
  }

  let reference: Awaited<ReturnType<typeof outcome>>;

  it('an uninterrupted run (the reference)', async () => {
    const run = await setUp('ref');
    await run.produce(0, CHAT.length);
    await run.finish(run.start());
    reference = await outcome(run.prefix, run.db);
    assert.ok(reference.detections.length >= 5, `the chat has spikes (got ${reference.detections.length})`);
    assert.equal(new Set(reference.detections).size, reference.detections.length, 'each detection once');
    assert.deepEqual(reference.clips, reference.stored);
  });

  /**
   * Produces all of the chat, then kills exactly-once instances `kills` times while they catch up
   * with it — each at a seeded moment after its first commit — starting the next at once; the
   * last one finishes.
   */
  async function killAndRestart(
    run: Awaited<ReturnType<typeof setUp>>,
    o: { kills: number; seed: number; midStream: boolean },
  ) {
    const { kills } = o;
    const rng = xoroshiro128plus(o.seed);
    const committedRestore = /restoring checkpoint \d+ of highlights .*committed/;
    let restored = 0;
    let midStream = 0;
    await run.produce(0, CHAT.length);
    for (let k = 0; k < kills; k++) {
      const before = await run.committed();
      const p = run.start(['--exactly-once']);
      await p.waitForLine(/joined group .*exactly-once/);
      // Once this instance has committed something (so that the next restores it), or is done.
      await waitFor('a commit', async () => (await run.committed()) > before || (await run.done()), 120_000);
      await new Promise((resolve) => setTimeout(resolve, uniformInt(rng, KILL_AFTER.min, KILL_AFTER.max)));
      p.kill('SIGKILL');
      assert.equal(await p.exited, null, 'killed, not exited');
      if (!(await run.done())) midStream++;
      if (p.lines.some((l) => committedRestore.test(l))) restored++;
    }
    const last = run.start(['--exactly-once']);
    await run.finish(last);
    if (last.lines.some((l) => committedRestore.test(l))) restored++;
    assert.ok(restored >= 1, 'a restart resumed from a committed checkpoint');
    if (o.midStream) {
      assert.ok(midStream >= 1, `a kill landed while the job was reading (${midStream} of ${kills})`);
    }
  }

  it(`killed ${KILLS} times, it publishes every detection and clip exactly once`, async () => {
    const run = await setUp('eos');
    await killAndRestart(run, { kills: KILLS, seed: 20261121, midStream: true });
    const got = await outcome(run.prefix, run.db);
    assert.deepEqual(got.detections, reference.detections);
    assert.deepEqual(got.clips, reference.clips);
    assert.deepEqual(got.stored, reference.stored);
  });

  it('the same with the checkpoints in a bucket, each instance on a fresh local folder', async () => {
    const bucket = await createTestBucket();
    try {
      const run = await setUp('eos-s3', bucket);
      // Commits wait for the copy to the bucket, so the first may come late in the catch-up: a
      // kill after it need not land mid-stream. What this adds is the restore from the bucket.
      await killAndRestart(run, { kills: 3, seed: 20261122, midStream: false });
      const got = await outcome(run.prefix, run.db);
      assert.deepEqual(got.detections, reference.detections);
      assert.deepEqual(got.clips, reference.clips);
      assert.deepEqual(got.stored, reference.stored);
    } finally {
      await bucket.drop();
    }
  });

  it('refuses --exactly-once on a group that committed without it, in one line', async () => {
    const run = await setUp('mixed');
    await run.produce(0, CHAT.length);
    await run.finish(run.start());
    const p = run.start(['--exactly-once']);
    assert.equal(await p.exited, 1);
    const said = p.lines.filter((l) => l.length > 0);
    assert.match(said.at(-1)!, /committed offset \d+ of .* without a checkpoint id .*use another --group/);
    assert.ok(!said.some((l) => /^\s+at /.test(l)), `no stack trace:\n${said.join('\n')}`);
  });
});
