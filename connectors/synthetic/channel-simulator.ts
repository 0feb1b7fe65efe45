/**
 * One channel's chat, one second at a time. Arrivals are a non-homogeneous Poisson process: the
 * rate is evaluated per second (per quarter second inside bursts, so a burst's sharp rise is not
 * smeared) and each count is spread uniformly over its slice. Bot answers and timers wait in a
 * small queue and are merged in by time, so a channel's output is always sorted by `ts`.
 */
import type { ChatLine } from '../../schemas/chat-line.ts';
import { type Burst, BurstSchedule, burstShape } from './bursts.ts';
import { userLogin } from './names.ts';
import type { ResolvedOptions } from './options.ts';
import { type ChannelProfile, driftAt, STREAM_MESSAGES } from './profile.ts';
import { deriveSeed, Rng } from './rng.ts';
import { TextGenerator } from './text.ts';

/**
 * Per-second autocorrelation of the chatter wobble (≈10 s memory). Near 0 the wobble averages out
 * inside a 5 s bucket and does nothing; near 1 it becomes a second, faster drift.
 */
const CHATTER_RHO = 0.9;
const CHATTER_INNOVATION = Math.sqrt(1 - CHATTER_RHO * CHATTER_RHO);

/** Slices per second inside a burst; see the module comment. */
const BURST_SLICES = 4;

/** A bot answers a command after this long (ms): Nightbot and friends take a moment. */
const REPLY_DELAY_MIN_MS = 300;
const REPLY_DELAY_MAX_MS = 2_000;

/**
 * Drift is re-evaluated every this many ms; its fastest component moves the rate by under 3 % in
 * that time. Evaluating three sines every second is a measurable share of the cost in quiet
 * channels, where there are more seconds than messages; much longer steps would show as stairs.
 */
const DRIFT_STEP_MS = 10_000;

/**
 * Points of the tabulated inverse CDF of chatter activity (interpolated linearly between them),
 * which saves a fractional power per message. Fewer points blur the ranks of the most active
 * chatters, where the curve is steepest; more only cost memory (8 bytes each per channel).
 */
const ZIPF_TABLE_SIZE = 1024;

/** Below this many arrivals in a second, insertion sort beats a typed-array sort (and allocates nothing). */
const INSERTION_SORT_MAX = 24;

/** Timers drift a little, like real bot timers that wait for chat activity. */
const TIMER_JITTER_MS = 30_000;

/**
 * Generates one channel's records in time order.
 *
 * @example
 * const sim = new ChannelSimulator(profile, options);
 * const out: ChatLine[] = [];
 * while (sim.fillNextSecond(out)) {} // out now holds the whole run, sorted by ts
 */
export class ChannelSimulator {
  private readonly rng: Rng;
  private readonly text: TextGenerator;
  private readonly bursts: BurstSchedule;
  private readonly login: string;
  private readonly users: (string | undefined)[];
  /** Continuous rank at u = k / ZIPF_TABLE_SIZE, for k = 0..ZIPF_TABLE_SIZE. */
  private readonly zipfTable: Float64Array;
  private readonly timerNextMs: number[];
  /** Bot messages not yet due, sorted by ts. */
  private readonly pending: ChatLine[] = [];
  /** Arrivals of the current second, encoded as `offsetMs * 2 + isBurst`, then sorted. */
  private arrivals = new Int32Array(256);
  /** The burst in progress or next to come; `undefined` when none is left. */
  private burst: Burst | undefined;
  private chatter = 0;
  private drift = 1;
  private driftUntilMs = Number.NEGATIVE_INFINITY;
  private second = 0;

  constructor(
    readonly profile: ChannelProfile,
    private readonly options: ResolvedOptions,
  ) {
    this.rng = new Rng(deriveSeed(options.seed, profile.index, STREAM_MESSAGES));
    this.text = new TextGenerator(profile, this.rng, () => this.user());
    this.bursts = new BurstSchedule(profile, options);
    this.burst = this.bursts.next();
    this.login = profile.login;
    this.users = new Array(profile.userPoolSize);
    this.zipfTable = zipfInverseTable(profile.userPoolSize, profile.zipfExponent);
    this.timerNextMs = profile.timers.map((t) => options.startMs + t.firstAtMs);
  }

