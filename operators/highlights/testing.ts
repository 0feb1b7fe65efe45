/**
 * Test helpers for the highlights operators: buckets and activity records built from plain
 * counts, so a test states the series it judges in one line.
 */
import type { Bucket } from '../chat/bucket-counts.ts';
import type { Activity } from './baseline.ts';
import { describe as stats } from './baseline.ts';

export const T0 = 1_700_000_000_000;
export const BUCKET = 5_000;

/** Consecutive 5 s buckets of channel `login` from `T0 + offset`, with the given counts. */
export function bucketsOf(counts: readonly number[], login = 'a', since = T0, offset = 0): Bucket[] {
  return counts.map((count, i) => ({
    broadcaster_login: login,
    bucket_start: T0 + offset + i * BUCKET,
    bucket_end: T0 + offset + (i + 1) * BUCKET,
    count,
    since,
  }));
}

/** An activity record judging `count` against `history` (warm unless said otherwise). */
export function activityOf(
  history: readonly number[],
  count: number,
  at = T0 + 600_000,
  warm = true,
): Activity {
  const s = stats(history);
  return {
    broadcaster_login: 'a',
    bucket_start: at - BUCKET,
    bucket_end: at,
    count,
    since: T0,
    history,
    baseline_mean: s?.mean ?? null,
    baseline_stddev: s?.stddev ?? null,
    warm,
  };
}
