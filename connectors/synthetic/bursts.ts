/**
 * Emote bursts: the events a spike detector should find. A channel's bursts are drawn from their
 * own random stream, lazily and in time order, so the ground truth for any span is known before
 * (and without) generating the messages, and an endless run can keep drawing them.
 */
import type { Label } from '../../schemas/chat-line.ts';
import type { ResolvedOptions } from './options.ts';
import { type ChannelProfile, driftAt, STREAM_BURSTS } from './profile.ts';
import { deriveSeed, Rng } from './rng.ts';
import { BURST_MOODS, type BurstMood } from './vocabulary.ts';

/** No burst starts in the first 6 minutes, so every burst has a clean 5-minute baseline before it. */
export const BURST_GUARD_MS = 6 * 60_000;

/**
 * Least quiet time between one burst's end and the next one's start, so a detector's 5-minute
 * baseline before a burst never holds another. Shrinks to half the mean spacing when more than
 * 6 bursts per hour are asked for (otherwise the requested rate could not be met).
 */
export const BURST_QUIET_MS = 5 * 60_000;

/** Burst lengths, log-uniform: most are short reactions, a few are long celebrations. */
export const BURST_MIN_MS = 8_000;
export const BURST_MAX_MS = 60_000;

/** Peak multiplier of the channel's current rate, uniform in this range. */
export const BURST_FACTOR_MIN = 4;
export const BURST_FACTOR_MAX = 12;

/**
 * Floor of a burst's peak rate in msg/s (times `rateScale`). A ×4 burst in a 0.05 msg/s channel is
 * one message every 5 s, which no detector (and no viewer) would call a spike; real small chats
 * still reach a few messages per second when something happens.
 */
export const BURST_MIN_PEAK_PER_SEC = 1;

/**
 * The rate rises linearly over 15 % of the burst (1–4 s), then decays exponentially to
 * `BURST_END_LEVEL` of its peak extra at the label's end. A slower rise smears the first 5 s
 * bucket; a lower end level leaves the last bucket of the label indistinguishable from baseline.
 */
const RISE_SHARE = 0.15;
const RISE_MIN_MS = 1_000;
const RISE_MAX_MS = 4_000;
const BURST_END_LEVEL = 0.3;

/** Chance that the focal emote is one of the channel's own rather than a global one. */
const CHANNEL_FOCAL_CHANCE = 0.4;

export interface Burst {
  /** Epoch ms, inclusive. */
  readonly startMs: number;
  /** Epoch ms, exclusive. */
  readonly endMs: number;
  readonly riseMs: number;
  /** Extra messages per second at the peak, on top of the channel's normal rate. */
  readonly peakExtraPerSec: number;
  /** Peak rate over the channel's rate at the burst's start (what the label's note reports). */
  readonly factor: number;
  readonly mood: BurstMood;
  /** The emote most burst messages spam. */
  readonly focalEmote: string;
  /** Other emotes of the same mood, for variety. */
  readonly otherEmotes: readonly string[];
}

/** Shape of a burst in [0, 1] at epoch `tMs`: 0 outside the burst. */
export function burstShape(burst: Burst, tMs: number): number {
  if (tMs < burst.startMs || tMs >= burst.endMs) return 0;
  const t = tMs - burst.startMs;
  if (t < burst.riseMs) return t / burst.riseMs;
  const decayMs = burst.endMs - burst.startMs - burst.riseMs;
  return Math.exp((Math.log(BURST_END_LEVEL) * (t - burst.riseMs)) / decayMs);
}

/**
 * The ground-truth label of a burst.
 *
 * @example
 * burstLabel(burst); // { start_ms: …, end_ms: …, note: 'emote burst ×7.2 (KEKW)' }
 */
export function burstLabel(burst: Burst): Label {
  return {
    start_ms: burst.startMs,
    end_ms: burst.endMs,
    note: `emote burst ×${burst.factor.toFixed(1)} (${burst.focalEmote})`,
  };
}

/**
 * A channel's bursts in time order. Two schedules of the same profile and options yield the same
 * bursts, so the simulator and `labelsOf` can each hold one.
 *
 * @example
 * const schedule = new BurstSchedule(profile, options);
 * for (let b = schedule.next(); b !== undefined; b = schedule.next()) console.log(burstLabel(b));
 */
export class BurstSchedule {
  private readonly rng: Rng;
  private readonly quietMs: number;
  private readonly meanWaitMs: number;
  /** Earliest start of the next burst, before the random wait. */
  private earliestMs: number;
  private done: boolean;

  constructor(
    private readonly profile: ChannelProfile,
    private readonly options: ResolvedOptions,
  ) {
    this.rng = new Rng(deriveSeed(options.seed, profile.index, STREAM_BURSTS));
    const meanSpacingMs =
      options.burstsPerHour > 0 ? 3_600_000 / options.burstsPerHour : Number.POSITIVE_INFINITY;
    this.quietMs = Math.min(BURST_QUIET_MS, meanSpacingMs / 2);
    const meanBurstMs = (BURST_MAX_MS - BURST_MIN_MS) / Math.log(BURST_MAX_MS / BURST_MIN_MS);
    // The wait after the quiet time makes up the rest of the mean spacing; bounded below so a
    // very high burstsPerHour still spreads bursts out randomly.
    this.meanWaitMs = Math.max(meanSpacingMs - this.quietMs - meanBurstMs, meanSpacingMs * 0.1);
    this.earliestMs = options.startMs + BURST_GUARD_MS;
    this.done = options.burstsPerHour === 0;
  }

  /** The next burst, or `undefined` once no further burst fits before the run's end. */
  next(): Burst | undefined {
    if (this.done) return undefined;
    const rng = this.rng;
    const startMs = Math.round(this.earliestMs + rng.exponential(this.meanWaitMs));
    const lengthMs = Math.round(Math.exp(rng.between(Math.log(BURST_MIN_MS), Math.log(BURST_MAX_MS))));
    const nominal = rng.between(BURST_FACTOR_MIN, BURST_FACTOR_MAX);
    const mood = rng.pick(BURST_MOODS);
    const channelFocal = this.profile.channelEmotes.filter((e) =>
      mood.channelSuffixes.some((s) => e === this.profile.emotePrefix + s),
    );
    const focalEmote =
      channelFocal.length > 0 && rng.chance(CHANNEL_FOCAL_CHANCE)
        ? rng.pick(channelFocal)
        : rng.pick(mood.globalEmotes);
    const endMs = startMs + lengthMs;
    if (endMs > this.options.endMs) {
      this.done = true;
      return undefined;
    }
    this.earliestMs = endMs + this.quietMs;
    const rateAtStart = this.profile.baseRatePerSec * driftAt(this.profile, startMs - this.options.startMs);
    const peak = Math.max(nominal * rateAtStart, BURST_MIN_PEAK_PER_SEC * this.options.rateScale);
    return {
      startMs,
      endMs,
      riseMs: Math.min(RISE_MAX_MS, Math.max(RISE_MIN_MS, Math.round(lengthMs * RISE_SHARE))),
      peakExtraPerSec: peak - rateAtStart,
      factor: peak / rateAtStart,
      mood,
      focalEmote,
      otherEmotes: [...mood.globalEmotes, ...channelFocal].filter((e) => e !== focalEmote),
    };
  }

  /** Every burst that starts before `untilMs` (drawing them if not yet drawn). */
  until(untilMs: number): Burst[] {
    const out: Burst[] = [];
    for (let b = this.next(); b !== undefined; b = this.next()) {
      if (b.startMs >= untilMs) break;
      out.push(b);
    }
    return out;
  }
}
