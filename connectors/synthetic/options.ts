/**
 * What a synthetic run is made of, and its defaults. Everything that shapes the output is here,
 * so the same options (written into a manifest) regenerate the same chat byte for byte.
 */

/** A fixed epoch (2023-11-14T22:13:20Z) rather than the wall clock, so runs are reproducible. */
export const DEFAULT_START_MS = 1_700_000_000_000;

/** Three emote bursts per channel and hour: enough events to score a detector on a few hours. */
export const DEFAULT_BURSTS_PER_HOUR = 3;

/** Share of ordinary viewer messages that are `!commands`; recorded chats show about 1–7 %. */
export const DEFAULT_COMMAND_FRACTION = 0.045;

/** Share of commands a bot answers (the rest are unknown or silently handled, like `!lurk` often is). */
export const DEFAULT_BOT_REPLY_PROBABILITY = 0.6;

/**
 * Standard deviation of the short-term (≈10 s) log-rate wobble. Real chat is burstier than a
 * Poisson process even outside highlights; at 0 the baseline σ is purely Poisson and a 3σ detector
 * looks better than it would on real data; much above 0.4 the wobble itself crosses mean + 3σ.
 */
export const DEFAULT_CHATTER_SIGMA = 0.2;

export interface SyntheticChatOptions {
  /** Number of channels to simulate. */
  readonly channels: number;
  /** Length of the run in hours; `Infinity` for an endless stream. Give this or `durationMs`. */
  readonly hours?: number;
  /** Length of the run in milliseconds; `Infinity` for an endless stream. Wins over `hours`. */
  readonly durationMs?: number;
  /** Any integer; the whole output is a function of the options, this included. */
  readonly seed: number;
  /** Epoch ms of the first possible message. Default {@link DEFAULT_START_MS}. */
  readonly startMs?: number;
  /** Mean number of emote bursts per channel and hour. Default {@link DEFAULT_BURSTS_PER_HOUR}. */
  readonly burstsPerHour?: number;
  /** Default {@link DEFAULT_COMMAND_FRACTION}. */
  readonly commandFraction?: number;
  /** Default {@link DEFAULT_BOT_REPLY_PROBABILITY}. */
  readonly botReplyProbability?: number;
  /** Default {@link DEFAULT_CHATTER_SIGMA}. */
  readonly chatterSigma?: number;
  /** Multiplies every channel's message rate (load tests); labels and profiles keep their shape. Default 1. */
  readonly rateScale?: number;
}

/** Options with every default filled in and checked. */
export interface ResolvedOptions {
  readonly channels: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly startMs: number;
  /** Exclusive; `Infinity` when endless. */
  readonly endMs: number;
  readonly burstsPerHour: number;
  readonly commandFraction: number;
  readonly botReplyProbability: number;
  readonly chatterSigma: number;
  readonly rateScale: number;
}

/**
 * Fills in defaults and rejects options that cannot make a run.
 *
 * @example
 * resolveOptions({ channels: 3, hours: 1, seed: 7 }).endMs; // DEFAULT_START_MS + 3_600_000
 */
export function resolveOptions(options: SyntheticChatOptions): ResolvedOptions {
  const { channels, seed } = options;
  if (!Number.isInteger(channels) || channels < 1)
    throw new RangeError(`channels must be a positive integer, got ${channels}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const durationMs =
    options.durationMs ?? (options.hours === undefined ? undefined : options.hours * 3_600_000);
  if (durationMs === undefined) throw new RangeError('give hours or durationMs');
  if (!(durationMs >= 0)) throw new RangeError(`duration must be >= 0 (or Infinity), got ${durationMs}`);
  const startMs = options.startMs ?? DEFAULT_START_MS;
  if (!Number.isSafeInteger(startMs))
    throw new RangeError(`startMs must be an integer epoch ms, got ${startMs}`);
  const resolved: ResolvedOptions = {
    channels,
    durationMs: Number.isFinite(durationMs) ? Math.round(durationMs) : Number.POSITIVE_INFINITY,
    seed,
    startMs,
    endMs: Number.isFinite(durationMs) ? startMs + Math.round(durationMs) : Number.POSITIVE_INFINITY,
    burstsPerHour: options.burstsPerHour ?? DEFAULT_BURSTS_PER_HOUR,
    commandFraction: options.commandFraction ?? DEFAULT_COMMAND_FRACTION,
    botReplyProbability: options.botReplyProbability ?? DEFAULT_BOT_REPLY_PROBABILITY,
    chatterSigma: options.chatterSigma ?? DEFAULT_CHATTER_SIGMA,
    rateScale: options.rateScale ?? 1,
  };
  nonNegative('burstsPerHour', resolved.burstsPerHour);
  fraction('commandFraction', resolved.commandFraction);
  fraction('botReplyProbability', resolved.botReplyProbability);
  nonNegative('chatterSigma', resolved.chatterSigma);
  if (!(resolved.rateScale > 0) || !Number.isFinite(resolved.rateScale)) {
    throw new RangeError(`rateScale must be a positive number, got ${resolved.rateScale}`);
  }
  return resolved;
}

function nonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value))
    throw new RangeError(`${name} must be a number >= 0, got ${value}`);
}

function fraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
}
