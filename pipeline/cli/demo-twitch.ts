/**
 * `scout demo --twitch-fake`: monitor + highlights end to end against the local Twitch fakes
 * (test/fakes/twitch), no servers and no Twitch account. A scripted Twitch (a dozen channels whose
 * viewer counts drift, chat with bursts, one channel that does not allow clipping) runs on a
 * clock `--speed` times faster than real time; the monitor polls it, joins the chats of the top 5
 * and leaves them below the top 10; the highlights job finds the bursts and clips them through the
 * fake's Create Clip; the clips appear on the page. Everything talks over real sockets on
 * 127.0.0.1, through the same configuration a real run uses (`TWURPLE_MOCK_API_PORT`, the chat URL,
 * a token file).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryTopicSink } from '../../connectors/memory/memory-topic-sink.ts';
import { openTwitchAuth } from '../../connectors/twitch/auth/index.ts';
import { writeTokenFile } from '../../connectors/twitch/auth/token-file.ts';
import { twitchClipper } from '../../connectors/twitch/clipper.ts';
import { HelixClient } from '../../connectors/twitch/helix.ts';
import type { ChatMessage, StreamLifecycle } from '../../schemas/avro-types.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { chatLineOf } from '../../schemas/chat-message.ts';
import type { Detection } from '../../schemas/detection.ts';
import { postgresClipSink } from '../../sinks/postgres/clip-sink.ts';
import { postgresStreamersSink } from '../../sinks/postgres/streamers-sink.ts';
import { startFakeChat } from '../../test/fakes/twitch/chat-server.ts';
import { startScenario } from '../../test/fakes/twitch/scenario.ts';
import { startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { TwitchWorld } from '../../test/fakes/twitch/world.ts';
import { discardSink, EmbeddedBroker, embeddedContext } from '../jobs/contexts.ts';
import highlights from '../jobs/highlights.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { ScaledClock, SystemClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';
import { START_BEFORE_NOW_MS, STATUS_MS } from './demo.ts';
import { startMonitor } from './run-monitor.ts';
import { startClipServer } from './serve.ts';

export interface TwitchDemoOptions {
  readonly speed: number;
  readonly seed: number;
  readonly port: number;
  readonly forMs?: number;
  readonly dataDir?: string;
}

/** The monitor's poll interval in fake time: often enough that the top list moves visibly. */
const DEMO_POLL = '30s';

/** A sink that maps its records before the inner sink writes them. */
function mapped<A, B>(inner: Sink<B>, fn: (a: A) => B): Sink<A> {
  return {
    describe: () => inner.describe(),
    async open(ctx) {
      const w = await inner.open(ctx);
      return {
        write: (records: readonly A[], ts: readonly number[]) => w.write(records.map(fn), ts),
        ...(w.flush ? { flush: () => w.flush?.() } : {}),
        close: () => w.close(),
      };
    },
  };
}

