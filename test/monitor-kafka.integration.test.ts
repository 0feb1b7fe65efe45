/**
 * The monitor's topics on a real Kafka broker and schema registry: `startMonitor` with `kafka`
 * options and no topic sinks of the test's, against the fake Twitch in-process (its Helix and
 * OAuth through `TWURPLE_MOCK_API_PORT`, its chat server, one ManualClock shared with the fake
 * world). What the first poll and a chat line become must be on `stream-snapshots`,
 * `stream-lifecycle` and `chat-messages` as Avro records under the registry's schemas, keyed by
 * broadcaster id: read back both with our driver and serde (keys and values) and with Confluent's
 * own Python client (values, decoded without any code of ours).
 *
 * The Kafka sink sends at checkpoints and when the job ends, and the monitor takes no checkpoints,
 * so the test stops the monitor before reading the topics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import type { ConsumerListener, KafkaRecord } from '../connectors/kafka/driver.ts';
import { openDatabase } from '../connectors/postgres/database.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { writeTokenFile } from '../connectors/twitch/auth/index.ts';
import { MONITOR_FLUSH_EVERY_MS, startMonitor } from '../pipeline/cli/run-monitor.ts';
import { ManualClock, SystemClock } from '../pipeline/time/clock.ts';
import type { ChatMessage, StreamLifecycle, StreamSnapshot } from '../schemas/avro-types.ts';
import { topicSchema } from '../schemas/topics.ts';
import { startFakeChat, syncChat } from './fakes/twitch/chat-server.ts';
import { startFakeTwitch } from './fakes/twitch/server.ts';
import { TwitchWorld } from './fakes/twitch/world.ts';
import { type KafkaTestEnv, kafkaTestEnv, readTopicAvro, waitFor } from './kafka-harness.ts';

const T0 = Date.parse('2026-03-14T19:00:00Z');
const SCOPES = ['chat:read', 'clips:edit'];
/** Failure guard of one wait for an event; each takes well under a second. */
const WAIT_MS = 15_000;
/** Only for the token file's stamp: @twurple judges expiry by the wall clock. */
const wall = new SystemClock();

interface Keyed<T> {
  readonly key: string | null;
  readonly value: T;
}

/**
 * Every record of a topic, from the beginning to its current end, with our kafkajs driver (a
 * consumer group of its own) and decoded by our serde through the registry, in partition order.
 */
async function readTopicKeyed<T>(env: KafkaTestEnv, topic: string, schemaOf: string): Promise<Keyed<T>[]> {
  const admin = env.driver.admin({ brokers: env.brokers });
  let total = 0;
  try {
    for (const end of (await admin.endOffsets(topic)).values()) total += end;
  } finally {
    await admin.close();
  }
  const records: KafkaRecord[] = [];
  let failure: Error | undefined;
  const listener: ConsumerListener = {
    assigned: async () => {},
    revoking: async () => {},
    batch: async (_partition, batch) => {
      records.push(...batch);
    },
    failed: (error) => {
      failure = error;
    },
  };
  const consumer = env.driver.consumer({
    brokers: env.brokers,
    topic,
    groupId: `${topic}.reader`,
    sessionTimeoutMs: 6_000,
  });
  await consumer.start(listener);
  try {
    await waitFor(
      `${total} records of ${topic}`,
      () => failure !== undefined || records.length >= total,
      30_000,
    );
  } finally {
    await consumer.close();
  }
  if (failure) throw failure;
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const decoder = env.serde.decoder<T>(topicSchema(schemaOf));
  await decoder.prepare(records.map((r) => r.value));
  return records.map((r) => ({
    key: r.key?.toString() ?? null,
    // avsc decodes into instances of the schema's record classes; as plain data they compare to literals.
    value: JSON.parse(JSON.stringify(decoder.decode(r.value))) as T,
  }));
}

/** Records as JSON text, sorted: Avro's decoders differ in nothing a test cares about but order. */
const sortedJson = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).sort();

