/**
 * The streamscout engine: build a typed operator graph with `pipeline(name)`, run it with
 * `runJob` or a `JobRuntime`. Windows, keyed state with TTL, event-time and processing-time
 * timers, asyncMap with retries and delay all run on one injected clock.
 */
export { pipeline, Pipeline, Stream, KeyedStream, WindowedStream, GraphError } from './builder.ts';
export type { SourceOptions, StepOptions, WindowOptions } from './builder.ts';
export { outputTag, formatPlan } from './graph.ts';
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
export { valueState, listState, mapState } from './state/api.ts';
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
export { MemoryStateBackend, type StateBackend, type StateTable, type BackendSnapshot } from './state/backend.ts';
export { JobRuntime, runJob, DEFAULT_BATCH_SIZE, type JobResult, type JobSnapshot, type RunOptions } from './runtime/runtime.ts';
export { StepError } from './runtime/operator.ts';
export { TimeoutError } from './runtime/async-map.ts';
export { SystemClock, ManualClock, type Clock } from './time/clock.ts';
export type * from './types.ts';
export { tumbling, sliding, session, count, sum } from '../operators/window/index.ts';
