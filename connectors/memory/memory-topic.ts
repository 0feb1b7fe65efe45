/**
 * An in-process partitioned log, the embedded stand-in for a Kafka topic. Producers append to a
 * partition chosen by key; consumer groups read each partition in offset order and commit the
 * offsets a durable checkpoint holds.
 *
 * Memory stays flat in both directions:
 * - Backpressure: `appendAsync` (and so the topic sink) waits while the slowest group has
 *   `capacity` unread records in the partition, and appends as soon as that group reads.
 * - Retention: a group holds back the records from the offset it may rewind to (its last commit,
 *   or where its reader started) but never more than `capacity` records it has already read; what
 *   no group holds back is dropped. So a partition holds at most about 2 × `capacity` records,
 *   and a reader resuming from a checkpoint older than that gets an error, not a gap. With no
 *   group registered a partition keeps its latest `capacity` records.
 */
import { partitionOf } from './partition-hash.ts';

export interface MemoryTopicOptions {
  /**
   * Number of partitions, default 4. Changing it re-maps keys to partitions, so keyed state
   * restored from a checkpoint would no longer match its keys.
   */
  readonly partitions?: number;
  /**
   * Per partition, default 100 000: how many records the slowest group may leave unread before
   * `appendAsync` waits, and how many already-read records are kept for a group to rewind to its
   * uncommitted start. Lower makes producers wait on short consumer hiccups, and makes an in-process
   * restore fail when more than this many records were read between checkpoints; higher costs up
   * to twice this many records of memory per partition.
   */
  readonly capacity?: number;
}

/** Where an appended record went. */
export interface AppendResult {
  readonly partition: number;
  readonly offset: number;
}

/** What a group read from one partition. */
export interface TopicRead<T> {
  readonly records: T[];
  /** Offset of the next record to read. */
  readonly next: number;
}

/**
 * Dropped records leave empty slots at the front of a partition's array until this many pile up
 * (and they are at least half the array); then the array is compacted. Lower copies more often,
 * higher keeps more empty slots (a pointer each, never a record).
 */
const COMPACT_MIN_SLOTS = 1024;

interface Waiter<T> {
  readonly record: T;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: Error) => void;
}

class PartitionLog<T> {
  /** `slots[head]` holds offset `earliest`; slots before `head` are dropped. */
  slots: (T | undefined)[] = [];
  head = 0;
  earliest = 0;
  end = 0;
  /** `appendAsync` calls waiting for capacity, in call order. */
  readonly waiters: Waiter<T>[] = [];

  push(record: T): number {
    this.slots.push(record);
    return this.end++;
  }

  slice(from: number, to: number): T[] {
    const base = this.head - this.earliest;
    return this.slots.slice(base + from, base + to) as T[];
  }

