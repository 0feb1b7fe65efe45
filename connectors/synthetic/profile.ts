/**
 * Who the simulated channels are: login, how busy, how the rate drifts over the hours, how many
 * chatters and how unequal they are, which emotes and bots. Profiles are drawn once per run from
 * the seed; everything time-dependent is a pure function of a profile and a time.
 */
import { channelBotLogin, channelLogin, emotePrefix } from './names.ts';
import { normalCdf, normalQuantile } from './normal.ts';
import type { ResolvedOptions } from './options.ts';
import { deriveSeed, Rng } from './rng.ts';
import { CHANNEL_EMOTE_SUFFIXES, SHARED_BOTS, TIMER_LINES } from './vocabulary.ts';

/** Stream ids for `deriveSeed`: one independent random stream per purpose and channel. */
export const STREAM_RUN = 0x52554e;
export const STREAM_PROFILE = 1;
export const STREAM_BURSTS = 2;
export const STREAM_MESSAGES = 3;
export const STREAM_USERS = 4;

/**
 * Base rates are log-normal: median 0.5 msg/s and σ 1.4 in log space put most channels under
 * 2 msg/s and about one in twenty above 5, like the long tail of Twitch. Truncated to
 * [0.05, 15]: below 0.05 a 5-minute baseline holds a handful of messages and no statistic means
 * anything; above 15 one channel dominates a benchmark.
 */
export const BASE_RATE_MEDIAN = 0.5;
export const BASE_RATE_LOG_SIGMA = 1.4;
export const BASE_RATE_MIN = 0.05;
export const BASE_RATE_MAX = 15;

/**
 * Chatters in the pool per msg/s of base rate, plus a floor. Recorded chats show roughly
 * 1 000–3 000 distinct chatters per msg/s over a few hours, and ~100 even in tiny channels.
 * Smaller pools make one user dominate a busy chat; larger only makes more names.
 */
const USERS_PER_MSG_PER_SEC = 1500;
const MIN_USER_POOL = 100;

/**
 * Drift = exp(sum of slow sinusoids). Three components with amplitudes up to 0.35 keep the sum
 * within ±1.05, i.e. the rate within ×0.35..×2.9 of base, without clipping. Periods of at least
 * 40 min keep the change across a 5-minute detector baseline under about ×1.3; shorter periods
 * would make drift itself look like a spike.
 */
const DRIFT_COMPONENTS = 3;
const DRIFT_AMPLITUDE_MIN = 0.05;
const DRIFT_AMPLITUDE_MAX = 0.35;
const DRIFT_PERIOD_MIN_MS = 40 * 60_000;
const DRIFT_PERIOD_MAX_MS = 4 * 3_600_000;

/**
 * Zipf exponent of chatter activity. 0.75–0.95 makes the top 10 % of a pool send roughly 55–70 %
 * of its messages, as in recorded chats; at 1.2 and above a few chatters carry the whole chat.
 */
const ZIPF_EXPONENT_MIN = 0.75;
const ZIPF_EXPONENT_MAX = 0.95;

export interface DriftComponent {
  /** In log-rate units. */
  readonly amplitude: number;
  readonly periodMs: number;
  /** Radians. */
  readonly phase: number;
}

/** A bot message repeated on a timer, like Nightbot's "timers". */
export interface BotTimer {
  readonly bot: string;
  readonly text: string;
  readonly intervalMs: number;
  /** First firing, ms after the run's start. */
  readonly firstAtMs: number;
}

export interface ChannelProfile {
  /** Position in the run (0-based); also orders equal timestamps in merged output. */
  readonly index: number;
  readonly login: string;
  /** Mean viewer messages per second before drift and bursts (already multiplied by `rateScale`). */
  readonly baseRatePerSec: number;
  readonly drift: readonly DriftComponent[];
  /** Number of distinct chatters the channel draws from. */
  readonly userPoolSize: number;
  readonly zipfExponent: number;
  /** Seed from which chatter logins are derived (see `userLogin`). */
  readonly userSeed: number;
  readonly emotePrefix: string;
  readonly channelEmotes: readonly string[];
  /** Shared bots present in this channel (a non-empty subset of nightbot, streamelements, moobot). */
  readonly sharedBots: readonly string[];
  readonly channelBot: string;
  readonly timers: readonly BotTimer[];
  /** Invite code used in the channel's `!discord` answers and timers. */
  readonly discordCode: string;
}

