/**
 * The streamscout engine: build a typed operator graph with `pipeline(name)`, run it with
 * `runJob` or a `JobRuntime`. Windows, keyed state with TTL, event-time and processing-time
 * timers, asyncMap with retries and delay all run on one injected clock.
 */

export { count, session, sliding, sum, tumbling } from '../operators/window/index.ts';
export type { SourceOptions, StepOptions, WindowOptions } from './builder.ts';
export { GraphError, KeyedStream, Pipeline, pipeline, Stream, WindowedStream } from './builder.ts';
export type {
  Aggregator,
  AsyncCallContext,
  AsyncFailure,
  AsyncOptions,
  Graph,
  KeyedProcessFunction,
  OutputTag,
  RetryOptions,
  Step,
  Windowed,
  WindowProcessContext,
} from './graph.ts';
export { formatPlan, outputTag } from './graph.ts';
export { defineJob, type JobContext, type JobDefinition } from './jobs/job.ts';
export { TimeoutError } from './runtime/async-map.ts';
export { StepError } from './runtime/operator.ts';
export {
  DEFAULT_BATCH_SIZE,
  type JobResult,
  JobRuntime,
  type JobSnapshot,
  type RunOptions,
  runJob,
} from './runtime/runtime.ts';
export type {
  KeyType,
  ListState,
  MapState,
  ProcessContext,
  StateSpec,
  TimerContext,
  TimerService,
  ValueState,
} from './state/api.ts';
export { listState, mapState, valueState } from './state/api.ts';
export {
  type BackendSnapshot,
  MemoryStateBackend,
  type StateBackend,
  type StateTable,
} from './state/backend.ts';
export { type Clock, ManualClock, SystemClock } from './time/clock.ts';
export type * from './types.ts';