  dropBefore(offset: number): void {
    const count = Math.min(offset, this.end) - this.earliest;
    if (count <= 0) return;
    this.slots.fill(undefined, this.head, this.head + count);
    this.head += count;
    this.earliest += count;
    if (this.head >= COMPACT_MIN_SLOTS && this.head * 2 >= this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
  }
}

interface Group {
  /** Next offset to read, by partition. */
  readonly read: number[];
  /** Offset the group may rewind to, by partition: its last commit, or where its reader started. */
  readonly rewind: number[];
  attached: boolean;
}

/**
 * A partitioned, bounded, in-process topic.
 *
 * @example
 * const topic = new MemoryTopic<ChatLine>('chat-messages', { partitions: 4 });
 * topic.append(line, line.broadcaster_login); // { partition: 2, offset: 0 }
 * await topic.appendAsync(line, line.broadcaster_login); // waits while a consumer lags
 * topic.describe(); // 'memory-topic chat-messages (4 partitions)'
 */
export class MemoryTopic<T> {
  readonly partitionCount: number;
  readonly capacity: number;
  private readonly logs: PartitionLog<T>[];
  private readonly groups = new Map<string, Group>();
  private roundRobin = 0;
  private ended = false;
  private appended: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly name: string,
    options: MemoryTopicOptions = {},
  ) {
    const { partitions = 4, capacity = 100_000 } = options;
    if (!Number.isSafeInteger(partitions) || partitions < 1) {
      throw new RangeError(`memory-topic ${name}: partitions must be a positive integer, got ${partitions}`);
    }
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`memory-topic ${name}: capacity must be a positive integer, got ${capacity}`);
    }
    this.partitionCount = partitions;
    this.capacity = capacity;
    this.logs = Array.from({ length: partitions }, () => new PartitionLog<T>());
  }

  /** E.g. `memory-topic chat-messages (4 partitions)`. */
  describe(): string {
    return `memory-topic ${this.name} (${this.partitionCount} partition${this.partitionCount === 1 ? '' : 's'})`;
  }

  /** Partition ids as sources name them: `'0'`, `'1'`, … */
  partitionIds(): string[] {
    return this.logs.map((_, i) => String(i));
  }

  /** The partition a key always lands in (FNV-1a of `String(key)`, mod the partition count). */
  partitionFor(key: string | number): number {
    return partitionOf(key, this.partitionCount);
  }

  /**
   * Appends now, whatever the consumers' lag (the caller takes responsibility for memory). Without
   * a key, records go round-robin over the partitions.
   */
  append(record: T, key?: string | number): AppendResult {
    this.assertOpen();
    return this.appendTo(this.choosePartition(key), record);
  }

  /** Appends if the partition has room (no lag beyond capacity, nobody waiting), else returns undefined. */
  tryAppend(record: T, key?: string | number): AppendResult | undefined {
    this.assertOpen();
    const partition = this.choosePartition(key);
    return this.hasRoom(partition) ? this.appendTo(partition, record) : undefined;
  }

  /**
   * Appends once the slowest registered group lags less than `capacity` records in the partition.
   * Calls waiting on the same partition append in call order. Rejects if the topic is closed
   * before there is room.
   */
  appendAsync(record: T, key?: string | number): Promise<AppendResult> {
    this.assertOpen();
    const partition = this.choosePartition(key);
    if (this.hasRoom(partition)) return Promise.resolve(this.appendTo(partition, record));
    return new Promise((resolve, reject) => {
      this.logs[partition]!.waiters.push({ record, resolve, reject });
    });
  }

  /**
   * Marks the topic ended: readers get `partition-end` for each partition once they have drained
   * it, then `end`. Appends waiting for capacity are rejected. A live topic is normally never closed.
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const log of this.logs) {
      for (const waiter of log.waiters.splice(0)) {
        waiter.reject(new Error(`memory-topic ${this.name} was closed before the record could be appended`));
      }
    }
    this.wakeReaders();
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Offset of the oldest record still held in the partition. */
  earliestOffset(partition: number): number {
    return this.log(partition).earliest;
  }

  /** Offset the next record appended to the partition will get. */
  endOffset(partition: number): number {
    return this.log(partition).end;
  }

  /** Records held in memory over all partitions. */
  retained(): number {
    let total = 0;
    for (const log of this.logs) total += log.end - log.earliest;
    return total;
  }

  /**
   * Registers a consumer group reading from the earliest retained records, so that retention
   * keeps what it has not read yet. Sources register their group when they open; call this first
   * when producers may run ahead of that. Registering an existing group does nothing.
   */
  registerGroup(group: string): void {
    if (this.groups.has(group)) return;
    this.groups.set(group, {
      read: this.logs.map((log) => log.earliest),
      rewind: this.logs.map((log) => log.earliest),
      attached: false,
    });
  }

  /**
   * Forgets a group: it no longer holds records back nor slows producers. A group stays registered
   * after its reader closes (so a reader reopened in this process can resume from its committed
   * offsets); remove it when it will not come back.
   */
  removeGroup(group: string): void {
    const state = this.groups.get(group);
    if (state === undefined) return;
    if (state.attached) throw new Error(`memory-topic ${this.name}: group ${group} still has an open reader`);
    this.groups.delete(group);
    for (let p = 0; p < this.partitionCount; p++) {
      this.applyRetention(p);
      this.admitWaiters(p);
    }
  }

  /**
   * Consumer side: starts the group's one reader at `startOffsets` (by partition index; absent
   * partitions start at the earliest retained record). Throws when an offset was already dropped
   * or lies beyond the end, rather than silently skipping or re-reading records.
   */
  attach(group: string, startOffsets: ReadonlyMap<number, number> = new Map()): void {
    this.registerGroup(group);
    const state = this.groups.get(group)!;
    if (state.attached) {
      throw new Error(`memory-topic ${this.name}: group ${group} already has an open reader`);
    }
    for (const [partition, offset] of startOffsets) {
      const log = this.log(partition);
      if (offset < log.earliest || offset > log.end) {
        throw new Error(
          `memory-topic ${this.name}: cannot resume partition ${partition} at offset ${offset}, it holds offsets ${log.earliest}..${log.end}`,
        );
      }
    }
    state.attached = true;
    for (let p = 0; p < this.partitionCount; p++) {
      const start = startOffsets.get(p) ?? this.logs[p]!.earliest;
      state.read[p] = start;
      state.rewind[p] = start;
      this.admitWaiters(p);
    }
  }

  /** Consumer side: the group's reader closed. The group stays registered (see `removeGroup`). */
  detach(group: string): void {
    const state = this.groups.get(group);
    if (state !== undefined) state.attached = false;
  }

  /** Consumer side: reads up to `maxRecords` of the partition for the group and moves its read offset past them. */
  read(group: string, partition: number, maxRecords: number): TopicRead<T> {
    const state = this.attachedGroup(group);
    const log = this.log(partition);
    const from = state.read[partition]!;
    const to = Math.min(log.end, from + Math.max(1, maxRecords));
    const records = log.slice(from, to);
    state.read[partition] = to;
    this.applyRetention(partition);
    this.admitWaiters(partition);
    return { records, next: to };
  }

  /** Consumer side: the group's next offset to read in the partition. */
  position(group: string, partition: number): number {
    return this.attachedGroup(group).read[partition]!;
  }

  /** Consumer side: records the group's committed offset; retention may then drop what precedes it. */
  commit(group: string, partition: number, offset: number): void {
    const state = this.groups.get(group);
    if (state === undefined) throw new Error(`memory-topic ${this.name}: unknown group ${group}`);
    this.log(partition);
    state.rewind[partition] = offset;
    this.applyRetention(partition);
  }

  /** Resolves on the next append to any partition, or when the topic closes. */
  nextAppend(): Promise<void> {
    if (this.ended) return Promise.resolve();
    if (this.appended === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.appended = { promise, resolve };
    }
    return this.appended.promise;
  }

  private appendTo(partition: number, record: T): AppendResult {
    const log = this.logs[partition]!;
    const offset = log.push(record);
    this.applyRetention(partition);
    this.wakeReaders();
    return { partition, offset };
  }

  private choosePartition(key: string | number | undefined): number {
    if (key !== undefined) return this.partitionFor(key);
    const partition = this.roundRobin;
    this.roundRobin = (this.roundRobin + 1) % this.partitionCount;
    return partition;
  }

  private hasRoom(partition: number): boolean {
    const log = this.logs[partition]!;
    return log.waiters.length === 0 && this.lag(partition) < this.capacity;
  }

  /** Unread records of the slowest group in the partition (0 with no group). */
  private lag(partition: number): number {
    const log = this.logs[partition]!;
    let slowest = log.end;
    for (const state of this.groups.values()) slowest = Math.min(slowest, state.read[partition]!);
    return log.end - slowest;
  }

  private admitWaiters(partition: number): void {
    const log = this.logs[partition]!;
    while (log.waiters.length > 0 && this.lag(partition) < this.capacity) {
      const waiter = log.waiters.shift()!;
      waiter.resolve(this.appendTo(partition, waiter.record));
    }
  }

  private applyRetention(partition: number): void {
    const log = this.logs[partition]!;
    let keepFrom = this.groups.size === 0 ? log.end - this.capacity : log.end;
    for (const state of this.groups.values()) {
      const read = state.read[partition]!;
      const held = Math.max(Math.min(read, state.rewind[partition]!), read - this.capacity);
      keepFrom = Math.min(keepFrom, held);
    }
    log.dropBefore(keepFrom);
  }

  private wakeReaders(): void {
    const appended = this.appended;
    this.appended = undefined;
    appended?.resolve();
  }

  private attachedGroup(group: string): Group {
    const state = this.groups.get(group);
    if (state === undefined || !state.attached) {
      throw new Error(`memory-topic ${this.name}: group ${group} has no open reader`);
    }
    return state;
  }

  private log(partition: number): PartitionLog<T> {
    const log = this.logs[partition];
    if (log === undefined) throw new RangeError(`memory-topic ${this.name} has no partition ${partition}`);
    return log;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error(`memory-topic ${this.name} is closed`);
  }
}
