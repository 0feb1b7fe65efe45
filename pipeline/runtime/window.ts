/**
 * The window step. Elements of a key are assigned to windows (tumbling, sliding, or session
 * windows that merge); a window fires when the watermark reaches its last millisecond
 * (`end - 1`), emitting its result at that time. With allowed lateness a fired window is kept until
 * `end - 1 + lateness` and fires again for every late element; anything later goes to the late side
 * output, or is dropped and counted.
 *
 * Window contents are held per key in small arrays, not one map entry per (key, window): a key
 * usually has one or two windows open, and a linear scan of those beats hashing a second time.
 */

import { type WindowAssigner, windowStart } from '../../operators/window/assigner.ts';
import type { Aggregator, Windowed, WindowFunction, WindowProcessContext } from '../graph.ts';
import type { KeyType } from '../state/api.ts';
import { TimerBuckets } from '../state/timer-buckets.ts';
import { TimerQueue } from '../state/timer-queue.ts';
import type { Batch } from '../types.ts';
import { BatchBuilder, Operator, type OperatorServices, StepError } from './operator.ts';

interface Win {
  start: number;
  end: number;
  /** Accumulator (aggregate) or buffered elements (process). */
  acc: unknown;
  fired: boolean;
}

interface WindowSnapshot {
  windows: Array<[KeyType, Array<[number, number, unknown, boolean]>]>;
  timers: Array<[number, KeyType]>;
}

/**
 * Purged window objects kept for reuse. A window lives for its size in event time — long enough to
 * survive young-generation collections and be promoted — so allocating one per (key, window) filled
 * the old generation with garbage (peak RSS doubled in the engine benchmark). Bounded so a burst of
 * keys does not pin memory forever.
 */
const WINDOW_POOL_MAX = 1 << 16;

/** Keys whose window list is empty before the map is swept of them. */
const EMPTY_KEYS_SWEEP = 1 << 12;

export class WindowOperator extends Operator {
  /**
   * Open windows per key. A key whose windows are all purged keeps its (empty) list until a sweep:
   * deleting and re-inserting ~every key every window makes V8 rehash a 100k-entry table again and
   * again (megabytes of garbage each time).
   */
  private readonly windows = new Map<KeyType, Win[]>();
  private emptyKeys = 0;
  private readonly pool: Win[] = [];
  /**
   * Fixed windows register each end once, so an append-only list serves; sessions merge and must
   * delete timers, so they use the de-duplicating queue.
   */
  private readonly timers: TimerQueue | TimerBuckets;
  /** The tumbling window of the previous element, which the next element usually shares. */
  private lastStart = Number.NaN;
  private lastEnd = Number.NaN;
  private readonly out = new BatchBuilder();
  private readonly late = new BatchBuilder();
  private readonly aggregator: Aggregator<unknown, unknown, unknown>;
  private readonly processFn: WindowFunction<KeyType, unknown, unknown, unknown> | undefined;
  /** Elements dropped as too late with no late output to take them. */
  droppedLate = 0;

