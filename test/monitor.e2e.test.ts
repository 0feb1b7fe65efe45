/**
 * The monitor end to end against the fake Twitch, in-process: `startMonitor` with a token file,
 * the fake's Helix and OAuth (through `TWURPLE_MOCK_API_PORT`), its chat server and its EventSub
 * sender, on one ManualClock shared with the fake world. Proves the issue's "Done when" list:
 * chat joins with hysteresis, ranks and lifecycle from the polls, chat reaching `chat-messages`,
 * clipping-disabled channels dropped from the ranking and the chats, the highlights job clipping a
 * spike through Create Clip on the rules' schedule (and marking a 403 channel), EventSub
 * subscriptions and notifications with forged ones refused, and a bad token file failing fast.
 *
 * Driving the clock: polls happen at start and then every `poll`; the clock moves in steps no
 * longer than the chat client's idle time, and after each step the test waits for what the step
 * caused (a poll's snapshots, a ping through the chat connection, a clip call's answer) before the
 * next one, so no client-side timeout (chat liveness, JOIN, Helix request) fires while real I/O is
 * still on its way.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type Database, openDatabase } from '../connectors/postgres/database.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { channelProfiles, generateChat, labelsOf } from '../connectors/synthetic/index.ts';
import { openTwitchAuth, TwitchAuthError, writeTokenFile } from '../connectors/twitch/auth/index.ts';
import { twitchClipper } from '../connectors/twitch/clipper.ts';
import { HelixClient } from '../connectors/twitch/helix.ts';
import { liveQueue } from '../connectors/twitch/live-queue.ts';
import type { ClipFailure } from '../operators/clips/clip-spikes.ts';
import type { Clipper } from '../operators/clips/clipper.ts';
import { type MonitorRunOptions, type RunningMonitor, startMonitor } from '../pipeline/cli/run-monitor.ts';
import { EmbeddedBroker, embeddedContext } from '../pipeline/jobs/contexts.ts';
import highlights from '../pipeline/jobs/highlights.ts';
import { JobRuntime } from '../pipeline/runtime/runtime.ts';
import { type CollectSink, collect } from '../pipeline/testing/sources.ts';
import { type Clock, ManualClock, SystemClock, settle } from '../pipeline/time/clock.ts';
import type { Sink, SinkWriter, Source } from '../pipeline/types.ts';
import type { ChatMessage, StreamLifecycle, StreamSnapshot } from '../schemas/avro-types.ts';
import type { ChatLine } from '../schemas/chat-line.ts';
import type { Detection } from '../schemas/detection.ts';
import { postgresClipSink } from '../sinks/postgres/clip-sink.ts';
import { postgresStreamersSink } from '../sinks/postgres/streamers-sink.ts';
import { type FakeChat, startFakeChat, syncChat } from './fakes/twitch/chat-server.ts';
import { type FakeTwitch, startFakeTwitch } from './fakes/twitch/server.ts';
import { type FakeApp, type FakeUser, TwitchWorld } from './fakes/twitch/world.ts';

const root = new URL('..', import.meta.url).pathname;
const T0 = Date.parse('2026-03-14T19:00:00Z');
const MIN = 60_000;
const POLL_MS = 2 * MIN;
/**
 * Longest clock step between two checks of the chat connection: under the chat client's 15 s idle
 * time, so it never pings on its own (its PONG could not arrive while the clock jumps ahead).
 */
const STEP_MS = 10_000;
/** Failure guard of one wait for an event; everything awaited here takes milliseconds. */
const WAIT_MS = 15_000;
const GUARD = { timeout: 60_000 };
const SECRET = 'monitor-e2e-eventsub-secret';
const SCOPES = ['chat:read', 'clips:edit'];
/** Only for failure guards: how long a wait has taken in real time. */
const wall = new SystemClock();

/** Waits until `done()` holds, re-checking after every turn of the event loop. */
async function until(what: string, done: () => boolean, detail: () => unknown = () => ''): Promise<void> {
  const deadline = wall.now() + WAIT_MS;
  while (!done()) {
    if (wall.now() > deadline) assert.fail(`timed out waiting for ${what} (${JSON.stringify(detail())})`);
    await settle();
  }
}

