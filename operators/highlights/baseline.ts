/**
 * The baseline a bucket is judged against: the channel's buckets of the trailing 5 minutes, never
 * including the bucket being judged (a spike inside its own baseline would raise σ and hide
 * itself). Because the bucket counter zero-fills, the history is complete — quiet buckets are in
 * it as zeros — and "observed for 5 minutes" is a matter of event time, not of how many buckets
 * happened to hold messages.
 */
import { mean } from 'simple-statistics';
import type { Stream } from '../../pipeline/builder.ts';
import { valueState } from '../../pipeline/state/api.ts';
import type { Bucket } from '../chat/bucket-counts.ts';

/** A bucket with the baseline of the buckets before it. */
export interface Activity extends Bucket {
  /** Counts of the previous buckets inside the baseline span, oldest first (empty at the start). */
  readonly history: readonly number[];
  /** Mean of `history` (null while it is empty). */
  readonly baseline_mean: number | null;
  /** Population standard deviation of `history` (null while it is empty). */
  readonly baseline_stddev: number | null;
  /** True once the channel has been observed for the whole baseline span before this bucket. */
  readonly warm: boolean;
}

export interface BaselineOptions {
  /** Baseline span, ms. Default 300 000 (the highlights rules: 5 minutes). */
  readonly baselineMs?: number;
  readonly id?: string;
}

interface History {
  /** Start of the bucket expected next; a different start means the channel restarted. */
  next: number;
  counts: number[];
}

/**
 * Adds the trailing baseline to each bucket of a channel.
 *
 * @example
 * baseline(bucketCounts(chat.keyBy((m) => m.broadcaster_login))) // Stream<Activity>
 */
export function baseline(buckets: Stream<Bucket>, options: BaselineOptions = {}): Stream<Activity> {
  const span = options.baselineMs ?? 300_000;
  if (!(span > 0)) throw new RangeError(`baseline span must be > 0 ms, got ${span}`);
  return buckets
    .keyBy((b) => b.broadcaster_login, `${options.id ?? 'baseline'}-by-channel`)
    .process<Activity, { history: ReturnType<typeof valueState<History>> }>(
      {
        state: { history: valueState<History>() },
        onElement(bucket, ctx) {
          const size = bucket.bucket_end - bucket.bucket_start;
          const capacity = Math.max(1, Math.round(span / size));
          let history = ctx.state.history.value();
          // The counter stopped and restarted this channel: the old history is not its baseline.
          if (history === undefined || history.next !== bucket.bucket_start) {
            history = { next: bucket.bucket_start, counts: [] };
          }
          const previous = history.counts.slice();
          const stats = describe(previous);
          const warm = bucket.bucket_start - bucket.since >= span && previous.length >= capacity;
          ctx.emit(activityOf(bucket, previous, stats?.mean ?? null, stats?.stddev ?? null, warm));
          history.counts.push(bucket.count);
          if (history.counts.length > capacity) history.counts.shift();
          history.next = bucket.bucket_end;
          ctx.state.history.update(history);
        },
      },
      options.id ?? 'baseline',
    );
}

/**
 * The record of one bucket and its baseline, written out field by field. `{ ...bucket, history, … }`
 * says the same, but on Node 20 adding fields after a spread copy takes a slow path: 6–10 µs a
 * record against well under 1 µs for the literal, which made this step the job's largest own cost
 * in the Kafka benchmark's profile.
 */
function activityOf(
  b: Bucket,
  history: readonly number[],
  mean: number | null,
  stddev: number | null,
  warm: boolean,
): Activity {
  const { broadcaster_login, bucket_start, bucket_end, count, since } = b;
  return b.broadcaster_id === undefined
    ? {
        broadcaster_login,
        bucket_start,
        bucket_end,
        count,
        since,
        history,
        baseline_mean: mean,
        baseline_stddev: stddev,
        warm,
      }
    : {
        broadcaster_login,
        broadcaster_id: b.broadcaster_id,
        bucket_start,
        bucket_end,
        count,
        since,
        history,
        baseline_mean: mean,
        baseline_stddev: stddev,
        warm,
      };
}

/**
 * Mean and population standard deviation, or undefined for no values. The same arithmetic, in the
 * same order, as simple-statistics' `mean` and `standardDeviation` (its compensated sum, then the
 * squared deviations from that mean), so the figures are bit for bit theirs; the mean is summed
 * once instead of twice.
 */
export function describe(values: readonly number[]): { mean: number; stddev: number } | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const m = mean(values as number[]);
  if (n === 1) return { mean: m, stddev: 0 };
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - m;
    squares += d * d;
  }
  return { mean: m, stddev: Math.sqrt(squares / n) };
}
