/**
 * `scout replay <files…> --job <job>`: runs recorded chat (JSON Lines, plain or gzipped) through a
 * job in event time — as fast as the CPU allows, or at the recorded pace × `--speed` — and writes
 * the job's main output as JSON Lines. Malformed lines are counted, skipped and reported at the end.
 */
import { existsSync, statSync } from 'node:fs';
import { jsonlFileSink } from '../../connectors/jsonl/file-sink.ts';
import { jsonlReplaySource } from '../../connectors/jsonl/replay-source.ts';
import { databaseStores } from '../../sinks/postgres/stores.ts';
import type { CheckpointMetrics } from '../checkpoint/coordinator.ts';
import type { Graph } from '../graph.ts';
import { EmbeddedBroker, embeddedContext } from '../jobs/contexts.ts';
import { loadJob } from '../jobs/registry.ts';
import { type JobResult, JobRuntime } from '../runtime/runtime.ts';
import { SystemClock } from '../time/clock.ts';
import type { Sink, Source } from '../types.ts';
import { UsageError } from './errors.ts';
import { progressBar } from './progress.ts';
import { openStateFromFlags, type StateFlags } from './state.ts';

export interface ReplayCommandOptions extends StateFlags {
  readonly job: string;
  readonly out?: string;
  readonly speed?: number;
  readonly set: Record<string, string>;
  /** Store the job's tables (clips) in the database (PGlite under ./data, or `DATABASE_URL`). */
  readonly store?: boolean;
}

export interface ReplaySummary {
  readonly records: number;
  readonly outputs: number;
  readonly malformed: number;
  /** Where the first malformed line was, e.g. `chat.jsonl:51 (Unexpected token)`. */
  readonly firstMalformed?: string;
  readonly seconds: number;
  /** With `stateDir`: checkpoints taken, and the longest time one held processing up. */
  readonly checkpoints?: { readonly count: number; readonly longestPauseMs: number };
}

export async function replayCommand(
  files: readonly string[],
  options: ReplayCommandOptions,
): Promise<ReplaySummary> {
  for (const file of files) {
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    if (!statSync(file).isFile()) throw new UsageError(`not a file: ${file}`);
  }
  const definition = await loadJob(options.job);
  const clock = new SystemClock();
  const source = jsonlReplaySource([...files], options.speed ? { speed: options.speed } : {});
  const inputs = new Map<string, Source<unknown>>([[definition.input, source as Source<unknown>]]);
  const outputs = new Map<string, Sink<unknown>>([[definition.output, jsonlFileSink(options.out ?? '-')]]);
  const ctx = embeddedContext(new EmbeddedBroker(), {
    clock,
    mode: 'replay',
    options: options.set,
    inputs,
    outputs,
    ...(options.store ? { stores: databaseStores({ url: process.env.DATABASE_URL }) } : {}),
  });
  const graph = definition.build(ctx).graph();

  const state = await openStateFromFlags(options, graph, clock);

  const started = clock.now();
  let bar: ReturnType<typeof progressBar> | undefined;
  let lastDraw = 0;
  const runtime = new JobRuntime(graph, {
    clock,
    ...(state?.restore ? { restore: state.restore, adoptRestore: true } : {}),
    onBoundary: async (rt) => {
      if (state) await state.checkpointer.onBoundary(rt);
      const now = clock.now();
      if (now - lastDraw < 100) return; // redraw at most 10 times a second
      lastDraw = now;
      const stats = source.stats();
      bar ??= progressBar(stats.totalBytes, 'replay', 'B');
      bar.update(stats.bytesRead, { rate: `${stats.linesRead} lines` });
    },
  });
  const result = await runtime.run().finally(async () => {
    bar?.stop();
    await state?.close();
  });
  const stats = source.stats();
  const outputsWritten = outputRecords(graph, outputs.get(definition.output)!, result.metrics);
  const seconds = (clock.now() - started) / 1000;
  const first = stats.firstMalformed;
  return {
    records: stats.linesRead - stats.malformed,
    outputs: outputsWritten,
    malformed: stats.malformed,
    ...(first ? { firstMalformed: `${first.file}:${first.line} (${first.error})` } : {}),
    seconds,
    ...(state ? { checkpoints: checkpointSummary(state.checkpointer.metrics()) } : {}),
  };
}

function checkpointSummary(m: CheckpointMetrics): ReplaySummary['checkpoints'] {
  return { count: m.checkpoints, longestPauseMs: m.longestPauseMs };
}

/** Records that reached the sink bound to the job's main output. */
function outputRecords(graph: Graph, sink: Sink<unknown>, metrics: JobResult['metrics']): number {
  const step = graph.steps.find((s) => s.spec.kind === 'sink' && s.spec.sink === sink);
  return step ? (metrics[step.id]?.recordsIn ?? 0) : 0;
}
