/**
 * `scout run monitor`: the monitor job against Twitch (or anything that speaks its contracts: the
 * fakes in test/fakes/twitch, reached through `TWURPLE_MOCK_API_PORT` and `--twitch-chat-url`).
 * It loads the token file (`scout auth seed` writes it) and fails fast, in one line, when the file
 * is missing or its token invalid; validates the token hourly; stores sightings in `streamers`; and
 * serves EventSub's webhook when `--eventsub-callback` says where Twitch can reach it. Its topics
 * go to Kafka with `--kafka`, or stay in-process with `stream-lifecycle` printed as JSON Lines.
 */
import { ApiClient } from '@twurple/api';
import { Hono } from 'hono';
import { jsonlFileSink } from '../../connectors/jsonl/file-sink.ts';
import { type DriverName, loadDriver, type ProducerDriver } from '../../connectors/kafka/driver.ts';
import { kafkaSink } from '../../connectors/kafka/sink.ts';
import type { Database } from '../../connectors/postgres/database.ts';
import { openMigratedDatabase } from '../../connectors/postgres/migrate.ts';
import { openTwitchAuth, type TwitchAuth } from '../../connectors/twitch/auth/index.ts';
import { EventSubSubscriptions, eventSubHandler } from '../../connectors/twitch/eventsub.ts';
import { HelixClient } from '../../connectors/twitch/helix.ts';
import { monitorBinding } from '../../connectors/twitch/monitor-binding.ts';
import { startServer } from '../../query-api/server.ts';
import { AvroSerde, connectRegistry, type Encoder } from '../../schemas/serde.ts';
import { topicSchema } from '../../schemas/topics.ts';
import { clippingDisabled, postgresStreamersSink } from '../../sinks/postgres/streamers-sink.ts';
import { discardSink, EmbeddedBroker, embeddedContext } from '../jobs/contexts.ts';
import monitor, { monitorOptions } from '../jobs/monitor.ts';
import { JobMetrics, startMetricsServer } from '../metrics/job-metrics.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { type Clock, SystemClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';
import { untilStopped } from './until-stopped.ts';

/** Partitions of the monitor's output topics when it creates them (keyed by broadcaster id). */
export const MONITOR_TOPIC_PARTITIONS = 8;

/**
 * How often the monitor's sinks are flushed, clock ms. The Kafka sink sends when its buffer fills
 * or at a flush, and the monitor writes a few records a poll: without a timer, lifecycle events
 * would wait for a full buffer for hours. Shorter sends smaller batches; longer delays every
 * record on the topics by up to this much.
 */
export const MONITOR_FLUSH_EVERY_MS = 1_000;

/** The topics the monitor writes. */
const MONITOR_TOPICS = ['stream-lifecycle', 'stream-snapshots', 'chat-messages'] as const;

export interface EventSubServing {
  /** The public HTTPS URL Twitch posts to (its path is where the handler listens). */
  readonly callbackUrl: string;
  /** Local port of the webhook server (behind the TLS proxy that serves `callbackUrl`). */
  readonly port: number;
  readonly host?: string;
  readonly secret: string;
}

export interface MonitorRunOptions {
  readonly tokenFile?: string;
  readonly chatUrl?: string;
  readonly eventSub?: EventSubServing;
  readonly set: Record<string, string>;
  /** Where `stream-lifecycle` goes without Kafka (default stdout). */
  readonly out?: string;
  readonly kafka?: {
    readonly brokers: readonly string[];
    readonly registry: string;
    readonly driver: DriverName;
    readonly topicPrefix?: string;
    readonly autoRegister: boolean;
  };
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** `DATABASE_URL`, or PGlite under `data/`. */
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly forMs?: number;
  readonly log: (line: string) => void;
}

export interface RunningMonitor {
  readonly runtime: JobRuntime;
  readonly done: Promise<void>;
  /** The EventSub webhook server's local URL, when serving. */
  readonly eventSubUrl?: string;
  readonly metricsUrl?: string;
  stop(): void;
}

/** Topic sinks of a Kafka run: the registry and producer are set up once, the topics on first use. */
async function kafkaOutputs(
  kafka: NonNullable<MonitorRunOptions['kafka']>,
): Promise<{ outputs: Map<string, Sink<unknown>>; close(): Promise<void> }> {
  const driver = await loadDriver(kafka.driver);
  const serde = new AvroSerde(await connectRegistry(kafka.registry), { autoRegister: kafka.autoRegister });
  const producer: ProducerDriver = driver.producer({ brokers: kafka.brokers, clientId: 'scout-monitor' });
  await producer.connect();
  const admin = driver.admin({ brokers: kafka.brokers, clientId: 'scout-monitor' });
  const outputs = new Map<string, Sink<unknown>>();
  for (const topic of MONITOR_TOPICS) {
    const physical = `${kafka.topicPrefix ?? ''}${topic}`;
    outputs.set(
      topic,
      kafkaSink<unknown>(producer, physical, async (): Promise<Encoder<unknown>> => {
        await admin.createTopics([{ topic: physical, partitions: MONITOR_TOPIC_PARTITIONS }]);
        return serde.encoder<unknown>(physical, topicSchema(topic));
      }),
    );
  }
  return {
    outputs,
    close: async () => {
      await producer.close().catch(() => {});
      await admin.close().catch(() => {});
    },
  };
}

