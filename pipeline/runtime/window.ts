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

export class WindowOperator extends Operator {
  private readonly windows = new Map<KeyType, Win[]>();
  private readonly timers = new TimerQueue();
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
          const start = windowStart(ts, size, offset);
          if (!this.addFixed(records[i], ts, start, start + size)) this.lateElement(records[i], ts);
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
    }
    let win: Win | undefined;
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.start === start) {
        win = list[i];
        break;
      }
    }
    const agg = this.aggregator;
    if (win === undefined) {
      win = { start, end, acc: agg.add(agg.create(), record), fired: false };
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
    const list = this.windows.get(key) ?? [];
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
      this.timers.delete(w.end - 1, key);
      this.timers.delete(w.end - 1 + this.lateness, key);
      list.splice(list.indexOf(w), 1);
    }
    acc = agg.add(acc, record);
    // The merged window has not fired as a whole yet, even if a part of it had.
    const merged: Win = { start, end, acc, fired: false };
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
    this.emitWatermark(watermark);
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
        i--;
      }
    }
    if (list.length === 0) this.windows.delete(key);
  }

  private fireWindow(key: KeyType, w: Win): void {
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
    if (this.lateness > 0) this.timers.add(w.end - 1 + this.lateness, key);
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
      windows.push([key, list.map((w) => [w.start, w.end, structuredClone(w.acc), w.fired])]);
    }
    return { windows, timers: this.timers.list() };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as WindowSnapshot;
    this.windows.clear();
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