  constructor(
    id: string,
    private readonly keyOf: (value: unknown) => KeyType,
    private readonly assigner: WindowAssigner,
    private readonly lateness: number,
    private readonly lateOutput: string | undefined,
    fn: WindowFunction<KeyType, unknown, unknown, unknown>,
    services: OperatorServices,
  ) {
    super(id, services);
    this.timers = assigner.kind === 'session' ? new TimerQueue() : new TimerBuckets();
    if (fn.kind === 'aggregate') {
      this.aggregator = fn.aggregator;
      this.processFn = undefined;
    } else {
      // A process window buffers its elements; the "accumulator" is the list.
      this.aggregator = {
        create: () => [],
        add: (acc, v) => {
          (acc as unknown[]).push(v);
          return acc;
        },
        merge: (a, b) => (a as unknown[]).concat(b as unknown[]),
        result: (acc) => acc,
      };
      this.processFn = fn;
    }
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    const n = records.length;
    this.metrics.recordsIn += n;
    try {
      if (this.assigner.kind === 'session') {
        for (let i = 0; i < n; i++) this.addSession(records[i], timestamps[i]!, this.assigner.gapMs);
      } else if (this.assigner.kind === 'tumbling') {
        const size = this.assigner.sizeMs;
        const offset = this.assigner.offsetMs;
        for (let i = 0; i < n; i++) {
          const ts = timestamps[i]!;
          // Skips the floating-point modulo (epoch ms exceed int32) for in-order elements.
          if (!(ts >= this.lastStart && ts < this.lastEnd)) {
            this.lastStart = windowStart(ts, size, offset);
            this.lastEnd = this.lastStart + size;
          }
          if (!this.addFixed(records[i], ts, this.lastStart, this.lastEnd)) this.lateElement(records[i], ts);
        }
      } else {
        const { sizeMs, slideMs, offsetMs } = this.assigner;
        for (let i = 0; i < n; i++) {
          const ts = timestamps[i]!;
          let accepted = false;
          const last = windowStart(ts, slideMs, offsetMs);
          for (let start = last; start > ts - sizeMs; start -= slideMs) {
            if (this.addFixed(records[i], ts, start, start + sizeMs)) accepted = true;
          }
          if (!accepted) this.lateElement(records[i], ts);
        }
      }
    } catch (error) {
      this.flush();
      throw error instanceof StepError ? error : new StepError(this.id, error);
    }
    this.flush();
  }

