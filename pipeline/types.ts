/**
 * The contracts between the engine and the outside: records in batches, sources that can be
 * positioned and resumed, sinks that can push back. The in-process topics, the JSON Lines replay
 * and the Kafka connector all implement these same interfaces.
 */
import type { Clock } from './time/clock.ts';

/** A value or a promise of one; lets fast paths stay synchronous. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Records move through the graph in batches. `timestamps[i]` is the event time of `records[i]`
 * (epoch ms), kept beside the records rather than in a wrapper so that no object is allocated per
 * record. A batch is never mutated after it has been emitted.
 */
export interface Batch<T> {
  readonly records: readonly T[];
  readonly timestamps: readonly number[];
}

/** Where a source partition has read up to, in the source's own terms (a file offset, a Kafka offset). */
export type SourcePosition = string | number;

/** What one poll of a source reader returns. */
export type Poll<T> =
  /** Records from one partition; `position` is the position just after the last of them. */
  | { kind: 'records'; partition: string; records: T[]; position: SourcePosition }
  /** A partition has no more records, ever (end of a file; never for a live topic). */
  | { kind: 'partition-end'; partition: string }
  /** Nothing to read now; `ready` resolves when there may be (the runtime also wakes for timers). */
  | { kind: 'idle'; ready: Promise<void> }
  /** Every partition has ended. */
  | { kind: 'end' };

export interface SourceContext {
  readonly clock: Clock;
  /** Positions to resume from, by partition (from a checkpoint); absent partitions start at the beginning. */
  readonly startPositions?: ReadonlyMap<string, SourcePosition>;
}

/** Reads one source. All methods are called from the runtime loop only, never concurrently. */
export interface SourceReader<T> {
  /** Partitions currently assigned to this reader, for watermark tracking. */
  partitions(): readonly string[];
  /** Returns up to `maxRecords` records of one partition, or says why there are none. */
  poll(maxRecords: number): Awaitable<Poll<T>>;
  /**
   * Called only after a checkpoint holding these positions is durable: a source that commits
   * outward (Kafka offsets) does it here, and may keep the checkpoint's id with them. Optional.
   */
  commit?(positions: ReadonlyMap<string, SourcePosition>, checkpointId: number): Awaitable<void>;
  close(): Awaitable<void>;
}

export interface Source<T> {
  /** A short description for `scout plan`, e.g. `memory-topic chat-messages (4 partitions)`. */
  describe(): string;
  open(ctx: SourceContext): Awaitable<SourceReader<T>>;
}

export interface SinkContext {
  readonly clock: Clock;
  /**
   * What `checkpointState()` returned at the checkpoint being restored: the sink puts its output
   * back to that point before writing (a file sink truncates to the length it had). Absent on a
   * fresh start.
   */
  readonly resumeState?: unknown;
}

export interface SinkWriter<T> {
  /**
   * Writes a batch. A sink that needs time returns a promise; the runtime keeps at most a bounded
   * number of records waiting for it and pauses the sources while that bound is reached.
   */
  // A property, not a method: method parameters are checked bivariantly, which would let a sink
  // of `{a, b}` accept a stream of `{a}`.
  write: (records: readonly T[], timestamps: readonly number[]) => Awaitable<void>;
  /** Makes everything written so far durable (called at checkpoints and at the end). */
  flush?(): Awaitable<void>;
  /**
   * Where the output stands, called right after `flush()` at a checkpoint and saved in it (a file
   * sink's byte length). A sink whose writes are idempotent (upserts) needs none.
   */
  checkpointState?(): unknown;
  close(): Awaitable<void>;
}

export interface Sink<T> {
  describe(): string;
  open(ctx: SinkContext): Awaitable<SinkWriter<T>>;
}