/**
 * Draws every channel's profile. Depends on the seed, the channel count and `rateScale` only; a
 * run with more channels gets a different spread of rates (they are stratified across channels so
 * that even ten channels cover quiet to busy).
 *
 * @example
 * const [first] = createProfiles(resolveOptions({ channels: 1, hours: 1, seed: 3 }));
 */
export function createProfiles(options: ResolvedOptions): ChannelProfile[] {
  const run = new Rng(deriveSeed(options.seed, STREAM_RUN));
  const rates = stratifiedBaseRates(run, options.channels);
  const taken = new Set<string>();
  const profiles: ChannelProfile[] = [];
  for (let index = 0; index < options.channels; index++) {
    const login = channelLogin(run, taken);
    profiles.push(drawProfile(options, index, login, rates[index] as number));
  }
  return profiles;
}

/** The drift multiplier of a channel's rate at `offsetMs` after the run's start (within ×0.35..×2.9). */
export function driftAt(profile: ChannelProfile, offsetMs: number): number {
  let log = 0;
  for (const c of profile.drift)
    log += c.amplitude * Math.sin((2 * Math.PI * offsetMs) / c.periodMs + c.phase);
  return Math.exp(log);
}

function drawProfile(
  options: ResolvedOptions,
  index: number,
  login: string,
  baseRate: number,
): ChannelProfile {
  const rng = new Rng(deriveSeed(options.seed, index, STREAM_PROFILE));
  const drift: DriftComponent[] = [];
  for (let i = 0; i < DRIFT_COMPONENTS; i++) {
    drift.push({
      amplitude: rng.between(DRIFT_AMPLITUDE_MIN, DRIFT_AMPLITUDE_MAX),
      periodMs: Math.exp(rng.between(Math.log(DRIFT_PERIOD_MIN_MS), Math.log(DRIFT_PERIOD_MAX_MS))),
      phase: rng.between(0, 2 * Math.PI),
    });
  }
  const prefix = emotePrefix(login, rng.int(3, 5));
  // Hype and LUL always exist: the burst moods fall back on them.
  const suffixes = [
    'Hype',
    'LUL',
    ...shuffled(
      rng,
      CHANNEL_EMOTE_SUFFIXES.filter((s) => s !== 'Hype' && s !== 'LUL'),
    ),
  ];
  const channelEmotes = suffixes.slice(0, rng.int(6, 10)).map((s) => prefix + s);
  let sharedBots = SHARED_BOTS.filter(() => rng.chance(0.5));
  if (sharedBots.length === 0) sharedBots = [rng.pick(SHARED_BOTS)];
  const channelBot = channelBotLogin(login);
  const allBots = [...sharedBots, channelBot];
  const discordCode = randomCode(rng, rng.int(6, 8));
  const timers: BotTimer[] = shuffled(rng, TIMER_LINES)
    .slice(0, rng.int(2, 3))
    .map((line) => {
      const intervalMs = rng.int(10, 30) * 60_000;
      return {
        bot: rng.pick(allBots),
        text: line.replace('{code}', discordCode),
        intervalMs,
        firstAtMs: rng.int(60_000, intervalMs),
      };
    });
  return {
    index,
    login,
    baseRatePerSec: baseRate * options.rateScale,
    drift,
    userPoolSize: Math.round(MIN_USER_POOL + USERS_PER_MSG_PER_SEC * baseRate),
    zipfExponent: rng.between(ZIPF_EXPONENT_MIN, ZIPF_EXPONENT_MAX),
    userSeed: deriveSeed(options.seed, index, STREAM_USERS),
    emotePrefix: prefix,
    channelEmotes,
    sharedBots,
    channelBot,
    timers,
    discordCode,
  };
}

/**
 * One draw per equal-probability stratum of the truncated log-normal, shuffled across channels:
 * ten channels always span quiet to busy instead of depending on luck.
 */
function stratifiedBaseRates(rng: Rng, n: number): number[] {
  const mu = Math.log(BASE_RATE_MEDIAN);
  const lo = normalCdf((Math.log(BASE_RATE_MIN) - mu) / BASE_RATE_LOG_SIGMA);
  const hi = normalCdf((Math.log(BASE_RATE_MAX) - mu) / BASE_RATE_LOG_SIGMA);
  const rates: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = lo + ((hi - lo) * (i + rng.float())) / n;
    const rate = Math.exp(mu + BASE_RATE_LOG_SIGMA * normalQuantile(u));
    rates.push(Math.min(BASE_RATE_MAX, Math.max(BASE_RATE_MIN, rate)));
  }
  return shuffled(rng, rates);
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

function randomCode(rng: Rng, length: number): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[rng.int(0, alphabet.length - 1)];
  return code;
}