/** What a caller (the demo, tests) binds differently from `scout run monitor`. */
export interface MonitorBindings {
  /** Auth already opened, instead of the token file. */
  readonly auth?: TwitchAuth;
  /** Topic sinks to use instead of Kafka or the in-process defaults, by topic. */
  readonly outputs?: ReadonlyMap<string, Sink<unknown>>;
  /** The database for `streamers`, owned by the caller, instead of opening one. */
  readonly db?: Database;
}

export async function startMonitor(
  options: MonitorRunOptions,
  clock: Clock,
  bindings: MonitorBindings = {},
): Promise<RunningMonitor> {
  const given = bindings.auth;
  const o = monitorOptions(options.set); // bad options fail before anything connects
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    let failure: unknown;
    let runtime: JobRuntime | undefined;
    const fail = (error: unknown) => {
      failure ??= error;
      runtime?.stop();
    };
    const auth =
      given ??
      (await openTwitchAuth({ clock, tokenFile: options.tokenFile, onFatal: fail, log: options.log }));
    if (!given) cleanups.push(() => auth.close());
    const helix = new HelixClient({ authProvider: auth.userProvider, clock, clipUserId: auth.userId });

    let db = bindings.db;
    if (db === undefined) {
      const opened = (await openMigratedDatabase({ url: options.databaseUrl, dataDir: options.dataDir })).db;
      cleanups.push(() => opened.close());
      db = opened;
    }
    const database = db;
    const subscriptions = options.eventSub
      ? new EventSubSubscriptions({
          api: new ApiClient({ authProvider: auth.appProvider }),
          callbackUrl: options.eventSub.callbackUrl,
          secret: options.eventSub.secret,
        })
      : undefined;
    const binding = monitorBinding({
      clock,
      helix,
      chatAuth: auth.userProvider,
      ...(options.chatUrl !== undefined ? { chatUrl: options.chatUrl } : {}),
      ...(subscriptions ? { subscriptions } : {}),
      excluded: () => clippingDisabled(database),
      pollIntervalMs: o.pollIntervalMs,
      top: o.top,
      log: options.log,
    });
    cleanups.push(() => binding.close());
    await binding.chat.connect();

    let eventSubUrl: string | undefined;
    if (options.eventSub) {
      const path = new URL(options.eventSub.callbackUrl).pathname;
      const app = new Hono();
      app.get('/health', (c) => c.json({ status: 'ok' }));
      app.route(
        path === '/' ? '' : path,
        eventSubHandler({ secret: options.eventSub.secret, clock, ...binding.eventSubEvents }),
      );
      const server = await startServer(app, {
        port: options.eventSub.port,
        hostname: options.eventSub.host ?? '127.0.0.1',
        portFlag: '--eventsub-port',
      });
      eventSubUrl = `${server.url}${path}`;
      cleanups.push(() => server.close());
      options.log(`EventSub webhook on ${eventSubUrl} (Twitch posts to ${options.eventSub.callbackUrl})`);
    }

    const outputs = new Map<string, Sink<unknown>>(binding.outputs);
    if (options.kafka) {
      const kafka = await kafkaOutputs(options.kafka);
      cleanups.push(kafka.close);
      for (const [topic, sink] of kafka.outputs) outputs.set(topic, sink);
    } else {
      outputs.set('stream-lifecycle', jsonlFileSink(options.out ?? '-'));
      // In-process, nothing reads these: counted in metrics, not kept (a day of chat would fill memory).
      outputs.set('stream-snapshots', discardSink('topic stream-snapshots'));
      outputs.set('chat-messages', discardSink('topic chat-messages'));
    }
    for (const [topic, sink] of bindings.outputs ?? []) outputs.set(topic, sink);
    const ctx = embeddedContext(new EmbeddedBroker(), {
      clock,
      mode: 'live',
      options: options.set,
      inputs: binding.inputs,
      outputs,
      stores: new Map([['streamers', postgresStreamersSink(database) as Sink<unknown>]]),
    });
    const graph = monitor.build(ctx).graph();
    const metrics = options.metricsPort !== undefined ? new JobMetrics(graph.name, clock) : undefined;
    let metricsUrl: string | undefined;
    if (metrics && options.metricsPort !== undefined) {
      binding.register(metrics.registry);
      const served = await startMetricsServer(metrics, options.metricsPort, options.metricsHost);
      cleanups.push(() => served.close());
      metricsUrl = served.url;
      options.log(`metrics on ${served.url}`);
    }
    let nextFlush = clock.now() + MONITOR_FLUSH_EVERY_MS;
    runtime = new JobRuntime(graph, {
      clock,
      onBoundary: async (r) => {
        if (clock.now() < nextFlush) return;
        nextFlush = clock.now() + MONITOR_FLUSH_EVERY_MS;
        await r.drainSinks();
      },
      nextBoundaryAt: () => nextFlush,
    });
    metrics?.watch(runtime);
    const job = runtime;
    options.log(
      `monitor: top ${o.top} every ${o.pollIntervalMs / 1000} s as ${auth.login}; chats of the top ${o.chatEnter} (left below ${o.chatLeave})`,
    );
    const done = job
      .run()
      .then(() => {
        if (failure) throw failure;
      })
      .finally(cleanup);
    return {
      runtime: job,
      done,
      stop: () => job.stop(),
      ...(eventSubUrl ? { eventSubUrl } : {}),
      ...(metricsUrl ? { metricsUrl } : {}),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export async function runMonitorCommand(options: MonitorRunOptions): Promise<void> {
  const clock = new SystemClock();
  await untilStopped(await startMonitor(options, clock), clock, options.forMs);
}