describe('monitor with --kafka: its topics on a real broker and registry', () => {
  let env: KafkaTestEnv;
  before(async () => {
    env = await kafkaTestEnv();
  });

  it('publishes the first poll (snapshots, online events) and a joined channel’s chat as Avro keyed by broadcaster id', {
    timeout: 60_000,
  }, async (t: TestContext) => {
    const cleanups: Array<() => Promise<void> | void> = [];
    t.after(async () => {
      for (const fn of cleanups.reverse()) await fn();
    });
    const clock = new ManualClock(T0);
    const world = new TwitchWorld({ clock });
    const app = world.registerApp();
    const bot = world.addUser('scoutbot');
    // streamer1 … streamer6, live with 600, 500, … 100 viewers: ranked 1 … 6.
    const streamers = Array.from({ length: 6 }, (_, i) => {
      const user = world.addUser(`streamer${i + 1}`);
      return { ...user, stream: world.goLive(user.id, { viewerCount: (6 - i) * 100 }) };
    });
    const viewer = world.addUser('nova_lynx');
    const fake = await startFakeTwitch({ world });
    cleanups.push(() => fake.close());
    process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
    cleanups.push(() => {
      delete process.env.TWURPLE_MOCK_API_PORT;
    });
    // The fake's own PINGs are off: `syncChat` pings when the test chooses.
    const chat = await startFakeChat({ world, pingIntervalMs: 0 });
    cleanups.push(() => chat.close());
    const dir = mkdtempSync(join(tmpdir(), 'monitor-kafka-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'twitch-tokens.json');
    const token = world.issueUserToken(app.clientId, bot.id, SCOPES);
    await writeTokenFile(tokenFile, {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      token: {
        accessToken: token.accessToken,
        refreshToken: token.refreshToken,
        scope: [...SCOPES],
        expiresIn: world.userTokenTtlS,
        obtainmentTimestamp: wall.now(),
      },
    });
    const db = await openDatabase({ dataDir: 'memory://' });
    cleanups.push(() => db.close());
    await migrate(db);

    const logs: string[] = [];
    const running = await startMonitor(
      {
        tokenFile,
        chatUrl: chat.url,
        set: { poll: '2m' },
        kafka: {
          brokers: env.brokers,
          registry: env.registry,
          driver: 'kafkajs',
          topicPrefix: env.prefix,
          autoRegister: true,
        },
        log: (l) => logs.push(l),
      },
      clock,
      { db },
    );
    let stopped = false;
    cleanups.push(async () => {
      if (stopped) return;
      running.stop();
      await running.done;
    });
    const handed = (step: string) => running.runtime.metrics()[step]?.recordsIn ?? 0;

    // The first poll, at start: six snapshots and six online events handed to the Kafka sinks,
    // and the top 5 joined.
    const top5 = streamers.slice(0, 5).map((u) => u.login);
    await waitFor(
      "the first poll's records and joins",
      () =>
        handed('snapshots-out') >= 6 &&
        handed('lifecycle-out') >= 6 &&
        JSON.stringify(chat.joinedChannels()) === JSON.stringify([...top5].sort()),
      WAIT_MS,
    );
    await syncChat(chat, (what, check) => waitFor(what, check, WAIT_MS));
    const s1 = streamers[0]!;
    const messageId = chat.say(s1.login, {
      userLogin: viewer.login,
      text: 'what a play Kappa Kappa',
      badges: { subscriber: '12', moderator: '1' },
      emotes: { '25': 'Kappa' },
    });
    await waitFor('the chat line handed to the Kafka sink', () => handed('chat-out') >= 1, WAIT_MS);

    // While the monitor runs, its flush timer puts the records on the topics: a second of its clock
    // later, the broker holds them (without the timer they would wait for a full sink buffer).
    await clock.advance(MONITOR_FLUSH_EVERY_MS);
    const onBroker = async (name: string) => {
      const admin = env.driver.admin({ brokers: env.brokers });
      try {
        let total = 0;
        for (const end of (await admin.endOffsets(`${env.prefix}${name}`)).values()) total += end;
        return total;
      } catch {
        return 0; // the topic is created with its first send
      } finally {
        await admin.close();
      }
    };
    await waitFor(
      'the records on Kafka while the monitor runs',
      async () =>
        (await onBroker('stream-snapshots')) >= 6 &&
        (await onBroker('stream-lifecycle')) >= 6 &&
        (await onBroker('chat-messages')) >= 1,
      WAIT_MS,
    );

    // Stopping flushes the sinks (the monitor takes no checkpoints) and closes the producer.
    running.stop();
    stopped = true;
    await running.done;

    const topic = (name: string) => `${env.prefix}${name}`;
    const [snapshots, lifecycle, messages, confluentSnapshots, confluentLifecycle, confluentMessages] =
      await Promise.all([
        readTopicKeyed<StreamSnapshot>(env, topic('stream-snapshots'), 'stream-snapshots'),
        readTopicKeyed<StreamLifecycle>(env, topic('stream-lifecycle'), 'stream-lifecycle'),
        readTopicKeyed<ChatMessage>(env, topic('chat-messages'), 'chat-messages'),
        readTopicAvro(env, topic('stream-snapshots')),
        readTopicAvro(env, topic('stream-lifecycle')),
        readTopicAvro(env, topic('chat-messages')),
      ]);

    assert.deepEqual(
      snapshots.sort((a, b) => a.value.rank - b.value.rank),
      streamers.map((u, i) => ({
        key: u.id,
        value: {
          stream_id: u.stream.id,
          broadcaster_id: Number(u.id),
          broadcaster_login: u.login,
          broadcaster_name: u.displayName,
          game_id: '509658',
          game_name: 'Just Chatting',
          title: `${u.displayName} live`,
          viewer_count: (6 - i) * 100,
          language: 'en',
          started_at: Date.parse(u.stream.startedAt),
          collected_at: T0,
          rank: i + 1,
          thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${u.login}-440x248.jpg`,
        },
      })),
      'stream-snapshots: the first poll, ranks 1 … 6',
    );
    assert.deepEqual(
      lifecycle.sort((a, b) => (a.value.rank ?? 0) - (b.value.rank ?? 0)),
      streamers.map((u, i) => ({
        key: u.id,
        value: {
          event_type: 'online',
          broadcaster_id: Number(u.id),
          broadcaster_login: u.login,
          rank: i + 1,
          timestamp: T0 / 1000,
          source: 'poll',
        },
      })),
      'stream-lifecycle: one online event per stream',
    );
    assert.deepEqual(
      messages,
      [
        {
          key: s1.id,
          value: {
            broadcaster_id: Number(s1.id),
            timestamp: T0,
            message_id: messageId,
            text: 'what a play Kappa Kappa',
            user_id: Number(viewer.id),
            user_name: viewer.login,
            metadata: {
              emotes: { '25': ['12-16', '18-22'] },
              badges: { subscriber: '12', moderator: '1' },
              is_subscriber: true,
              is_mod: true,
            },
            broadcaster_login: s1.login,
          },
        },
      ],
      'chat-messages: the line said in #streamer1',
    );

    // Confluent's client reads the same values: the registry holds the schemas they were written with.
    assert.deepEqual(sortedJson(confluentSnapshots), sortedJson(snapshots.map((r) => r.value)));
    assert.deepEqual(sortedJson(confluentLifecycle), sortedJson(lifecycle.map((r) => r.value)));
    assert.deepEqual(sortedJson(confluentMessages), sortedJson(messages.map((r) => r.value)));
    assert.deepEqual(
      logs.filter((l) => /fail|error/i.test(l)),
      [],
      'no failed poll or chat error',
    );
  });
});
