import { positiveMs, type WindowAssigner } from './assigner.ts';

/**
 * Per-key windows that close after `gapMs` without elements. Each element opens
 * `[ts, ts + gapMs)`; overlapping windows of a key merge into one.
 * @example keyed.window(session(30_000)).aggregate(count())
 */
export function session(gapMs: number): WindowAssigner {
  return { kind: 'session', gapMs: positiveMs('session gap', gapMs) };
}
