/**
 * The hand-over between the consumer, which fetches for all of an instance's partitions, and the
 * task of one partition, which polls at its own pace: a bounded queue of fetched batches. The
 * consumer's `batch` call waits while the queue is full — backpressure that reaches the fetcher —
 * and the task takes records without waiting while there are some.
 *
 * After a seek (a restored task starts at its checkpoint's offsets) the queue is emptied and records
 * before the sought offset are dropped, should the driver still hand out some fetched earlier.
 * A frozen feed hands out nothing more: its partition is being given away and its state saved.
 */
import type { KafkaRecord } from './driver.ts';

/**
 * Batches a feed holds before the consumer has to wait. With kafkajs a batch is a partition's share
 * of one fetch (up to 4 MB, ~26,000 chat records); in `scout bench kafka` 1 instead of 4 read no
 * faster and used no less memory, within the run-to-run noise.
 */
export const FEED_CAPACITY = 4;

export class PartitionFeed {
  private readonly queue: Array<readonly KafkaRecord[]> = [];
  /** Index into `queue[0]` of the next record to hand out. */
  private head = 0;
  private expected = -1;
  private frozen = false;
  private wakeTaker: (() => void) | undefined;
  private readonly room: Array<() => void> = [];

  constructor(readonly partition: number) {}

  /**
   * Called by the consumer with fetched records, in offset order; resolves once there is room for
   * more. The feed keeps the array (it never changes it), so the consumer must not change it either.
   */
  push(records: readonly KafkaRecord[]): Promise<void> {
    if (this.frozen) return Promise.resolve();
    const expected = this.expected;
    // In offset order, so when the first is not older than expected none is: the usual case, kept whole.
    const kept =
      records.length === 0 || records[0]!.offset >= expected
        ? records
        : records.filter((r) => r.offset >= expected);
    if (kept.length > 0) {
      this.queue.push(kept);
      this.expected = kept[kept.length - 1]!.offset + 1;
      this.wake();
    }
    if (this.queue.length < FEED_CAPACITY) return Promise.resolve();
    return new Promise((resolve) => this.room.push(resolve));
  }

  /** Up to `max` records, in offset order; empty when none are waiting. */
  take(max: number): readonly KafkaRecord[] {
    if (this.frozen || this.queue.length === 0) return [];
    const first = this.queue[0]!;
    let out: readonly KafkaRecord[];
    if (this.head === 0 && first.length <= max) {
      out = first;
      this.queue.shift();
    } else {
      out = first.slice(this.head, this.head + max);
      this.head += out.length;
      if (this.head >= first.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    if (this.queue.length < FEED_CAPACITY) this.release();
    return out;
  }

  /** Resolves when records arrive; a frozen feed wakes its taker once, when frozen, and then never. */
  ready(): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeTaker = resolve;
    });
  }

  /** Starts over at `offset`: what is queued is dropped, and so is anything older that still arrives. */
  seek(offset: number): void {
    this.queue.length = 0;
    this.head = 0;
    this.expected = offset;
    this.release();
  }

  /** Hands out nothing more, and lets the consumer go on (what it pushes is dropped). */
  freeze(): void {
    this.frozen = true;
    this.queue.length = 0;
    this.release();
    this.wake();
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Records waiting. */
  get size(): number {
    let n = 0;
    for (const b of this.queue) n += b.length;
    return n - this.head;
  }

  private wake(): void {
    const w = this.wakeTaker;
    this.wakeTaker = undefined;
    w?.();
  }

  private release(): void {
    for (const r of this.room.splice(0)) r();
  }
}