/** `promise`, or a failure once the guard runs out. */
async function guarded<T>(what: string, promise: Promise<T>): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  await until(what, () => outcome !== undefined);
  if (outcome !== undefined && 'error' in outcome) throw outcome.error;
  return (outcome as { value: T }).value;
}

interface Twitch {
  readonly clock: ManualClock;
  readonly world: TwitchWorld;
  readonly fake: FakeTwitch;
  readonly chat: FakeChat;
  readonly app: FakeApp;
  readonly bot: FakeUser;
  readonly dir: string;
  readonly tokenFile: string;
  /** Runs `fn` when the test ends, after everything deferred later (last in, first out). */
  defer(fn: () => Promise<void> | void): void;
}

/** A fresh world, clock, Helix/OAuth/EventSub fake and chat fake, closed when the test ends. */
async function fakeTwitch(t: TestContext): Promise<Twitch> {
  const cleanups: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  const defer = (fn: () => Promise<void> | void) => cleanups.push(fn);
  const clock = new ManualClock(T0);
  const world = new TwitchWorld({ clock });
  const app = world.registerApp();
  const bot = world.addUser('scoutbot');
  const fake = await startFakeTwitch({ world });
  defer(() => fake.close());
  // Each test has its own fake on its own port; tests in a file run one after another.
  process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
  defer(() => {
    delete process.env.TWURPLE_MOCK_API_PORT;
  });
  // The fake's own PINGs are off: `syncChat` pings at the moments the test chooses.
  const chat = await startFakeChat({ world, pingIntervalMs: 0 });
  defer(() => chat.close());
  const dir = mkdtempSync(join(tmpdir(), 'monitor-e2e-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return { clock, world, fake, chat, app, bot, dir, tokenFile: join(dir, 'twitch-tokens.json'), defer };
}

/** Writes a token file holding a fresh user token of the bot and the app's credentials. */
async function seedTokenFile(tw: Twitch, path = tw.tokenFile) {
  const token = tw.world.issueUserToken(tw.app.clientId, tw.bot.id, SCOPES);
  await writeTokenFile(path, {
    clientId: tw.app.clientId,
    clientSecret: tw.app.clientSecret,
    token: {
      accessToken: token.accessToken,
      refreshToken: token.refreshToken,
      scope: [...SCOPES],
      expiresIn: tw.world.userTokenTtlS,
      // @twurple judges expiry by the wall clock, so the stamp is a wall-clock one.
      obtainmentTimestamp: wall.now(),
    },
  });
  return token;
}

async function memoryDatabase(tw: Twitch): Promise<Database> {
  const db = await openDatabase({ dataDir: 'memory://' });
  tw.defer(() => db.close());
  await migrate(db);
  return db;
}

interface Monitored extends Twitch {
  /** streamer01 … streamer12, live with 1200, 1100, … 100 viewers. */
  readonly streamers: readonly FakeUser[];
  readonly db: Database;
  readonly running: RunningMonitor;
  readonly lifecycle: CollectSink<StreamLifecycle>;
  readonly snapshots: CollectSink<StreamSnapshot>;
  readonly messages: CollectSink<ChatMessage>;
  readonly logs: string[];
  /** Clock time of the last poll awaited. */
  lastPoll: number;
}

/** The fakes with 12 live streamers, and the monitor started on them, its first poll done. */
async function startMonitored(t: TestContext, extra: Partial<MonitorRunOptions> = {}): Promise<Monitored> {
  const tw = await fakeTwitch(t);
  const streamers = Array.from({ length: 12 }, (_, i) => {
    const user = tw.world.addUser(`streamer${String(i + 1).padStart(2, '0')}`);
    tw.world.goLive(user.id, { viewerCount: (12 - i) * 100 });
    return user;
  });
  await seedTokenFile(tw);
  const db = await memoryDatabase(tw);
  const lifecycle = collect<StreamLifecycle>();
  const snapshots = collect<StreamSnapshot>();
  const messages = collect<ChatMessage>();
  const logs: string[] = [];
  const running = await startMonitor(
    {
      tokenFile: tw.tokenFile,
      chatUrl: tw.chat.url,
      set: { poll: '2m' },
      log: (l) => logs.push(l),
      ...extra,
    },
    tw.clock,
    {
      outputs: new Map<string, Sink<unknown>>([
        ['stream-lifecycle', lifecycle as Sink<unknown>],
        ['stream-snapshots', snapshots as Sink<unknown>],
        ['chat-messages', messages as Sink<unknown>],
      ]),
      db,
    },
  );
  tw.defer(async () => {
    running.stop();
    await guarded('the monitor to stop', running.done);
  });
  const h: Monitored = { ...tw, streamers, db, running, lifecycle, snapshots, messages, logs, lastPoll: T0 };
  await awaitPoll(h, T0, 12);
  return h;
}

/** streamer `n` (1-based), ranked `n` while no viewer count changed. */
function streamer(h: Monitored, n: number): FakeUser {
  const user = h.streamers[n - 1];
  assert.ok(user, `no streamer ${n}`);
  return user;
}

function pollAt(h: Monitored, at: number): StreamSnapshot[] {
  return h.snapshots.records.filter((s) => s.collected_at === at);
}

/** Login → rank in the poll at `at`. */
function ranksAt(h: Monitored, at: number): Record<string, number> {
  return Object.fromEntries(pollAt(h, at).map((s) => [s.broadcaster_login, s.rank]));
}

/** Waits for the poll at `at` to publish `ranked` snapshots and for its chat joins to reach the fake. */
async function awaitPoll(h: Monitored, at: number, ranked: number): Promise<void> {
  await until(
    `the ${ranked} snapshots of the poll at +${(at - T0) / MIN} min`,
    () => pollAt(h, at).length >= ranked,
    () => ({ snapshots: pollAt(h, at).length, logs: h.logs }),
  );
  await syncChat(h.chat, until);
  assert.equal(pollAt(h, at).length, ranked, 'snapshots of one poll');
  h.lastPoll = at;
}

/** Moves the clock to the next poll and waits for it (see `awaitPoll`); returns its time. */
async function nextPoll(h: Monitored, ranked: number): Promise<number> {
  const at = h.lastPoll + POLL_MS;
  while (h.clock.now() + STEP_MS < at) {
    await h.clock.advance(STEP_MS);
    await syncChat(h.chat, until);
  }
  await h.clock.advanceTo(at);
  await awaitPoll(h, at, ranked);
  return at;
}

const logins = (users: readonly FakeUser[]) => users.map((u) => u.login).sort();

/** The fake's JOIN/PART log from `from` on, as sorted `join streamer06` lines. */
function membershipSince(h: Monitored, from: number): string[] {
  return h.chat.joinLog
    .slice(from)
    .map((e) => `${e.kind} ${e.channel}${e.outcome === 'ok' ? '' : ` (${e.outcome})`}`)
    .sort();
}

/** A sink that also counts the records its writes have completed. */
function counted<T>(sink: Sink<T>): Sink<T> & { written(): number } {
  let written = 0;
  return {
    describe: () => sink.describe(),
    written: () => written,
    async open(ctx): Promise<SinkWriter<T>> {
      const w = await sink.open(ctx);
      return {
        write: async (records, timestamps) => {
          await w.write(records, timestamps);
          written += records.length;
        },
        flush: () => w.flush?.(),
        close: () => w.close(),
      };
    },
  };
}

/** A sink that collects records with the clock time they reached it. */
function stamped<T>(clock: Clock): Sink<T> & { readonly seen: Array<{ value: T; at: number }> } {
  const seen: Array<{ value: T; at: number }> = [];
  return {
    seen,
    describe: () => 'stamped collect (test)',
    open: () => ({
      write(records) {
        for (const value of records) seen.push({ value, at: clock.now() });
      },
      close() {},
    }),
  };
}

describe('monitor end to end against the fake Twitch', () => {
  it(
    'joins the top 5, keeps a channel down to rank 10, leaves below it or offline; ranks and lifecycle',
    GUARD,
    async (t) => {
      const h = await startMonitored(t);
      const s01 = streamer(h, 1);
      const s02 = streamer(h, 2);
      const s03 = streamer(h, 3);
      const s04 = streamer(h, 4);
      const s05 = streamer(h, 5);
      const s06 = streamer(h, 6);
      const s07 = streamer(h, 7);

      // Poll 1: ranked by viewers; the top 5 joined; online for every stream.
      assert.deepEqual(
        ranksAt(h, T0),
        Object.fromEntries(h.streamers.map((u, i) => [u.login, i + 1])),
        'poll 1 ranks',
      );
      assert.deepEqual(h.chat.joinedChannels(), logins([s01, s02, s03, s04, s05]));
      assert.deepEqual(
        membershipSince(h, 0),
        [s01, s02, s03, s04, s05].map((u) => `join ${u.login}`),
      );
      await until('12 online events', () => h.lifecycle.records.length >= 12);
      assert.deepEqual(
        h.lifecycle.records
          .map((e) => [e.event_type, e.broadcaster_login, e.rank, e.timestamp, e.source])
          .sort(),
        h.streamers.map((u, i) => ['online', u.login, i + 1, T0 / 1000, 'poll']).sort(),
      );

      // Poll 2: streamer03 falls to rank 7 and stays joined; streamer06 rises to 5 and is joined.
      h.world.setViewers(s03.id, 550);
      let mark = h.chat.joinLog.length;
      const p2 = await nextPoll(h, 12);
      assert.equal(ranksAt(h, p2)[s03.login], 7);
      assert.equal(ranksAt(h, p2)[s06.login], 5);
      assert.equal(ranksAt(h, p2)[s07.login], 6);
      assert.deepEqual(membershipSince(h, mark), [`join ${s06.login}`], 'poll 2 joins and parts');
      assert.deepEqual(h.chat.joinedChannels(), logins([s01, s02, s03, s04, s05, s06]));
      await until('rank events of poll 2', () => h.lifecycle.records.some((e) => e.timestamp === p2 / 1000));
      assert.ok(
        h.lifecycle.records.some(
          (e) => e.event_type === 'rank' && e.broadcaster_login === s03.login && e.rank === 7,
        ),
        'a rank event for streamer03 at 7',
      );

      // Poll 3: streamer05 falls to rank 11 and streamer01 goes offline: both parted; 07 enters.
      h.world.setViewers(s05.id, 50);
      h.world.goOffline(s01.id);
      mark = h.chat.joinLog.length;
      const p3 = await nextPoll(h, 11);
      assert.equal(ranksAt(h, p3)[s05.login], 11);
      assert.equal(ranksAt(h, p3)[s01.login], undefined);
      assert.deepEqual(
        membershipSince(h, mark),
        [`join ${s07.login}`, `part ${s01.login}`, `part ${s05.login}`],
        'poll 3 joins and parts',
      );
      assert.deepEqual(h.chat.joinedChannels(), logins([s02, s03, s04, s06, s07]));
      assert.equal(
        h.lifecycle.records.filter((e) => e.event_type === 'offline').length,
        0,
        'missing from one poll is not offline yet',
      );

      // Poll 4: streamer01 has been missing for 2 polls: offline, and nothing else is.
      mark = h.chat.joinLog.length;
      const p4 = await nextPoll(h, 11);
      await until('the offline event', () => h.lifecycle.records.some((e) => e.event_type === 'offline'));
      assert.deepEqual(
        h.lifecycle.records
          .filter((e) => e.event_type === 'offline')
          .map((e) => [e.broadcaster_id, e.broadcaster_login, e.rank ?? null, e.timestamp, e.source]),
        [[Number(s01.id), s01.login, null, p4 / 1000, 'poll']],
      );
      assert.deepEqual(membershipSince(h, mark), [], 'poll 4 changes no chat');
      assert.equal(h.chat.authLog.length, 1, 'one chat login: stepping the clock broke no connection');
      assert.deepEqual(
        h.logs.filter((l) => /fail|error/i.test(l)),
        [],
        'no failed poll or chat error',
      );
    },
  );

  it(
    'publishes chat of a joined channel on chat-messages, and none of a channel it is not in',
    GUARD,
    async (t) => {
      const h = await startMonitored(t);
      const viewer = h.world.addUser('nova_lynx');
      const s01 = streamer(h, 1);
      const s08 = streamer(h, 8);
      const outside = h.chat.say(s08.login, { userLogin: viewer.login, text: 'anyone here? Kappa' });
      const id = h.chat.say(s01.login, {
        userLogin: viewer.login,
        text: 'what a play Kappa Kappa',
        badges: { subscriber: '12', moderator: '1' },
        emotes: { '25': 'Kappa' },
      });
      const plain = h.chat.say(s01.login, { userLogin: viewer.login, text: 'gg' });
      await until('two chat messages', () => h.messages.records.length >= 2);
      assert.deepEqual(h.messages.records[0], {
        broadcaster_id: Number(s01.id),
        timestamp: h.clock.now(),
        message_id: id,
        text: 'what a play Kappa Kappa',
        user_id: Number(viewer.id),
        user_name: 'nova_lynx',
        metadata: {
          emotes: { '25': ['12-16', '18-22'] },
          badges: { subscriber: '12', moderator: '1' },
          is_subscriber: true,
          is_mod: true,
        },
        broadcaster_login: s01.login,
      });
      assert.deepEqual(h.messages.records[1]!.metadata, {
        emotes: {},
        badges: {},
        is_subscriber: false,
        is_mod: false,
      });
      assert.equal(h.messages.records[1]!.message_id, plain);
      // The message in #streamer08 was said before these two on the same connection: it never came.
      assert.equal(h.messages.records.length, 2);
      assert.ok(!h.messages.records.some((m) => m.message_id === outside));
    },
  );

  it(
    'drops a channel marked allows_clipping = false from the ranks and its chat at the next poll',
    GUARD,
    async (t) => {
      const h = await startMonitored(t);
      const s01 = streamer(h, 1);
      const s02 = streamer(h, 2);
      const s03 = streamer(h, 3);
      const s04 = streamer(h, 4);
      const s05 = streamer(h, 5);
      const s06 = streamer(h, 6);
      // What the highlights job stores after Create Clip answers 403.
      const writer = await postgresStreamersSink(h.db).open({ clock: h.clock });
      await writer.write(
        [{ broadcaster_id: Number(s02.id), broadcaster_login: s02.login, allows_clipping: false }],
        [T0],
      );
      await writer.close();

      const mark = h.chat.joinLog.length;
      const p2 = await nextPoll(h, 11);
      assert.deepEqual(
        ranksAt(h, p2),
        Object.fromEntries(h.streamers.filter((u) => u !== s02).map((u, i) => [u.login, i + 1])),
        'streamer02 unranked, everyone below it one rank up',
      );
      assert.deepEqual(membershipSince(h, mark), [`join ${s06.login}`, `part ${s02.login}`]);
      assert.deepEqual(h.chat.joinedChannels(), logins([s01, s03, s04, s05, s06]));
      await until('rank events of poll 2', () => h.lifecycle.records.some((e) => e.timestamp === p2 / 1000));
      assert.ok(
        h.lifecycle.records.some(
          (e) => e.event_type === 'rank' && e.broadcaster_login === s03.login && e.rank === 2,
        ),
      );
      const [row] = await h.db.query<{ allows_clipping: boolean }>(
        'SELECT allows_clipping FROM streamers WHERE broadcaster_id = $1',
        [Number(s02.id)],
      );
      assert.equal(row?.allows_clipping, false, 'the next sighting did not turn clipping back on');
    },
  );

  it(
    'subscribes the joined channels to EventSub, publishes stream.offline, refuses forged messages',
    GUARD,
    async (t) => {
      const port = await freePort();
      const callbackUrl = `http://127.0.0.1:${port}/eventsub`;
      const h = await startMonitored(t, { eventSub: { callbackUrl, port, secret: SECRET } });
      const top5 = h.streamers.slice(0, 5);
      const enabled = () =>
        h.fake.eventSub.subscriptionsOf(h.app.clientId).filter((s) => s.status === 'enabled');
      await until(
        '10 enabled subscriptions',
        () => enabled().length >= 10,
        () => h.fake.eventSub.subscriptionsOf(h.app.clientId).map((s) => [s.type, s.status]),
      );
      await guarded('the verifications', h.fake.eventSub.flush());

      // As any client sees them: GET /eventsub/subscriptions with an app token.
      const appToken = h.world.issueAppToken(h.app.clientId).accessToken;
      const res = await fetch(`${h.fake.url}/helix/eventsub/subscriptions`, {
        headers: { Authorization: `Bearer ${appToken}`, 'Client-Id': h.app.clientId },
      });
      assert.equal(res.status, 200);
      const listed = (await res.json()) as {
        data: Array<{
          id: string;
          type: string;
          status: string;
          condition: { broadcaster_user_id: string };
          transport: { callback: string };
        }>;
      };
      const loginOf = (id: string) => h.world.users.get(id)?.login;
      assert.deepEqual(
        listed.data.map((s) => `${s.type} ${loginOf(s.condition.broadcaster_user_id)} ${s.status}`).sort(),
        top5.flatMap((u) => [`stream.offline ${u.login} enabled`, `stream.online ${u.login} enabled`]).sort(),
      );
      assert.ok(listed.data.every((s) => s.transport.callback === callbackUrl));

      const fromEventSub = () => h.lifecycle.records.filter((e) => e.source === 'eventsub');
      const s02 = streamer(h, 2);
      const s03 = streamer(h, 3);
      h.world.goOffline(s02.id);
      await until('the stream.offline record', () => fromEventSub().length >= 1);
      assert.deepEqual(fromEventSub(), [
        {
          event_type: 'offline',
          broadcaster_id: Number(s02.id),
          broadcaster_login: s02.login,
          rank: null,
          timestamp: Math.floor(h.clock.now() / 1000),
          source: 'eventsub',
        },
      ]);
      await guarded('the delivery', h.fake.eventSub.flush());
      assert.deepEqual(
        h.fake.eventSub.log.filter((r) => r.messageType === 'notification').map((r) => r.status),
        [204],
      );

      const subscriptionOf = (type: string, user: FakeUser) =>
        listed.data.find((s) => s.type === type && s.condition.broadcaster_user_id === user.id)!.id;
      const offlineSub = subscriptionOf('stream.offline', s02);
      const replayed = await guarded('the replay', h.fake.eventSub.sendDuplicate());
      assert.equal(replayed.status, 204, 'a replay is acknowledged');
      const tampered = await guarded('the tampered message', h.fake.eventSub.sendBadSignature(offlineSub));
      assert.equal(tampered.status, 403);
      const stale = await guarded('the stale message', h.fake.eventSub.sendStale(offlineSub));
      assert.equal(stale.status, 403);
      // A genuine message after them: once it is published, the three before it would have been too.
      const genuine = await guarded(
        'the genuine message',
        h.fake.eventSub.sendNotification(subscriptionOf('stream.online', s03)),
      );
      assert.equal(genuine.status, 204);
      await until('the stream.online record', () => fromEventSub().length >= 2);
      assert.deepEqual(
        fromEventSub().map((e) => [e.event_type, e.broadcaster_login]),
        [
          ['offline', s02.login],
          ['online', s03.login],
        ],
        'the replay, the tampered and the stale message published nothing',
      );
    },
  );

  describe('highlights: a spike becomes a Twitch clip', () => {
    it(
      'creates it 10 s after the detection, retries a 503 at +2 s, stores it after the 15 s fetch',
      GUARD,
      async (t) => {
        const run = await runHighlights(t, (tw) => tw.fake.helix.failNext('POST /clips', 503, { count: 1 }));
        const [detection] = run.detections;
        assert.equal(run.detections.length, 1, 'one burst, one detection');
        const at = detection!.at;
        // The highlights rules: create at +10 s; on a transient error again 2 s after the first try;
        // the metadata 15 s after the clip was created.
        assert.deepEqual(run.creates, [at + 10_000, at + 12_000], 'Create Clip attempts');
        assert.deepEqual(run.fetches, [at + 12_000 + 15_000], 'Get Clips');

        const clips = [...run.tw.world.clips.values()];
        assert.equal(clips.length, 1, 'the 503 created nothing; the retry one clip');
        const clip = clips[0]!;
        assert.equal(clip.createdAt, at + 12_000);
        await until('the clip in Postgres', () => run.clipRows() >= 1);
        const rows = await run.db.query<Record<string, unknown>>(
          'SELECT broadcaster_id, clip_id, embed_url, thumbnail_url, detected_at FROM clips',
        );
        assert.deepEqual(
          rows.map((r) => ({ ...r, broadcaster_id: Number(r.broadcaster_id) })),
          [
            {
              broadcaster_id: Number(run.channel.id),
              clip_id: clip.id,
              embed_url: `https://clips.twitch.tv/embed?clip=${clip.id}`,
              thumbnail_url: `https://clips-media-assets2.twitch.tv/${clip.id}-preview-480x272.jpg`,
              detected_at: detection!.value.detected_at,
            },
          ],
        );
        assert.deepEqual(run.failures, []);
      },
    );

    it('stores allows_clipping = false on a 403 and makes no clip', GUARD, async (t) => {
      const run = await runHighlights(t, (tw, channel) => tw.world.disableClipping(channel.id));
      assert.equal(run.detections.length, 1, 'one burst, one detection');
      const at = run.detections[0]!.at;
      assert.deepEqual(run.creates, [at + 10_000], 'a 403 is not retried');
      assert.deepEqual(run.fetches, []);
      assert.deepEqual(
        run.failures.map((f) => [f.stage, f.status, f.attempts]),
        [['create', 403, 1]],
      );
      await until('the streamers row', () => run.streamerRows() >= 1);
      const rows = await run.db.query<{
        broadcaster_id: unknown;
        streamer_login: string;
        allows_clipping: boolean;
      }>('SELECT broadcaster_id, streamer_login, allows_clipping FROM streamers');
      assert.deepEqual(
        rows.map((r) => [Number(r.broadcaster_id), r.streamer_login, r.allows_clipping]),
        [[Number(run.channel.id), run.channel.login, false]],
      );
      assert.deepEqual(await run.db.query('SELECT clip_id FROM clips'), []);
      assert.equal(run.tw.world.clips.size, 0);
    });
  });

  describe('a bad token file fails fast, in one line saying what to run', () => {
    async function refusal(promise: Promise<unknown>): Promise<string> {
      const error = await promise.then(
        () => assert.fail('startMonitor should have rejected'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TwitchAuthError, String(error));
      assert.doesNotMatch(error.message, /\n/, 'one line');
      assert.match(error.message, /run `scout auth seed --client-id .* --out /);
      return error.message;
    }

    it('missing, garbled or revoked', GUARD, async (t) => {
      const tw = await fakeTwitch(t);
      const start = (tokenFile: string) =>
        startMonitor({ tokenFile, chatUrl: tw.chat.url, set: {}, log: () => {} }, tw.clock);

      const missing = join(tw.dir, 'missing.json');
      assert.match(await refusal(start(missing)), /token file .*missing\.json not found/);

      const garbled = join(tw.dir, 'garbled.json');
      writeFileSync(garbled, '{"client_id": "abc", "access_token": ');
      assert.match(await refusal(start(garbled)), /garbled\.json is not valid JSON/);

      await seedTokenFile(tw);
      tw.world.revokeGrant(tw.app.clientId, tw.bot.id);
      assert.match(await refusal(start(tw.tokenFile)), /invalid and cannot be refreshed/);

      assert.equal(tw.chat.authLog.length, 0, 'nothing connected to chat');
    });

    it('through the CLI: exit 1 with one stderr line', GUARD, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'monitor-e2e-cli-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const missing = join(dir, 'missing.json');
      const child = spawn(
        process.execPath,
        [join(root, 'bin/scout.mjs'), 'run', 'monitor', '--twitch-token-file', missing],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (c) => resolve(c));
      });
      assert.equal(code, 1, stderr);
      assert.equal(stdout, '');
      const lines = stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0]!,
        new RegExp(
          `^scout: Twitch token file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} not found: run \`scout auth seed`,
        ),
      );
    });
  });
});

