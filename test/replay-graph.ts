/**
 * A job file's graph bound as `scout replay` binds it — chat files in, JSON Lines out — for tests
 * that drive the runtime themselves (crashing it, asking for savepoints) on an injected clock.
 */
import { jsonlFileSink } from '../connectors/jsonl/file-sink.ts';
import { jsonlReplaySource } from '../connectors/jsonl/replay-source.ts';
import type { Graph } from '../pipeline/graph.ts';
import { EmbeddedBroker, embeddedContext } from '../pipeline/jobs/contexts.ts';
import { loadJob } from '../pipeline/jobs/registry.ts';
import type { Clock } from '../pipeline/time/clock.ts';
import type { Sink, Source } from '../pipeline/types.ts';

export async function replayGraph(
  jobFile: string,
  inputs: readonly string[],
  out: string,
  clock: Clock,
): Promise<Graph> {
  const job = await loadJob(jobFile);
  const ctx = embeddedContext(new EmbeddedBroker(), {
    clock,
    mode: 'replay',
    inputs: new Map([[job.input, jsonlReplaySource([...inputs]) as Source<unknown>]]),
    outputs: new Map([[job.output, jsonlFileSink(out) as Sink<unknown>]]),
  });
  return job.build(ctx).graph();
}
