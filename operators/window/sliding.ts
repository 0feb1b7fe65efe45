import { positiveMs, type WindowAssigner } from './assigner.ts';

/**
 * Overlapping windows of `sizeMs`, a new one every `slideMs`; an element lands in
 * `ceil(sizeMs / slideMs)` windows.
 * @example keyed.window(sliding(60_000, 5_000)).aggregate(count())
 */
export function sliding(sizeMs: number, slideMs: number, offsetMs = 0): WindowAssigner {
  positiveMs('sliding window size', sizeMs);
  positiveMs('sliding window slide', slideMs);
  if (slideMs > sizeMs)
    throw new RangeError(`sliding window slide (${slideMs}) must not exceed its size (${sizeMs})`);
  return { kind: 'sliding', sizeMs, slideMs, offsetMs };
}
