import { positiveMs, type WindowAssigner } from './assigner.ts';

/**
 * Fixed, non-overlapping windows of `sizeMs`, aligned to the epoch (plus `offsetMs`).
 * @example keyed.window(tumbling(5_000)).aggregate(count())
 */
export function tumbling(sizeMs: number, offsetMs = 0): WindowAssigner {
  return { kind: 'tumbling', sizeMs: positiveMs('tumbling window size', sizeMs), offsetMs };
}