  /** Adds to one fixed window; false when that window is already past its lateness. */
  private addFixed(record: unknown, _ts: number, start: number, end: number): boolean {
    const wm = this.watermark;
    if (end - 1 + this.lateness <= wm) return false;
    const key = this.keyOf(record);
    let list = this.windows.get(key);
    if (list === undefined) {
      list = [];
      this.windows.set(key, list);
    } else if (list.length === 0) this.emptyKeys--;
    let win: Win | undefined;
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.start === start) {
        win = list[i];
        break;
      }
    }
    const agg = this.aggregator;
    if (win === undefined) {
      win = this.newWindow(start, end, agg.add(agg.create(), record));
      list.push(win);
      this.timers.add(end - 1, key);
    } else {
      win.acc = agg.add(win.acc, record);
    }
    // A late element inside the allowed lateness updates an already fired window: fire again.
    if (end - 1 <= wm) this.fireWindow(key, win);
    return true;
  }

  private addSession(record: unknown, ts: number, gap: number): void {
    const key = this.keyOf(record);
    const wm = this.watermark;
    const existing = this.windows.get(key);
    const list = existing ?? [];
    let start = ts;
    let end = ts + gap;
    const overlapping: Win[] = [];
    for (const w of list) {
      if (w.start <= end && w.end >= start) {
        overlapping.push(w);
        if (w.start < start) start = w.start;
        if (w.end > end) end = w.end;
      }
    }
    if (end - 1 + this.lateness <= wm) {
      this.lateElement(record, ts);
      return;
    }
    const agg = this.aggregator;
    let acc = agg.create();
    for (const w of overlapping) {
      acc = agg.merge!(acc, w.acc);
      // Both its end timer and, if it fired within the lateness, its cleanup timer.
      const queue = this.timers as TimerQueue;
      queue.delete(w.end - 1, key);
      queue.delete(w.end - 1 + this.lateness, key);
      list.splice(list.indexOf(w), 1);
    }
    acc = agg.add(acc, record);
    // The merged window has not fired as a whole yet, even if a part of it had.
    const merged = this.newWindow(start, end, acc);
    if (existing !== undefined && existing.length === 0) this.emptyKeys--;
    list.push(merged);
    list.sort((a, b) => a.start - b.start);
    this.windows.set(key, list);
    // Timers are per (time, key), so a deleted one may also have served another window of this key
    // (one's cleanup time equal to another's end): re-arm what every remaining window needs.
    if (end - 1 <= wm) this.fireWindow(key, merged);
    for (const w of list) this.timers.add(w.fired ? w.end - 1 + this.lateness : w.end - 1, key);
  }

  private lateElement(record: unknown, ts: number): void {
    if (this.lateOutput !== undefined) this.late.add(record, ts);
    else this.droppedLate++;
  }

  protected override onWatermark(watermark: number): void {
    try {
      for (
        let due = this.timers.pollDue(watermark);
        due !== undefined;
        due = this.timers.pollDue(watermark)
      ) {
        this.onTimer(due.key, due.timestamp);
      }
    } catch (error) {
      this.flush();
      throw error instanceof StepError ? error : new StepError(this.id, error);
    }
    this.flush();
    if (this.emptyKeys > EMPTY_KEYS_SWEEP && this.emptyKeys * 2 > this.windows.size) this.sweepEmptyKeys();
    this.emitWatermark(watermark);
  }

  private newWindow(start: number, end: number, acc: unknown): Win {
    const w = this.pool.pop();
    if (w === undefined) return { start, end, acc, fired: false };
    w.start = start;
    w.end = end;
    w.acc = acc;
    w.fired = false;
    return w;
  }

  private release(w: Win): void {
    w.acc = undefined;
    if (this.pool.length < WINDOW_POOL_MAX) this.pool.push(w);
  }

  /** Drops keys with no open window, all at once (one rehash instead of one per key and window). */
  private sweepEmptyKeys(): void {
    for (const [key, list] of this.windows) if (list.length === 0) this.windows.delete(key);
    this.emptyKeys = 0;
  }

  private onTimer(key: KeyType, time: number): void {
    const list = this.windows.get(key);
    if (list === undefined) return;
    // Look at every window of the key: a cleanup time may coincide with another window's end.
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (!w.fired && w.end - 1 <= time) this.fireWindow(key, w);
      // The one place windows are purged: fireWindow must not splice `list` while this loop walks it.
      if (w.fired && w.end - 1 + this.lateness <= time) {
        list.splice(i, 1);
        this.release(w);
        i--;
        if (list.length === 0) this.emptyKeys++;
      }
    }
  }

  private fireWindow(key: KeyType, w: Win): void {
    const first = !w.fired;
    w.fired = true;
    const time = w.end - 1;
    if (this.processFn === undefined) {
      const result: Windowed<KeyType, unknown> = {
        key,
        start: w.start,
        end: w.end,
        value: this.aggregator.result(w.acc),
      };
      this.out.add(result, time);
    } else {
      const out = this.out;
      const ctx: WindowProcessContext<KeyType, unknown> = {
        key,
        start: w.start,
        end: w.end,
        emit: (value) => out.add(value, time),
      };
      (this.processFn as { fn: (e: readonly unknown[], c: typeof ctx) => void }).fn(w.acc as unknown[], ctx);
    }
    // A fired window is purged by onTimer at `end - 1 + lateness` (with no lateness, right after this
    // returns, by the same timer). Arming the cleanup here covers every way a window fires, including a
    // window first opened by a late element within the lateness, whose `end - 1` timer is already
    // behind it; the queue keeps one timer per (time, key), so firing again adds nothing.
    // Fixed windows keep timers in an append-only list, so arm the cleanup on the first firing only.
    if (this.lateness > 0 && first) this.timers.add(w.end - 1 + this.lateness, key);
  }

  private flush(): void {
    if (this.out.length > 0) this.emit(this.out.take());
    if (this.late.length > 0 && this.lateOutput !== undefined) this.emit(this.late.take(), this.lateOutput);
  }

  /** Number of open windows (for tests and metrics). */
  openWindows(): number {
    let n = 0;
    for (const list of this.windows.values()) n += list.length;
    return n;
  }

  override snapshot(): WindowSnapshot {
    const windows: WindowSnapshot['windows'] = [];
    for (const [key, list] of this.windows) {
      if (list.length > 0)
        windows.push([key, list.map((w) => [w.start, w.end, structuredClone(w.acc), w.fired])]);
    }
    return { windows, timers: this.timers.list() };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as WindowSnapshot;
    this.windows.clear();
    this.emptyKeys = 0;
    this.timers.clear();
    for (const [key, list] of s.windows) {
      this.windows.set(
        key,
        list.map(([start, end, acc, fired]) => ({ start, end, acc: structuredClone(acc), fired })),
      );
    }
    for (const [t, k] of s.timers) this.timers.add(t, k);
  }

  override pendingTimers(): { event: Array<[number, KeyType]>; processing: Array<[number, KeyType]> } {
    return { event: this.timers.list(), processing: [] };
  }
}
