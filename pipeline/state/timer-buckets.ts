/**
 * Append-only keyed timers grouped by time, for window ends. A fixed window registers its end once,
 * when it opens, so there is nothing to de-duplicate or delete; an array per timestamp is the
 * cheapest structure that still fires in time order and, within a time, in registration order.
 */
import type { KeyType } from './api.ts';
import { MinHeap } from './min-heap.ts';

export class TimerBuckets {
  private readonly byTime = new Map<number, KeyType[]>();
  /** Binary min-heap of the timestamps in `byTime`. */
  private readonly heap = new MinHeap();

  add(timestamp: number, key: KeyType): void {
    const keys = this.byTime.get(timestamp);
    if (keys !== undefined) keys.push(key);
    else {
      this.byTime.set(timestamp, [key]);
      this.heap.push(timestamp);
    }
  }

  /** The keys of the time being fired, taken out of `byTime`; `next` is the next one to hand out. */
  private draining: { timestamp: number; keys: KeyType[]; next: number } | undefined;

  /**
   * Removes and returns the next timer due at or before `upTo`. A timer added for the time being
   * drained goes behind the keys already taken out, and still fires in this drain.
   */
  pollDue(upTo: number): { timestamp: number; key: KeyType } | undefined {
    for (;;) {
      const d = this.draining;
      if (d !== undefined) {
        if (d.next < d.keys.length) return { timestamp: d.timestamp, key: d.keys[d.next++]! };
        this.draining = undefined;
      }
      const top = this.heap.peek();
      if (top === undefined || top > upTo) return undefined;
      this.heap.pop();
      const keys = this.byTime.get(top)!;
      this.byTime.delete(top);
      this.draining = { timestamp: top, keys, next: 0 };
    }
  }

  list(): Array<[number, KeyType]> {
    const out: Array<[number, KeyType]> = [];
    const d = this.draining;
    if (d !== undefined) for (let i = d.next; i < d.keys.length; i++) out.push([d.timestamp, d.keys[i]!]);
    for (const t of [...this.byTime.keys()].sort((a, b) => a - b))
      for (const k of this.byTime.get(t)!) out.push([t, k]);
    return out;
  }

  get size(): number {
    let n = 0;
    for (const keys of this.byTime.values()) n += keys.length;
    const d = this.draining;
    return d === undefined ? n : n + d.keys.length - d.next;
  }

  clear(): void {
    this.byTime.clear();
    this.heap.clear();
    this.draining = undefined;
  }
}
