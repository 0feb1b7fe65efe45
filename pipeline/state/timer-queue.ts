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

  get size(): number {
    let n = 0;
    for (const keys of this.byTime.values()) n += keys.size;
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
  }

  has(timestamp: number, key: KeyType): boolean {
    return this.byTime.get(timestamp)?.has(key) ?? false;
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
    const timestamp = this.peek();
    if (timestamp === undefined || timestamp > upTo) return undefined;
    const keys = this.byTime.get(timestamp)!;
    const key = keys.values().next().value as KeyType;
    keys.delete(key);
    return { timestamp, key };
  }

  /** All timers as [timestamp, key] in firing order, for snapshots and the test harness. */
  list(): Array<[number, KeyType]> {
    const times = [...this.byTime.keys()].sort((a, b) => a - b);
    const out: Array<[number, KeyType]> = [];
    for (const t of times) for (const key of this.byTime.get(t)!) out.push([t, key]);
    return out;
  }

  clear(): void {
    this.byTime.clear();
    this.heap.length = 0;
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
