/**
 * Keyed timers ordered by time. Timers fire in timestamp order and, at equal timestamps, in the
 * order they were registered, which keeps every replay's output identical. Registering the same
 * (time, key) twice keeps one timer.
 */
import type { KeyType } from './api.ts';
import { MinHeap } from './min-heap.ts';

export class TimerQueue {
  private readonly byTime = new Map<number, Set<KeyType>>();
  /** Binary min-heap of the distinct timestamps in `byTime`. */
  private readonly heap = new MinHeap();
  /**
   * The keys of the timestamp being fired, taken out of `byTime` as one array. Draining a large
   * Set one `values().next()` + `delete` at a time is quadratic: V8 leaves deleted entries as holes
   * that every new iterator walks past (100k keys at one window end took seconds).
   */
  private draining:
    | { timestamp: number; keys: KeyType[]; next: number; cancelled?: Set<KeyType> }
    | undefined;

  get size(): number {
    let n = 0;
    for (const keys of this.byTime.values()) n += keys.size;
    const d = this.draining;
    if (d) n += d.keys.length - d.next - (d.cancelled?.size ?? 0);
    return n;
  }

  add(timestamp: number, key: KeyType): void {
    // A key still waiting in the time being drained already has this timer (one per (time, key)).
    if (this.pendingInDrain(timestamp, key)) return;
    let keys = this.byTime.get(timestamp);
    if (keys === undefined) {
      keys = new Set();
      this.byTime.set(timestamp, keys);
      this.heap.push(timestamp);
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
    return (this.byTime.get(timestamp)?.has(key) ?? false) || this.pendingInDrain(timestamp, key);
  }

  private pendingInDrain(timestamp: number, key: KeyType): boolean {
    const d = this.draining;
    return (
      d !== undefined &&
      d.timestamp === timestamp &&
      d.keys.indexOf(key, d.next) >= 0 &&
      !d.cancelled?.has(key)
    );
  }

  /** Earliest pending timestamp, the one being drained included. */
  peek(): number | undefined {
    const stored = this.peekStored();
    const d = this.draining;
    // `cancelled` holds only keys not yet reached, so this counts what is left of the drained time.
    if (d === undefined || d.keys.length - d.next - (d.cancelled?.size ?? 0) === 0) return stored;
    return stored === undefined || d.timestamp < stored ? d.timestamp : stored;
  }

  /** Earliest timestamp in `byTime` (the time being drained is not there). */
  private peekStored(): number | undefined {
    while (this.heap.size > 0) {
      const top = this.heap.peek()!;
      const keys = this.byTime.get(top);
      if (keys && keys.size > 0) return top;
      this.heap.pop();
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
        const earlier = this.peekStored();
        if (earlier === undefined || earlier >= d.timestamp) {
          while (d.next < d.keys.length) {
            const key = d.keys[d.next++]!;
            // Forget a skipped key, so `cancelled` holds only keys not yet reached (`size` relies on it).
            if (d.cancelled?.delete(key)) continue;
            return { timestamp: d.timestamp, key };
          }
          this.draining = undefined;
          continue;
        }
      }
      // A drain paused above `upTo` does not end the search: an earlier timer may be due.
      const timestamp = this.peekStored();
      if (timestamp === undefined || timestamp > upTo) return undefined;
      if (d !== undefined && d.next < d.keys.length) {
        // An earlier timestamp arrived while draining: put the rest back and take the earlier one.
        // The rest was registered before any key added at this time during the drain: it goes first.
        const rest = new Set(d.keys.slice(d.next).filter((k) => !d.cancelled?.has(k)));
        this.draining = undefined;
        const added = this.byTime.get(d.timestamp);
        if (added === undefined) this.heap.push(d.timestamp);
        else for (const k of added) rest.add(k);
        this.byTime.set(d.timestamp, rest);
        continue;
      }
      const keys = this.byTime.get(timestamp)!;
      this.byTime.delete(timestamp);
      this.heap.pop();
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
        for (let i = d.next; i < d.keys.length; i++)
          if (!d.cancelled?.has(d.keys[i]!)) out.push([t, d.keys[i]!]);
      }
      for (const key of this.byTime.get(t) ?? []) out.push([t, key]);
    }
    return out;
  }

  clear(): void {
    this.byTime.clear();
    this.heap.clear();
    this.draining = undefined;
  }
}
