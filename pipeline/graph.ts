/**
 * The job graph as plain data. Building a pipeline only appends `Step`s here; nothing runs until
 * the runtime interprets the graph. That is what `scout plan`, golden tests and replays rest on.
 */

import type { WindowAssigner } from '../operators/window/assigner.ts';
import type { ProcessContext, StateSpec, TimerContext } from './state/api.ts';
import type { Sink, Source } from './types.ts';

/** Names a side output and the type of what flows on it. */
export interface OutputTag<T> {
  readonly name: string;
  /** Phantom field carrying the element type; never set. */
  readonly __type?: T;
}

/** Creates a side-output tag. @example const late = outputTag<ChatMessage>('late-chat'); */
export function outputTag<T>(name: string): OutputTag<T> {
  return { name };
}

/** One edge: the main output (`output` undefined) or a named output of a step. */
export interface Edge {
  readonly step: string;
  readonly output?: string;
}

export interface WatermarkOptions {
  /** How late (ms of event time) a record may arrive behind the newest one seen on its partition. Default 0. */
  readonly outOfOrdernessMs?: number;
  /** A partition with no records for this long (processing time) stops holding back the watermark. Default: never idle. */
  readonly idleTimeoutMs?: number;
}

export interface RetryOptions {
  /**
   * When to try again, each measured from the start of the first attempt: `[2000, 4000]` retries at
   * +2 s and +4 s. A retry whose moment has already passed starts as soon as the attempt before it failed.
   */
  readonly delaysMs: readonly number[];
  /** Which errors are worth another attempt. Default: all. */
  readonly retryOn?: (error: unknown) => boolean;
}

/** What happened to an element whose asynchronous call failed for good. */
export interface AsyncFailure<T> {
  readonly value: T;
  readonly error: string;
  readonly attempts: number;
  /** The last error's numeric `status` (an HTTP status), when it had one. */
  readonly status?: number;
}

export interface AsyncOptions<T> {
  /** Calls in flight at once; more elements wait, and the sources pause. Default 16. */
  readonly concurrency?: number;
  /** Limit for one attempt; a timed-out attempt counts as a failed one. Default: none. */
  readonly timeoutMs?: number;
  /** Emit results in input order (default) or as they complete. */
  readonly ordered?: boolean;
  readonly retry?: RetryOptions;
  /** A final failure fails the job (default), is dropped, or goes to this side output. */
  readonly onFailure?: 'fail' | 'drop' | OutputTag<AsyncFailure<T>>;
}

export interface AsyncCallContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the attempt times out. */
  readonly signal: AbortSignal;
}

export interface Aggregator<T, A, R> {
  create(): A;
  add(accumulator: A, value: T): A;
  /** Combines two accumulators when session windows merge. Required for session windows. */
  merge?(a: A, b: A): A;
  result(accumulator: A): R;
}

/** The result of a window aggregation. */
export interface Windowed<K, R> {
  readonly key: K;
  /** Window start, inclusive (epoch ms). */
  readonly start: number;
  /** Window end, exclusive (epoch ms). */
  readonly end: number;
  readonly value: R;
}

export interface WindowProcessContext<K, R> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  emit(value: R): void;
}

export type WindowFunction<K, T, A, R> =
  | { readonly kind: 'aggregate'; readonly aggregator: Aggregator<T, A, R> }
  | {
      readonly kind: 'process';
      readonly fn: (elements: readonly T[], ctx: WindowProcessContext<K, R>) => void;
    };

export interface KeyedProcessFunction<K, T, R, S extends StateSpec> {
  /** The keyed state this step uses, declared up front; its handles arrive on `ctx.state`. */
  readonly state?: S;
  onElement(value: T, ctx: ProcessContext<K, S, R>): void;
  onTimer?(timestamp: number, ctx: TimerContext<K, S, R>): void;
}

/* The step specs. Functions are typed loosely here; the builder is where types are enforced. */
type Fn = (...args: never[]) => unknown;

export type StepSpec =
  | {
      readonly kind: 'source';
      readonly source: Source<unknown>;
      readonly timestamp?: Fn;
      readonly watermark: WatermarkOptions;
    }
  | { readonly kind: 'map'; readonly fn: Fn }
  | { readonly kind: 'filter'; readonly fn: Fn }
  | { readonly kind: 'flatMap'; readonly fn: Fn }
  | { readonly kind: 'union' }
  | { readonly kind: 'split'; readonly routes: Readonly<Record<string, Fn>> }
  | { readonly kind: 'keyBy'; readonly fn: Fn }
  | {
      readonly kind: 'window';
      readonly assigner: WindowAssigner;
      readonly allowedLatenessMs: number;
      readonly lateOutput?: string;
      readonly fn: WindowFunction<never, never, unknown, unknown>;
    }
  | { readonly kind: 'process'; readonly fn: KeyedProcessFunction<never, never, unknown, StateSpec> }
  | { readonly kind: 'asyncMap'; readonly fn: Fn; readonly options: AsyncOptions<unknown> }
  | { readonly kind: 'delay'; readonly ms: number; readonly time: 'event' | 'processing' }
  | { readonly kind: 'sink'; readonly sink: Sink<unknown> };

export type StepKind = StepSpec['kind'];

export interface Step {
  /** Stable id: names the step's state and metrics; explicit ids survive edits to the graph. */
  readonly id: string;
  readonly inputs: readonly Edge[];
  /** Named outputs besides the main one (split routes, side outputs). */
  readonly outputs: readonly string[];
  /** One line for `scout plan`. */
  readonly label: string;
  readonly spec: StepSpec;
}

export interface Graph {
  readonly name: string;
  readonly steps: readonly Step[];
}

/** The steps reading each step's outputs. */
export function consumers(graph: Graph): Map<string, Step[]> {
  const out = new Map<string, Step[]>();
  for (const step of graph.steps) {
    for (const edge of step.inputs) {
      const list = out.get(edge.step) ?? [];
      list.push(step);
      out.set(edge.step, list);
    }
  }
  return out;
}

/** Renders the graph readably, one step a line, inputs named. Used by `scout plan`. */
export function formatPlan(graph: Graph): string {
  const lines = [`pipeline ${graph.name} (${graph.steps.length} steps)`];
  const width = Math.max(...graph.steps.map((s) => s.id.length));
  for (const step of graph.steps) {
    const from = step.inputs.map((e) => (e.output ? `${e.step}.${e.output}` : e.step)).join(', ');
    const outs = step.outputs.length > 0 ? `  ⇢ side outputs: ${step.outputs.join(', ')}` : '';
    lines.push(`  ${step.id.padEnd(width)}  ${step.label}${from ? `  ← ${from}` : ''}${outs}`);
  }
  return lines.join('\n');
}
