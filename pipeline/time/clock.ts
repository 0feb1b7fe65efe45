/**
 * The one clock. Nothing else in the engine or the jobs reads the wall clock or arms a timer for
 * logic: they take a `Clock`, so tests drive a `ManualClock` and replays stay deterministic.
 */

/** Cancels a scheduled callback; calling it after the callback ran is harmless. */
export type Cancel = () => void;

export interface Clock {
  /** Current processing time, epoch milliseconds. */
  now(): number;
  /** Runs `fn` once `now() >= at`. Callbacks due at the same time run in the order they were scheduled. */
  schedule(at: number, fn: () => void): Cancel;
  /** Resolves after `ms` of this clock's time (immediately for `ms <= 0`). */
  sleep(ms: number): Promise<void>;
}

/** The wall clock: `Date.now()` and `setTimeout`. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, fn: () => void): Cancel {
    const handle = setTimeout(fn, Math.max(0, at - Date.now()));
    return () => clearTimeout(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0) resolve();
      else setTimeout(resolve, ms);
    });
  }
}

/**
 * The wall clock, sped up: `speed` ms of this clock pass per real ms, starting at `startMs` now.
 * The demos run a whole fake Twitch on it, so five minutes of baseline take seconds.
 */
export class ScaledClock implements Clock {
  private readonly realStart: number;

  constructor(
    readonly speed: number,
    private readonly startMs: number = Date.now(),
    /** The real clock (tests pass their own). */
    private readonly wall: () => number = Date.now,
  ) {
    if (!(speed > 0)) throw new RangeError(`clock speed must be > 0, got ${speed}`);
    this.realStart = wall();
  }

  now(): number {
    return this.startMs + (this.wall() - this.realStart) * this.speed;
  }

  schedule(at: number, fn: () => void): Cancel {
    const handle = setTimeout(fn, Math.max(0, (at - this.now()) / this.speed));
    return () => clearTimeout(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0) resolve();
      else setTimeout(resolve, ms / this.speed);
    });
  }
}

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. `advance`/`advanceTo` run every callback that falls due, in
 * time order, letting pending promise reactions settle between callbacks so async code that
 * awaits `sleep` makes progress exactly as it would in real time.
 *
 * @example
 * const clock = new ManualClock(0);
 * const done = clock.sleep(1000);
 * await clock.advance(1000); // `done` is now resolved
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private queue: Scheduled[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fn: () => void): Cancel {
    const entry: Scheduled = { at, seq: this.seq++, fn, cancelled: false };
    this.queue.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.schedule(this.current + ms, resolve));
  }

  /** Number of callbacks scheduled and not yet run or cancelled. */
  pending(): number {
    return this.queue.filter((s) => !s.cancelled).length;
  }

  /** The time of the next scheduled callback, if any. */
  nextAt(): number | undefined {
    const next = this.peek();
    return next?.at;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.peek();
      if (next === undefined || next.at > target) break;
      this.queue.splice(this.queue.indexOf(next), 1);
      if (next.at > this.current) this.current = next.at;
      next.fn();
      await settle();
    }
    if (target > this.current) this.current = target;
    await settle();
  }

  private peek(): Scheduled | undefined {
    let best: Scheduled | undefined;
    this.queue = this.queue.filter((s) => !s.cancelled);
    for (const s of this.queue) {
      if (best === undefined || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

/** Lets queued promise reactions (and reactions they queue) run; a macrotask boundary flushes them all. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
