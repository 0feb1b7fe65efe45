/**
 * The detection step: a `Detector` judges each bucket of a channel against its baseline, keeping
 * whatever per-channel memory it needs (a cooldown, an armed flag) in keyed state. The step is the
 * same for every detector; the detectors are pure decisions, easy to test and to compare.
 */
import type { Stream } from '../../pipeline/builder.ts';
import { valueState } from '../../pipeline/state/api.ts';
import type { Detection } from '../../schemas/detection.ts';
import type { Activity } from './baseline.ts';

/** A detection with the history it was judged on (for the clip's activity curve). */
export interface Spike extends Detection {
  readonly history: readonly number[];
}

export interface Verdict<M> {
  readonly fire: boolean;
  /** Distance above the baseline in the detector's unit of spread. */
  readonly z: number;
  /** The channel's memory after this bucket (undefined drops it). */
  readonly memory: M | undefined;
  /** The centre and spread reported with a detection (default: the bucket's mean and σ). */
  readonly centre?: number;
  readonly spread?: number;
}

export interface Detector<M = unknown> {
  /** Short name, as `--detector` takes it. */
  readonly name: string;
  judge(activity: Activity, memory: M | undefined): Verdict<M>;
  /**
   * How long (event time) a channel's memory outlives its last bucket; bounds state for channels
   * that are gone.
   */
  readonly memoryTtlMs: number;
}

/**
 * Runs `detector` over each channel's buckets.
 *
 * @example
 * detect(baseline(bucketCounts(keyed)), spikeRule()) // Stream<Spike>
 */
export function detect<M>(activity: Stream<Activity>, detector: Detector<M>, id = 'detect'): Stream<Spike> {
  return activity
    .keyBy((a) => a.broadcaster_login, `${id}-by-channel`)
    .process<Spike, { memory: ReturnType<typeof valueState<M>> }>(
      {
        state: { memory: valueState<M>({ ttlMs: detector.memoryTtlMs, ttlTime: 'event' }) },
        onElement(a, ctx) {
          const verdict = detector.judge(a, ctx.state.memory.value());
          if (verdict.memory === undefined) ctx.state.memory.clear();
          else ctx.state.memory.update(verdict.memory);
          if (!verdict.fire) return;
          ctx.emit({
            broadcaster_login: a.broadcaster_login,
            ...(a.broadcaster_id !== undefined ? { broadcaster_id: a.broadcaster_id } : {}),
            detected_at: a.bucket_end,
            bucket_start: a.bucket_start,
            bucket_end: a.bucket_end,
            count: a.count,
            baseline_mean: round(verdict.centre ?? a.baseline_mean ?? 0),
            baseline_stddev: round(verdict.spread ?? a.baseline_stddev ?? 0),
            z: round(verdict.z),
            history: a.history,
          });
        },
      },
      id,
    );
}

/** Three decimals: enough for a score, and stable across platforms in golden files. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The public record of a spike (what the `highlights` topic and `--out` carry). */
export function toDetection(spike: Spike): Detection {
  const { history: _history, ...detection } = spike;
  return detection;
}
