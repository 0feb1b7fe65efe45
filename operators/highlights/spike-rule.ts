/**
 * The highlights rule of the original design, unchanged: fire when a warm channel's bucket holds
 * more than baseline mean + k·σ messages (k = 3), then stay quiet for 30 s.
 *
 * A flat baseline (σ = 0, e.g. a channel whose last 5 minutes were all zeros or all equal) makes
 * "mean + k·σ" equal to the mean, so a single extra message would fire. The rule therefore
 * measures spread as at least one message per bucket — the smallest change a count can show —
 * and a flat baseline fires only above mean + k messages. `z` is reported in the same unit.
 */
import type { Activity } from './baseline.ts';
import type { Detector, Verdict } from './detector.ts';

export interface SpikeRuleOptions {
  /** Standard deviations above the mean. Default 3. */
  readonly k?: number;
  /** Quiet time after a detection, event time ms. Default 30 000. */
  readonly cooldownMs?: number;
}

/** The spread a flat baseline is given: one message per bucket (see the module comment). */
export const MIN_SPREAD = 1;

interface Memory {
  /** `detected_at` of the channel's last detection. */
  readonly lastFiredAt: number;
}

export function spikeRule(options: SpikeRuleOptions = {}): Detector<Memory> {
  const k = options.k ?? 3;
  const cooldownMs = options.cooldownMs ?? 30_000;
  if (!(k > 0)) throw new RangeError(`k must be > 0, got ${k}`);
  if (!(cooldownMs >= 0)) throw new RangeError(`cooldown must be ≥ 0 ms, got ${cooldownMs}`);
  return {
    name: 'rule',
    // The cooldown is decided by `lastFiredAt`, from the buckets' own times; the TTL only frees
    // the memory of channels gone quiet. It must outlast the cooldown by more than the job's event
    // time can run ahead of a bucket being judged (a large batch moves the watermark by tens of
    // seconds): a TTL of exactly the cooldown let a spike 10 s after another fire in a fast run and
    // not in a slow one.
    memoryTtlMs: cooldownMs + 600_000,
    judge(a: Activity, memory: Memory | undefined): Verdict<Memory> {
      if (!a.warm || a.baseline_mean === null || a.baseline_stddev === null) {
        return { fire: false, z: 0, memory };
      }
      const spread = a.baseline_stddev === 0 ? MIN_SPREAD : a.baseline_stddev;
      const z = (a.count - a.baseline_mean) / spread;
      const cooling = memory !== undefined && a.bucket_end < memory.lastFiredAt + cooldownMs;
      const fire = z > k && !cooling;
      return { fire, z, memory: fire ? { lastFiredAt: a.bucket_end } : memory };
    },
  };
}
