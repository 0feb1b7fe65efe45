/**
 * Testing support for pipelines and operators: the operator harness (push elements and
 * watermarks, advance a manual clock, read output and timers, snapshot and restore) and finite
 * sources and collecting or deliberately slow sinks.
 */
export { OperatorHarness, type Timestamped } from './harness.ts';
export { collect, fromArray, fromPartitions, slowSink, type CollectSink } from './sources.ts';
export { ManualClock } from '../time/clock.ts';
