/**
 * Highlights detection: the trailing baseline of each channel's buckets, the `Detector` step, the
 * original design's rule (mean + k·σ with a cooldown) and the robust detector (`--detector robust`).
 */
export { type Activity, type BaselineOptions, baseline, describe } from './baseline.ts';
export { type Detector, detect, round, type Spike, toDetection, type Verdict } from './detector.ts';
export { MIN_SPREAD, type SpikeRuleOptions, spikeRule } from './spike-rule.ts';
