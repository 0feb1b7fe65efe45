/**
 * Checkpoints: this module owns their order, and nothing else writes state or commits positions.
 * At a batch boundary, once `intervalMs` of processing time has passed since the last one (or a
 * savepoint was asked for), and while no earlier checkpoint is still being written:
 *
 *   1. drain the sinks: every record handed to a sink is written and flushed, and each sink's place
 *      in its output (a file's length) becomes part of its step state;
 *   2. snapshot the job right after, with no await in between: operator state, elements in flight
 *      in `asyncMap` and `delay`, timers, open windows, watermarks, keyed state (only the keys
 *      changed since the last checkpoint, or all of it when the chain has to start over) and the
 *      source positions. Keyed state is captured, not copied: the write reads it from the live
 *      tables, and a value the job is about to change before the write read it is copied first;
 *      so processing goes on from here;
 *   3. write the snapshot to the store under the next checkpoint id, in the background, one write
 *      at a time: the store writes the data first and the manifest that makes it visible last;
 *   4. only once that write is durable — and copied off the machine, when there is such a copy —
 *      commit the source positions outward (Kafka offsets, with the checkpoint's id) and hand the
 *      checkpoint to whoever waits for it (a savepoint);
 *   5. record its duration, size, pause and the time of the last success.
 *
 * Processing stands still only for steps 1–2 (`pauseMs`). A failed write makes the next
 * checkpoint a full one, because the change set it consumed is gone, and fails the job at the next
 * boundary (as a failed write that `checkpoint()` awaited fails its caller). Recovery is a pure
 * decision (`decideRecovery`) over what the store holds; the CLI does the I/O.
 */
import type { JobCapture, JobRuntime, JobSnapshot } from '../runtime/runtime.ts';
import type { Clock } from '../time/clock.ts';

/** What the coordinator needs of a store (`LevelCheckpointStore` is the durable one). */
export interface CheckpointStore {
  write(
    id: number,
    snapshot: JobSnapshot | JobCapture,
    createdAt: number,
  ): Promise<{ readonly id: number; readonly bytes: number; readonly keys: number }>;
}

/** Default time between checkpoints: the 10 s. Shorter costs more writes; longer redoes more work after a crash. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;

export interface CheckpointerOptions {
  readonly clock: Clock;
  readonly intervalMs?: number;
  /** Id of the first checkpoint this run writes (one past any id the store already holds). */
  readonly firstId: number;
  /**
   * The store's head is the checkpoint this run restored, and the job's state is exactly that
   * checkpoint's: the first checkpoint may then be incremental on top of it instead of full.
   */
  readonly continueChain?: boolean;
  /**
   * Called once checkpoint `id` is durable, before its positions are committed: copies it where
   * other instances restore from. Resolves false to leave the positions uncommitted this time.
   */
  readonly beforeCommit?: (id: number) => Promise<boolean>;
  /** Called after each durable checkpoint, before anyone waiting on it is told. */
  readonly onCheckpoint?: (info: CheckpointRecord) => void | Promise<void>;
  /** Called when a checkpoint fails (the job fails at the next boundary too). */
  readonly onFailure?: (error: Error) => void;
}

export interface CheckpointRecord {
  readonly id: number;
  readonly incremental: boolean;
  readonly bytes: number;
  readonly keys: number;
  /** Processing time from the drain until the write was durable. */
  readonly durationMs: number;
  /** Of that, the drain and the snapshot: how long processing stood still. */
  readonly pauseMs: number;
  /** The processing time the checkpoint was taken at. */
  readonly takenAt: number;
}

export interface CheckpointMetrics {
  readonly checkpoints: number;
  readonly failures: number;
  readonly lastDurationMs: number | undefined;
  readonly lastBytes: number | undefined;
  /** Clock time of the last successful checkpoint (its age is now − this). */
  readonly lastSuccessAt: number | undefined;
  /** The longest time one checkpoint held processing up. */
  readonly longestPauseMs: number;
}