/** A port free a moment ago: the EventSub webhook is served on it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface HighlightsRun {
  readonly tw: Twitch;
  readonly db: Database;
  readonly channel: FakeUser;
  /** Detections with the clock time they were published. */
  readonly detections: ReadonlyArray<{ value: Detection; at: number }>;
  /** Clock times Create Clip / Get Clips calls reached the fake. */
  readonly creates: readonly number[];
  readonly fetches: readonly number[];
  readonly failures: readonly ClipFailure[];
  clipRows(): number;
  streamerRows(): number;
}

/** Generated chat: one channel, one burst after the 5-minute baseline (seed 4 has it at 6:07). */
const CHAT = { channels: 1, durationMs: 10 * MIN, seed: 4, startMs: T0, burstsPerHour: 30 };

/**
 * The highlights job, live, on the fake: generated chat fed second by second on the world's
 * clock, `twitchClipper` over our Helix client with the bot's token, clips and streamers in
 * PGlite. `script` changes the fake before the chat starts.
 */
async function runHighlights(
  t: TestContext,
  script: (tw: Twitch, channel: FakeUser) => void,
): Promise<HighlightsRun> {
  const tw = await fakeTwitch(t);
  const login = channelProfiles(CHAT)[0]!.login;
  const label = labelsOf(CHAT).get(login)![0]!;
  const channel = tw.world.addUser(login);
  tw.world.goLive(channel.id, { viewerCount: 5000 });
  const lines: ChatLine[] = [...generateChat(CHAT)]
    .filter((l) => l.ts < label.end_ms + 30_000)
    .map((l) => ({ ...l, broadcaster_id: Number(channel.id) }));
  script(tw, channel);

  await seedTokenFile(tw);
  const auth = await openTwitchAuth({ clock: tw.clock, tokenFile: tw.tokenFile });
  tw.defer(() => auth.close());
  const helix = new HelixClient({
    authProvider: auth.userProvider,
    clock: tw.clock,
    clipUserId: auth.userId,
  });
  // Counts the clipper's calls in flight, so the clock only moves once each has its answer.
  const inner = twitchClipper(helix);
  let inFlight = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight++;
    return p.finally(() => inFlight--);
  };
  const clipper: Clipper = {
    describe: () => inner.describe(),
    createClip: (spike, signal) => track(inner.createClip(spike, signal)),
    fetchClip: (handle, signal) => track(inner.fetchClip(handle, signal)),
  };
  const creates: number[] = [];
  const fetches: number[] = [];
  tw.fake.helix.onCall('POST /clips', () => creates.push(tw.world.clock.now()));
  tw.fake.helix.onCall('GET /clips', () => fetches.push(tw.world.clock.now()));

  const db = await memoryDatabase(tw);
  const clipStore = counted(postgresClipSink(db));
  const streamerStore = counted(postgresStreamersSink(db));
  const detections = stamped<Detection>(tw.clock);
  const failures = collect<ClipFailure>();
  const chat = liveQueue<ChatLine>('generated chat');
  const ctx = embeddedContext(new EmbeddedBroker(), {
    clock: tw.clock,
    mode: 'live',
    inputs: new Map<string, Source<unknown>>([['chat-messages', chat as Source<unknown>]]),
    outputs: new Map<string, Sink<unknown>>([
      ['highlights', detections as Sink<unknown>],
      ['clips', collect() as Sink<unknown>],
      ['clip-failures', failures as Sink<unknown>],
    ]),
    stores: new Map<string, Sink<unknown>>([
      ['clips', clipStore as Sink<unknown>],
      ['streamers', streamerStore as Sink<unknown>],
    ]),
    clipper,
  });
  const runtime = new JobRuntime(highlights.build(ctx).graph(), { clock: tw.clock });
  const done = runtime.run();
  tw.defer(async () => {
    runtime.stop();
    await guarded('the highlights job to stop', done);
  });

  // Second by second: the chat of that second, then wait until the job has read it and every
  // clip call has its answer. A minute past the chat's end leaves time for the clip's fetch.
  let next = 0;
  const end = label.end_ms + 30_000 + MIN;
  for (let now = T0 + 1000; now <= end; now += 1000) {
    await tw.clock.advanceTo(now);
    while (next < lines.length && lines[next]!.ts <= now) chat.push(lines[next++]!);
    await until(
      'the job to catch up',
      () => runtime.recordsRead() === next && inFlight === 0,
      () => ({ read: runtime.recordsRead(), pushed: next, inFlight }),
    );
  }
  for (const d of detections.seen) {
    assert.ok(
      d.value.detected_at >= label.start_ms && d.value.detected_at <= label.end_ms + 5_000,
      `detection at ${d.value.detected_at - T0} ms is in the burst [${label.start_ms - T0}, ${label.end_ms - T0}]`,
    );
  }
  return {
    tw,
    db,
    channel,
    detections: detections.seen,
    creates,
    fetches,
    failures: failures.records,
    clipRows: () => clipStore.written(),
    streamerRows: () => streamerStore.written(),
  };
}
