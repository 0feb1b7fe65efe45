/**
 * Keyed timers ordered by time. Timers fire in timestamp order and, at equal timestamps, in the
 * order they were registered, which keeps every replay's output identical. Registering the same
 * (time, key) twice keeps one timer.
 */
import type { KeyType } from './api.ts';

export class TimerQueue {
  private readonly byTime = new Map<number, Set<KeyType>>();
  /** Binary min-heap of the distinct timestamps in `byTime`. */
  private readonly heap: number[] = [];
  /**
   * The keys of the timestamp being fired, taken out of `byTime` as one array. Draining a large
   * Set one `values().next()` + `delete` at a time is quadratic: V8 leaves deleted entries as holes
   * that every new iterator walks past (100k keys at one window end took seconds).
   */
  private draining: { timestamp: number; keys: KeyType[]; next: number; cancelled?: Set<KeyType> } | undefined;

  get size(): number {
    let n = 0;
    for (const keys of this.byTime.values()) n += keys.size;
    const d = this.draining;
    if (d) n += d.keys.length - d.next - (d.cancelled?.size ?? 0);
    return n;
  }

  add(timestamp: number, key: KeyType): void {
    let keys = this.byTime.get(timestamp);
    if (keys === undefined) {
      keys = new Set();
      this.byTime.set(timestamp, keys);
      this.pushHeap(timestamp);
    }
    keys.add(key);
  }

  delete(timestamp: number, key: KeyType): void {
    // The heap entry stays until it surfaces and is found empty.
    this.byTime.get(timestamp)?.delete(key);
    const d = this.draining;
    if (d !== undefined && d.timestamp === timestamp && d.keys.indexOf(key, d.next) >= 0) {
      d.cancelled ??= new Set();
      d.cancelled.add(key);
    }
  }

  has(timestamp: number, key: KeyType): boolean {
    if (this.byTime.get(timestamp)?.has(key)) return true;
    const d = this.draining;
    return d !== undefined && d.timestamp === timestamp && d.keys.indexOf(key, d.next) >= 0 && !d.cancelled?.has(key);
  }

  /** Earliest pending timestamp. */
  peek(): number | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      const keys = this.byTime.get(top);
      if (keys && keys.size > 0) return top;
      this.popHeap();
      this.byTime.delete(top);
    }
    return undefined;
  }

  /**
   * Removes and returns the next timer due at or before `upTo`, or undefined. Timers added while
   * draining are seen, so a timer may schedule another that is also due.
   */
  pollDue(upTo: number): { timestamp: number; key: KeyType } | undefined {
    for (;;) {
      const d = this.draining;
      if (d !== undefined && d.timestamp <= upTo) {
        // Timers added for an earlier time while draining this one go first.
        const earlier = this.peek();
        if (earlier === undefined || earlier >= d.timestamp) {
          while (d.next < d.keys.length) {
            const key = d.keys[d.next++]!;
            if (d.cancelled?.has(key)) continue;
            return { timestamp: d.timestamp, key };
          }
          this.draining = undefined;
          continue;
        }
      }
      if (d !== undefined && d.next < d.keys.length && d.timestamp > upTo) return undefined;
      const timestamp = this.peek();
      if (timestamp === undefined || timestamp > upTo) return undefined;
      if (d !== undefined && d.next < d.keys.length) {
        // An earlier timestamp arrived while draining: put the rest back and take the earlier one.
        const rest = d.keys.slice(d.next).filter((k) => !d.cancelled?.has(k));
        this.draining = undefined;
        for (const k of rest) this.add(d.timestamp, k);
        continue;
      }
      const keys = this.byTime.get(timestamp)!;
      this.byTime.delete(timestamp);
      this.popHeap();
      this.draining = { timestamp, keys: [...keys], next: 0 };
    }
  }

  /** All timers as [timestamp, key] in firing order, for snapshots and the test harness. */
  list(): Array<[number, KeyType]> {
    const out: Array<[number, KeyType]> = [];
    const d = this.draining;
    const times = [...this.byTime.keys()];
    if (d !== undefined && !times.includes(d.timestamp)) times.push(d.timestamp);
    times.sort((a, b) => a - b);
    for (const t of times) {
      if (d !== undefined && d.timestamp === t) {
        for (let i = d.next; i < d.keys.length; i++) if (!d.cancelled?.has(d.keys[i]!)) out.push([t, d.keys[i]!]);
      }
      for (const key of this.byTime.get(t) ?? []) out.push([t, key]);
    }
    return out;
  }

  clear(): void {
    this.byTime.clear();
    this.heap.length = 0;
    this.draining = undefined;
  }

  private pushHeap(value: number): void {
    const h = this.heap;
    h.push(value);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= value) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = value;
  }

  private popHeap(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]! < h[l]! ? r : l;
      if (h[c]! >= last) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
