/**
 * Window assigners (tumbling, sliding, session) and common aggregators, for
 * `KeyedStream.window(...)`. Assigners are plain data: a graph that holds them can be printed and
 * compared; the runtime's window step does the work.
 */

export { count, sum } from './aggregators.ts';
export { describeAssigner, type WindowAssigner } from './assigner.ts';
export { session } from './session.ts';
export { sliding } from './sliding.ts';
export { tumbling } from './tumbling.ts';
