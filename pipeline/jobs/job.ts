/**
 * What a job is: a name, a description, and a function that builds its graph from a context. The
 * context binds the job's named topics to whatever the run uses — in-process topics on the
 * embedded default, files in a replay, Kafka when configured — so one job definition serves all.
 *
 * @example
 * export default defineJob({
 *   name: 'count-chat',
 *   description: 'Messages per channel every minute',
 *   output: 'chat-counts',
 *   build: (ctx) => {
 *     const p = pipeline('count-chat');
 *     p.from(ctx.input<ChatLine>('chat-messages'), { timestamp: (m) => m.ts })
 *       .keyBy((m) => m.broadcaster_login)
 *       .window(tumbling(60_000))
 *       .aggregate(count())
 *       .to(ctx.output('chat-counts'));
 *     return p;
 *   },
 * });
 */
import type { Clipper } from '../../operators/clips/clipper.ts';
import type { Pipeline } from '../builder.ts';
import type { Clock } from '../time/clock.ts';
import type { Sink, Source } from '../types.ts';

export interface JobContext {
  /** A source reading the named topic, bound by the runner. */
  input<T>(topic: string): Source<T>;
  /** A sink writing the named topic, bound by the runner. */
  output<T>(topic: string): Sink<T>;
  /**
   * A sink storing into the named database table (Postgres, or PGlite on the embedded default),
   * bound by the runner; a run without a database gets a sink that only counts.
   */
  store<T>(table: string): Sink<T>;
  /** Who makes clips: Twitch when configured; jobs fall back to the local clipper. */
  readonly clipper?: Clipper;
  /** 'live' follows the clock; 'replay' runs recorded data as fast as event time allows. */
  readonly mode: 'live' | 'replay';
  readonly clock: Clock;
  /** Job options from `--set key=value`. */
  readonly options: Readonly<Record<string, string>>;
}

export interface JobDefinition {
  readonly name: string;
  readonly description: string;
  /** The topic the job reads its main input from. */
  readonly input: string;
  /** The topic holding the job's main result (what `scout replay --out` writes). */
  readonly output: string;
  build(ctx: JobContext): Pipeline;
}

/** Declares a job; a job file exports one as its default export. */
export function defineJob(definition: JobDefinition): JobDefinition {
  return definition;
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  const v = value as Partial<JobDefinition> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.build === 'function' &&
    typeof v.input === 'string' &&
    typeof v.output === 'string'
  );
}