export class Checkpointer {
  private nextId: number;
  private lastAt: number;
  private fullNext: boolean;
  private count = 0;
  private failures = 0;
  private last: CheckpointRecord | undefined;
  private lastSuccessAt: number | undefined;
  private longestPauseMs = 0;
  /** `runtime.recordsRead()` at the last checkpoint taken. */
  private readAtLast = -1;
  /** The write in the background, if one is under way. */
  private writing: Promise<CheckpointRecord> | undefined;
  /** A background write's failure, thrown at the next boundary. */
  private failed: Error | undefined;
  /** Callers of `request()` waiting for the next checkpoint to be durable. */
  private waiters: Array<{ resolve: (r: CheckpointRecord) => void; reject: (e: Error) => void }> = [];

  constructor(
    private readonly store: CheckpointStore,
    private readonly options: CheckpointerOptions,
  ) {
    this.nextId = options.firstId;
    this.lastAt = options.clock.now();
    this.fullNext = !(options.continueChain ?? false);
  }

  /**
   * The runtime's `onBoundary` hook: starts a checkpoint when the interval has passed or one was
   * requested, and returns once it is snapshotted; the write goes on in the background.
   */
  readonly onBoundary = async (runtime: JobRuntime): Promise<void> => {
    if (this.failed !== undefined) {
      const error = this.failed;
      this.failed = undefined;
      throw error;
    }
    if (this.writing !== undefined) return;
    const interval = this.options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (this.waiters.length === 0 && this.options.clock.now() - this.lastAt < interval) return;
    const { durable } = await this.begin(runtime);
    durable.catch((error: Error) => {
      this.failed ??= error;
    });
  };

  /**
   * For the runtime's `nextBoundaryAt`: when the next checkpoint is due, if the job has read
   * anything since the last one (an idle job is not woken to write empty checkpoints).
   */
  readonly nextDueAt = (runtime: JobRuntime): number | undefined => {
    if (this.waiters.length > 0) return this.options.clock.now();
    if (runtime.recordsRead() === this.readAtLast) return undefined;
    return this.lastAt + (this.options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS);
  };

  /** Takes one checkpoint now (after any write under way) and resolves once it is durable. */
  async checkpoint(runtime: JobRuntime): Promise<CheckpointRecord> {
    await this.settle().catch(() => {});
    const { durable } = await this.begin(runtime);
    return durable;
  }

