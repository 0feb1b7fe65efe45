/**
 * `scout run <job|file.ts>`: runs a job on the embedded default. Its input topic is fed with
 * generated chat (the stand-in for the monitor job until Twitch is connected), paced at `--speed`
 * times real time; its main output is printed as JSON Lines (or written to `--out`). Tables it
 * stores into (clips) go to PGlite under `./data`, or to the Postgres server of `DATABASE_URL`.
 */
import { jsonlFileSink } from '../../connectors/jsonl/file-sink.ts';
import { memoryTopicSink } from '../../connectors/memory/memory-topic-sink.ts';
import { syntheticChatSource } from '../../connectors/synthetic/source.ts';
import { databaseStores } from '../../sinks/postgres/stores.ts';
import { pipeline } from '../builder.ts';
import { EmbeddedBroker, embeddedContext } from '../jobs/contexts.ts';
import { loadJob } from '../jobs/registry.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { type Clock, SystemClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';

export interface RunCommandOptions {
  readonly channels: number;
  readonly seed: number;
  readonly speed: number;
  readonly forMs?: number;
  readonly out?: string;
  readonly set: Record<string, string>;
}

export interface RunningJob {
  readonly job: JobRuntime;
  readonly feed: JobRuntime;
  /** Resolves when both have stopped. */
  readonly done: Promise<void>;
  stop(): void;
}

/** What `demo` binds differently from `run`. */
export interface EmbeddedBindings {
  /** The sink of the job's main output (default: JSON Lines to `--out` or stdout). */
  readonly output?: Sink<unknown>;
  /** Table sinks (default: none, tables are not stored). */
  readonly stores?: ReadonlyMap<string, Sink<unknown>>;
  /** Event time of the first generated message (default: the generator's fixed epoch). */
  readonly startMs?: number;
}

/** Starts the feed and the job; used by `run` and `demo`. */
export async function startEmbedded(
  ref: string,
  options: RunCommandOptions,
  clock: Clock,
  bindings: EmbeddedBindings = {},
): Promise<RunningJob> {
  const definition = await loadJob(ref);
  const broker = new EmbeddedBroker();
  const outputs = new Map<string, Sink<unknown>>();
  outputs.set(definition.output, bindings.output ?? jsonlFileSink(options.out ?? '-'));
  const ctx = embeddedContext(broker, {
    clock,
    mode: 'live',
    options: options.set,
    outputs,
    ...(bindings.stores ? { stores: bindings.stores } : {}),
  });
  const job = new JobRuntime(definition.build(ctx).graph(), { clock });

  const feedPipeline = pipeline(`feed-${definition.input}`);
  feedPipeline
    .from(
      syntheticChatSource({
        channels: options.channels,
        hours: Number.POSITIVE_INFINITY,
        seed: options.seed,
        speed: options.speed,
        ...(bindings.startMs !== undefined ? { startMs: bindings.startMs } : {}),
      }),
    )
    .to(memoryTopicSink(broker.topic(definition.input), { key: (m) => m.broadcaster_login }));
  const feed = new JobRuntime(feedPipeline.graph(), { clock });

  const stop = () => {
    feed.stop();
    job.stop();
  };
  const done = Promise.all([feed.run(), job.run()]).then(() => {});
  done.catch(stop);
  return { job, feed, done, stop };
}

export async function runCommand(ref: string, options: RunCommandOptions): Promise<void> {
  const clock = new SystemClock();
  // Tables (the highlights job's clips) go to PGlite under ./data, or to DATABASE_URL.
  const running = await startEmbedded(ref, options, clock, {
    stores: databaseStores({ url: process.env.DATABASE_URL }),
  });
  const stopOnSignal = () => running.stop();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  if (options.forMs !== undefined) clock.schedule(clock.now() + options.forMs, () => running.stop());
  try {
    await running.done;
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}
