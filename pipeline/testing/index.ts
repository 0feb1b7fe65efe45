/**
 * Testing support for pipelines and operators: the operator harness (push elements and
 * watermarks, advance a manual clock, read output and timers, snapshot and restore) and finite
 * sources and collecting or deliberately slow sinks.
 */

export { ManualClock } from '../time/clock.ts';
export { OperatorHarness, type Timestamped } from './harness.ts';
export { track } from './promises.ts';
export { type CollectSink, collect, fromArray, fromPartitions, slowSink } from './sources.ts';
