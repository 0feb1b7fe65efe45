/**
 * `scout run highlights --kafka --exactly-once` on a real broker, registry and Postgres, killed
 * with SIGKILL at several moments while it reads and started again each time: a read_committed
 * reader (Confluent's Python client) must then find on the `highlights` and `clips` topics each
 * detection and each clip exactly once — as many records as an uninterrupted run wrote, none
 * doubled, none missing — and Postgres the same clips. An at-least-once run killed the same way
 * may publish a checkpoint's outputs again (the scale-out test compares sets for that reason); here
 * the lists are compared whole.
 *
 * A kill can land before a checkpoint is durable, between the state write and the transaction's
 * commit, or after it; what is asserted does not depend on where. The moments come from a seeded
 * generator, so a failure can be run again as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
  kafkaTestEnv,
  readTopicAvro,
  type ScoutProcess,
  waitFor,
} from './kafka-harness.ts';
import { createTestDatabase, type TestDatabase } from './services.ts';

const CHAT: ChatLine[] = [...generateChat({ channels: 32, durationMs: 60 * 60_000, seed: 11 })];
const KILLS = 4;
/** A kill comes this long after the instance joined its group, in ms. */
const KILL_AFTER = { min: 200, max: 1_500 };

describe('scout run highlights --kafka --exactly-once, killed and restarted', { timeout: 600_000 }, () => {
  let env: KafkaTestEnv;
  const databases: TestDatabase[] = [];
  const processes: ScoutProcess[] = [];
  const work = mkdtempSync(join(tmpdir(), 'scout-eos-'));

  before(async () => {
    env = await kafkaTestEnv();
  });
  after(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(databases.map((d) => d.drop()));
  });

  async function setUp(name: string) {
    const prefix = `${env.prefix}${name}.`;
    const db = await createTestDatabase();
    databases.push(db);
    await produceChat(CHAT, {
      driver: env.driver,
      brokers: env.brokers,
      serde: env.serde,
      topic: `${prefix}chat-messages`,
      partitions: 4,
    });
    const start = (extra: readonly string[] = []) => {
      const p = highlightsInstance(env, { prefix, databaseUrl: db.url, stateDir: join(work, name), extra });
      processes.push(p);
      return p;
    };
    const done = () => caughtUp(env, `${prefix}highlights`, `${prefix}chat-messages`);
    const finish = async (p: ScoutProcess) => {
      await p.waitForLine(/joined group/);
      await waitFor('the run to catch up', done, 180_000);
      p.kill('SIGTERM');
      assert.equal(await p.exited, 0);
    };
    return { prefix, db, start, finish, done };
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
    await run.finish(run.start());
    reference = await outcome(run.prefix, run.db);
    assert.ok(reference.detections.length >= 5, `the chat has spikes (got ${reference.detections.length})`);
    assert.equal(new Set(reference.detections).size, reference.detections.length, 'each detection once');
    assert.deepEqual(reference.clips, reference.stored);
  });

  it(`killed ${KILLS} times, it publishes every detection and clip exactly once`, async () => {
    const run = await setUp('eos');
    const rng = xoroshiro128plus(20261121);
    let restored = 0;
    let midStream = 0;
    for (let k = 0; k < KILLS; k++) {
      const p = run.start(['--exactly-once']);
      await p.waitForLine(/joined group .*exactly-once/);
      const delay = uniformInt(rng, KILL_AFTER.min, KILL_AFTER.max);
      await new Promise((resolve) => setTimeout(resolve, delay));
      p.kill('SIGKILL');
      assert.equal(await p.exited, null, 'killed, not exited');
      if (!(await run.done())) midStream++;
      if (p.lines.some((l) => /restoring checkpoint \d+ of highlights .*committed/.test(l))) restored++;
    }
    const last = run.start(['--exactly-once']);
    await run.finish(last);
    if (last.lines.some((l) => /restoring checkpoint \d+ of highlights .*committed/.test(l))) restored++;
    assert.ok(restored >= 1, 'some restart resumed from a committed checkpoint');
    assert.ok(midStream >= 2, `kills landed while the job was reading (${midStream} of ${KILLS})`);

    const got = await outcome(run.prefix, run.db);
    assert.deepEqual(got.detections, reference.detections);
    assert.deepEqual(got.clips, reference.clips);
    assert.deepEqual(got.stored, reference.stored);
  });

  it('refuses --exactly-once on a group that committed without it, in one line', async () => {
    const run = await setUp('mixed');
    await run.finish(run.start());
    const p = run.start(['--exactly-once']);
    assert.equal(await p.exited, 1);
    const said = p.lines.filter((l) => l.length > 0);
    assert.match(said.at(-1)!, /committed offset \d+ of .* without a checkpoint id .*use another --group/);
    assert.ok(!said.some((l) => /^\s+at /.test(l)), `no stack trace:\n${said.join('\n')}`);
  });
});