  /**
   * Appends the records of the next second (those with ts in it, sorted) to `out`. Returns false,
   * appending nothing, once the run's end has been passed.
   */
  fillNextSecond(out: ChatLine[]): boolean {
    const { startMs, endMs } = this.options;
    const t0 = startMs + this.second * 1000;
    if (t0 >= endMs) return false;
    this.second++;
    const t1 = Math.min(t0 + 1000, endMs);
    const rng = this.rng;

    this.queueTimers(t1);

    const sigma = this.options.chatterSigma;
    this.chatter = CHATTER_RHO * this.chatter + CHATTER_INNOVATION * sigma * rng.normal();
    if (t0 >= this.driftUntilMs) {
      this.drift = driftAt(this.profile, t0 - startMs + DRIFT_STEP_MS / 2);
      this.driftUntilMs = t0 + DRIFT_STEP_MS;
    }
    // exp(x - σ²/2) has mean 1, so the wobble leaves the expected rate alone.
    const background =
      this.profile.baseRatePerSec * this.drift * Math.exp(this.chatter - (sigma * sigma) / 2);
    let n = this.addArrivals(0, rng.poisson((background * (t1 - t0)) / 1000), 0, t1 - t0, 0);

    while (this.burst !== undefined && this.burst.endMs <= t0) this.burst = this.bursts.next();
    const burst = this.burst;
    if (burst !== undefined && burst.startMs < t1) {
      const sliceMs = 1000 / BURST_SLICES;
      for (let s = 0; s < BURST_SLICES; s++) {
        const from = Math.max(t0 + Math.round(s * sliceMs), burst.startMs);
        const to = Math.min(t0 + Math.round((s + 1) * sliceMs), burst.endMs, t1);
        if (to <= from) continue;
        const mean = (burst.peakExtraPerSec * burstShape(burst, (from + to) / 2) * (to - from)) / 1000;
        n = this.addArrivals(n, rng.poisson(mean), from - t0, to - t0, 1);
      }
    }

    const arrivals = this.arrivals;
    if (n > INSERTION_SORT_MAX) arrivals.subarray(0, n).sort();
    else insertionSort(arrivals, n);
    for (let i = 0; i < n; i++) {
      const code = arrivals[i] as number;
      const ts = t0 + (code >> 1);
      this.flushPending(ts, out);
      const user = this.user();
      let text: string;
      if ((code & 1) === 1) {
        text = this.text.burst(burst as Burst);
      } else if (rng.chance(this.options.commandFraction)) {
        text = this.text.command();
        const reply = this.text.reply(text, user, ts - startMs, this.options.botReplyProbability);
        if (reply !== undefined) {
          const at = ts + rng.int(REPLY_DELAY_MIN_MS, REPLY_DELAY_MAX_MS);
          this.enqueue({ broadcaster_login: this.login, ts: at, user: reply.bot, text: reply.text });
        }
      } else {
        text = this.text.ordinary();
      }
      out.push({ broadcaster_login: this.login, ts, user, text });
    }
    this.flushPending(t1, out);
    return true;
  }

  /** Draws `count` arrival offsets uniform in [`from`, `to`) ms into `arrivals` after the first `n`. */
  private addArrivals(n: number, count: number, from: number, to: number, flag: number): number {
    if (n + count > this.arrivals.length) {
      const grown = new Int32Array(Math.max(this.arrivals.length * 2, n + count));
      grown.set(this.arrivals.subarray(0, n));
      this.arrivals = grown;
    }
    for (let i = 0; i < count; i++) this.arrivals[n + i] = this.rng.int(from, to - 1) * 2 + flag;
    return n + count;
  }

  /** A chatter, Zipf-like by rank: inverse CDF of a continuous power law over the pool. */
  private user(): string {
    const u = this.rng.float() * ZIPF_TABLE_SIZE;
    const k = Math.floor(u);
    const table = this.zipfTable;
    const lo = table[k] as number;
    const x = lo + (u - k) * ((table[k + 1] as number) - lo);
    const rank = Math.min(Math.floor(x), this.users.length - 1);
    let login = this.users[rank];
    if (login === undefined) {
      login = userLogin(this.profile.userSeed, rank);
      this.users[rank] = login;
    }
    return login;
  }

  private queueTimers(untilMs: number): void {
    const timers = this.profile.timers;
    for (let i = 0; i < timers.length; i++) {
      const timer = timers[i]!;
      while ((this.timerNextMs[i] as number) < untilMs) {
        const at = this.timerNextMs[i] as number;
        this.enqueue({ broadcaster_login: this.login, ts: at, user: timer.bot, text: timer.text });
        this.timerNextMs[i] = at + timer.intervalMs + this.rng.int(-TIMER_JITTER_MS, TIMER_JITTER_MS);
      }
    }
  }

  private enqueue(line: ChatLine): void {
    const pending = this.pending;
    let i = pending.length;
    // Equal times keep arrival order, so replies to simultaneous commands stay in command order.
    while (i > 0 && (pending[i - 1] as ChatLine).ts > line.ts) i--;
    pending.splice(i, 0, line);
  }

  /** Moves bot messages due before `beforeMs` to `out` (viewer messages win ties). */
  private flushPending(beforeMs: number, out: ChatLine[]): void {
    const pending = this.pending;
    let k = 0;
    while (k < pending.length && (pending[k] as ChatLine).ts < beforeMs) out.push(pending[k++] as ChatLine);
    if (k > 0) pending.splice(0, k);
  }
}

/**
 * Ranks x(u) of a continuous power law with density ∝ (1 + x)^-s on [0, pool), inverted:
 * x(u) = (1 + u((pool + 1)^(1-s) - 1))^(1/(1-s)) - 1.
 */
function zipfInverseTable(pool: number, exponent: number): Float64Array {
  const oneMinus = 1 - exponent;
  const span = (pool + 1) ** oneMinus - 1;
  const table = new Float64Array(ZIPF_TABLE_SIZE + 1);
  for (let k = 0; k <= ZIPF_TABLE_SIZE; k++)
    table[k] = (1 + (k / ZIPF_TABLE_SIZE) * span) ** (1 / oneMinus) - 1;
  return table;
}

function insertionSort(values: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (values[j] as number) > v) {
      values[j + 1] = values[j] as number;
      j--;
    }
    values[j + 1] = v;
  }
}