  /**
   * Asks for a checkpoint at the next boundary, whatever the interval; resolves with it once it is
   * durable (savepoints build on this). Rejects if that checkpoint fails.
   */
  request(): Promise<CheckpointRecord> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Fails the requests no checkpoint will answer any more (the job ended first). */
  abandonRequests(reason: string): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error(reason));
  }

  /** Waits for the write under way, if any; rejects with its failure. */
  async settle(): Promise<void> {
    if (this.writing !== undefined) await this.writing;
  }

  /** Steps 1–2 now; 3–5 in `durable` (wrapped, since awaiting a promise of a promise flattens it). */
  private async begin(runtime: JobRuntime): Promise<{ durable: Promise<CheckpointRecord> }> {
    const clock = this.options.clock;
    const started = clock.now();
    this.lastAt = started;
    this.readAtLast = runtime.recordsRead();
    const waiters = this.waiters;
    this.waiters = [];
    let snapshot: JobCapture;
    let incremental: boolean;
    try {
      // 1–2: drain, then snapshot with no await in between.
      await runtime.drainSinks();
      incremental = !this.fullNext;
      snapshot = runtime.capture({ incremental });
    } catch (error) {
      for (const w of waiters) w.reject(asError(error));
      throw error;
    }
    const pauseMs = clock.now() - started;
    this.longestPauseMs = Math.max(this.longestPauseMs, pauseMs);
    const id = this.nextId++;
    const durable = this.finish(runtime, id, snapshot, { started, pauseMs, incremental });
    this.writing = durable;
    durable.then(
      (record) => {
        for (const w of waiters) w.resolve(record);
      },
      (error: Error) => {
        for (const w of waiters) w.reject(error);
      },
    );
    const clear = () => {
      if (this.writing === durable) this.writing = undefined;
    };
    durable.then(clear, clear);
    return { durable };
  }

  private async finish(
    runtime: JobRuntime,
    id: number,
    snapshot: JobCapture,
    at: { started: number; pauseMs: number; incremental: boolean },
  ): Promise<CheckpointRecord> {
    const clock = this.options.clock;
    // 3: the durable write.
    let written: { bytes: number; keys: number };
    try {
      written = await this.store.write(id, snapshot, at.started);
    } catch (error) {
      snapshot.keyed.release();
      this.failures++;
      this.fullNext = true;
      const failure = new Error(`checkpoint ${id} failed: ${asError(error).message}`, { cause: error });
      this.options.onFailure?.(failure);
      throw failure;
    }
    snapshot.keyed.release();
    this.fullNext = false;
    // 4: the copy to the shared store, if any; only once the checkpoint is where a restore looks
    // for it may the sources tell the outside world how far they are.
    const shared = (await this.options.beforeCommit?.(id)) ?? true;
    if (shared) await runtime.commitPositions(snapshot.positions, id);
    // 5: metrics.
    this.count++;
    this.lastSuccessAt = clock.now();
    const record: CheckpointRecord = {
      id,
      incremental: at.incremental,
      bytes: written.bytes,
      keys: written.keys,
      durationMs: this.lastSuccessAt - at.started,
      pauseMs: at.pauseMs,
      takenAt: at.started,
    };
    this.last = record;
    await this.options.onCheckpoint?.(record);
    return record;
  }

  metrics(): CheckpointMetrics {
    return {
      checkpoints: this.count,
      failures: this.failures,
      lastDurationMs: this.last?.durationMs,
      lastBytes: this.last?.bytes,
      lastSuccessAt: this.lastSuccessAt,
      longestPauseMs: this.longestPauseMs,
    };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** What a state folder holds, as the recovery decision sees it. */
export interface StoreContents {
  /** Ids of every checkpoint with a manifest, usable or not. */
  readonly ids: readonly number[];
  /** The newest checkpoint that verified, if any. */
  readonly loaded?: { readonly id: number; readonly snapshot: JobSnapshot };
  /** Newer checkpoints that did not verify, and why. */
  readonly skipped: ReadonlyArray<{ readonly id: number; readonly reason: string }>;
}

export type Recovery =
  | { readonly kind: 'fresh'; readonly firstId: number; readonly note?: string }
  | {
      readonly kind: 'restore';
      readonly checkpointId: number;
      readonly snapshot: JobSnapshot;
      readonly firstId: number;
      readonly notes: readonly string[];
    }
  | { readonly kind: 'refuse'; readonly reason: string };

/**
 * Decides how a job starts from what its state folder holds. A job never starts empty when state
 * existed, unless told to (`ignoreState`); a newer checkpoint that failed verification is skipped
 * with a note, and the next checkpoint id is past every id seen so none is reused.
 */
export function decideRecovery(
  contents: StoreContents,
  job: string,
  options: { readonly ignoreState: boolean; readonly where: string },
): Recovery {
  const firstId = Math.max(0, ...contents.ids, ...contents.skipped.map((s) => s.id)) + 1;
  if (options.ignoreState) {
    const note =
      contents.ids.length > 0
        ? `--ignore-state: starting empty; the ${contents.ids.length} checkpoint(s) in ${options.where} will be replaced`
        : undefined;
    return { kind: 'fresh', firstId, ...(note ? { note } : {}) };
  }
  const notes = contents.skipped.map(
    (s) => `checkpoint ${s.id} in ${options.where} is unusable (${s.reason}); falling back to an older one`,
  );
  if (contents.loaded) {
    if (contents.loaded.snapshot.job !== job) {
      return {
        kind: 'refuse',
        reason: `${options.where} holds state of job "${contents.loaded.snapshot.job}", not "${job}"; use another --state-dir, or --ignore-state to start empty`,
      };
    }
    return {
      kind: 'restore',
      checkpointId: contents.loaded.id,
      snapshot: contents.loaded.snapshot,
      firstId,
      notes,
    };
  }
  if (contents.ids.length > 0 || contents.skipped.length > 0) {
    const why = contents.skipped[0]?.reason ?? 'none verified';
    return {
      kind: 'refuse',
      reason: `${options.where} holds checkpoints but none can be restored (${why}); pass --ignore-state to start empty`,
    };
  }
  return { kind: 'fresh', firstId };
}
