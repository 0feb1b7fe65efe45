/**
 * `scout run <job|file.ts>`: runs a job on the embedded default. Its input is generated chat (the
 * stand-in for the monitor job until Twitch is connected), paced at `--speed` times real time;
 * its main output is printed as JSON Lines (or written to `--out`). Tables it stores into (clips)
 * go to PGlite under `./data`, or to the Postgres server of `DATABASE_URL`. With `--state-dir` it
 * checkpoints, and started again with the same arguments it resumes where its last checkpoint was.
 */
import { jsonlFileSink } from '../../connectors/jsonl/file-sink.ts';
import { syntheticChatSource } from '../../connectors/synthetic/source.ts';
import { databaseStores } from '../../sinks/postgres/stores.ts';
import { EMBEDDED_PARTITIONS, EmbeddedBroker, embeddedContext } from '../jobs/contexts.ts';
import { loadJob } from '../jobs/registry.ts';
import { JobMetrics, startMetricsServer } from '../metrics/job-metrics.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { type Clock, SystemClock } from '../time/clock.ts';
import type { Sink, Source } from '../types.ts';
import { openStateFromFlags, type StateFlags } from './state.ts';
import { untilStopped } from './until-stopped.ts';

export interface RunCommandOptions extends StateFlags {
  readonly channels: number;
  readonly seed: number;
  readonly speed: number;
  readonly forMs?: number;
  readonly out?: string;
  readonly set: Record<string, string>;
  /** Serve Prometheus metrics on this port (0: any free one). */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
}

export interface RunningJob {
  readonly job: JobRuntime;
  /** Resolves when the job has stopped (and its last checkpoint is written). */
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

/**
 * Starts the job with generated chat as its input; used by `run` and `demo`. The generator is the
 * job's source itself rather than a feed into an in-process topic: its positions (records per
 * partition, regenerated from the seed on resume) are then part of the job's checkpoints, which an
 * in-process topic, gone with the process, could not give back after a crash.
 */
export async function startEmbedded(
  ref: string,
  options: RunCommandOptions,
  clock: Clock,
  bindings: EmbeddedBindings = {},
): Promise<RunningJob> {
  const definition = await loadJob(ref);
  const outputs = new Map<string, Sink<unknown>>();
  outputs.set(definition.output, bindings.output ?? jsonlFileSink(options.out ?? '-'));
  const chat = syntheticChatSource({
    channels: options.channels,
    hours: Number.POSITIVE_INFINITY,
    seed: options.seed,
    speed: options.speed,
    partitions: EMBEDDED_PARTITIONS,
    ...(bindings.startMs !== undefined ? { startMs: bindings.startMs } : {}),
  });
  const ctx = embeddedContext(new EmbeddedBroker(), {
    clock,
    mode: 'live',
    options: options.set,
    inputs: new Map([[definition.input, chat as Source<unknown>]]),
    outputs,
    ...(bindings.stores ? { stores: bindings.stores } : {}),
  });
  const graph = definition.build(ctx).graph();
  // Metrics only when served: their process collectors are not free to set up.
  const metrics = options.metricsPort !== undefined ? new JobMetrics(graph.name, clock) : undefined;
  const state = await openStateFromFlags(options, graph, clock, metrics);
  const served =
    metrics && options.metricsPort !== undefined
      ? await startMetricsServer(metrics, options.metricsPort, options.metricsHost).catch(async (error) => {
          await state?.close();
          throw error;
        })
      : undefined;
  if (served) (options.log ?? (() => {}))(`metrics on ${served.url}`);
  const job = new JobRuntime(graph, {
    clock,
    ...(state?.restore ? { restore: state.restore, adoptRestore: true } : {}),
    ...(state ? { onBoundary: state.checkpointer.onBoundary } : {}),
  });
  metrics?.watch(job);
  const done = job
    .run()
    .then(() => {})
    .finally(async () => {
      await state?.close();
      await served?.close();
    });
  return { job, done, stop: () => job.stop() };
}

export async function runCommand(ref: string, options: RunCommandOptions): Promise<void> {
  const clock = new SystemClock();
  // Tables (the highlights job's clips) go to PGlite under ./data, or to DATABASE_URL.
  const running = await startEmbedded(ref, options, clock, {
    stores: databaseStores({ url: process.env.DATABASE_URL }),
  });
  await untilStopped(running, clock, options.forMs);
}