export async function twitchDemoCommand(
  options: TwitchDemoOptions,
  write: (s: string) => void,
): Promise<void> {
  const clock = new ScaledClock(options.speed, Date.now() - START_BEFORE_NOW_MS);
  const world = new TwitchWorld({ clock });
  const fakeHttp = await startFakeTwitch({ world });
  const fakeChat = await startFakeChat({ world });
  process.env.TWURPLE_MOCK_API_PORT = String(fakeHttp.port);
  const scenario = startScenario(world, fakeChat, { seed: options.seed });
  const app = world.registerApp();
  const bot = world.addUser('scoutbot');
  const token = world.issueUserToken(app.clientId, bot.id, ['chat:read', 'clips:edit']);
  const dir = await mkdtemp(join(tmpdir(), 'scout-demo-'));
  const tokenFile = join(dir, 'twitch-tokens.json');
  await writeTokenFile(tokenFile, {
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    token: {
      accessToken: token.accessToken,
      refreshToken: token.refreshToken,
      scope: [...token.scopes],
      expiresIn: world.userTokenTtlS,
      // twurple reads token ages by the wall clock.
      obtainmentTimestamp: new SystemClock().now(),
    },
  });
  const { db, server } = await startClipServer({
    port: options.port,
    databaseUrl: process.env.DATABASE_URL,
    dataDir: options.dataDir,
    clock,
  });
  const auth = await openTwitchAuth({ clock, tokenFile });
  const broker = new EmbeddedBroker();
  let online = 0;
  const lifecycle: Sink<StreamLifecycle> = {
    describe: () => 'demo status',
    open: () => ({
      write(events) {
        for (const e of events) online += e.event_type === 'online' ? 1 : e.event_type === 'offline' ? -1 : 0;
      },
      close() {},
    }),
  };
  const monitor = await startMonitor(
    { set: { poll: DEMO_POLL }, chatUrl: fakeChat.url, log: (line) => write(`  ${line}\n`) },
    clock,
    {
      auth,
      db,
      outputs: new Map<string, Sink<unknown>>([
        ['stream-lifecycle', lifecycle as Sink<unknown>],
        ['stream-snapshots', discardSink('topic stream-snapshots')],
        [
          'chat-messages',
          mapped<ChatMessage, ChatLine>(
            memoryTopicSink(broker.topic<ChatLine>('chat-messages')),
            chatLineOf,
          ) as Sink<unknown>,
        ],
      ]),
    },
  );
  let detections = 0;
  const clipSink = postgresClipSink(db);
  const ctx = embeddedContext(
    broker,
    {
      clock,
      mode: 'live',
      outputs: new Map<string, Sink<unknown>>([
        [
          'highlights',
          {
            describe: () => 'demo status',
            open: () => ({
              write: (records: readonly Detection[]) => {
                detections += records.length;
              },
              close() {},
            }),
          } as Sink<unknown>,
        ],
      ]),
      stores: new Map<string, Sink<unknown>>([
        ['clips', clipSink as Sink<unknown>],
        ['streamers', postgresStreamersSink(db) as Sink<unknown>],
      ]),
      clipper: twitchClipper(
        new HelixClient({ authProvider: auth.userProvider, clock, clipUserId: auth.userId }),
      ),
    },
    'highlights',
  );
  const job = new JobRuntime(highlights.build(ctx).graph(), { clock });
  const highlightsDone = job.run();
  write(
    [
      `streamscout demo against a fake Twitch — ${scenario.streamers.length} channels at ${options.speed}× real time → monitor → highlights → clips in ${db.describe()}`,
      `  open ${server.url} — the first clips come after 5 minutes of fake time (${Math.round(300 / options.speed)} s here) of baseline`,
      `  fake Helix + OAuth on ${fakeHttp.url}, fake chat on ${fakeChat.url}; ${scenario.noClips.login} does not allow clipping: once its first Create Clip answers 403 it leaves the ranking and its chat. Ctrl-C stops.`,
      '',
    ].join('\n'),
  );
  // Status and --for run in wall time: that is what the person watching counts in.
  const wall = new SystemClock();
  const started = wall.now();
  const status = () => {
    const s = Math.round((wall.now() - started) / 1000);
    write(
      `[${s}s] ${online} streams online · chats: ${fakeChat.joinedChannels().join(', ') || '—'} · ${scenario.sent()} messages · ${detections} spikes · ${clipSink.stats().rowsWritten} clips stored\n`,
    );
  };
  let cancelStatus = wall.schedule(wall.now() + STATUS_MS, function tick() {
    status();
    cancelStatus = wall.schedule(wall.now() + STATUS_MS, tick);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    write('stopping: the monitor stops, then the clips in flight are finished and stored\n');
    monitor.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const cancelFor = options.forMs !== undefined ? wall.schedule(wall.now() + options.forMs, stop) : undefined;
  try {
    await monitor.done;
    scenario.stop();
    job.stop();
    await highlightsDone;
  } finally {
    cancelStatus();
    cancelFor?.();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    status();
    scenario.stop();
    await auth.close();
    await fakeChat.close();
    await fakeHttp.close();
    await server.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
    write('stopped\n');
  }
}
