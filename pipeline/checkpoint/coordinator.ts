/**
 * Checkpoints: this module owns their order, and nothing else writes state or commits positions.
 * At a batch boundary, once `intervalMs` of processing time has passed since the last one:
 *
 *   1. drain the sinks: every record handed to a sink is written and flushed, and each sink's place
 *      in its output (a file's length) becomes part of its step state;
 *   2. snapshot the job right after, with no await in between: operator state, elements in flight
 *      in `asyncMap` and `delay`, timers, open windows, watermarks, keyed state (all of it in the
 *      first checkpoint of a run, then only the keys changed since the last one) and the source
 *      positions;
 *   3. write the snapshot to the store under the next checkpoint id, atomically: the store writes
 *      the data first and the manifest that makes it visible last (an incremental is one batch);
 *   4. only once that write is durable, commit the source positions outward (Kafka offsets);
 *   5. record its duration, size and the time of the last success.
 *
 * A failed write makes the next checkpoint a full one, because the change set it consumed is gone.
 * Recovery is a pure decision (`decideRecovery`) over what the store holds; the CLI does the I/O.
 */
import type { JobRuntime, JobSnapshot } from '../runtime/runtime.ts';
import type { Clock } from '../time/clock.ts';

/** What the coordinator needs of a store (`LevelCheckpointStore` is the durable one). */
export interface CheckpointStore {
  write(
    id: number,
    snapshot: JobSnapshot,
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
  /** Called after each checkpoint, for logs. */
  readonly onCheckpoint?: (info: CheckpointRecord) => void;
}

export interface CheckpointRecord {
  readonly id: number;
  readonly incremental: boolean;
  readonly bytes: number;
  readonly keys: number;
  /**
   * Processing time from the drain to the durable write. The runtime awaits its boundary hook, so
   * this is also how long processing stood still.
   */
  readonly durationMs: number;
  /** Of that, the drain and the snapshot; the rest is the store's write. */
  readonly pauseMs: number;
}

export interface CheckpointMetrics {
  readonly checkpoints: number;
  readonly failures: number;
  readonly lastDurationMs: number | undefined;
  readonly lastBytes: number | undefined;
  /** Clock time of the last successful checkpoint (its age is now − this). */
  readonly lastSuccessAt: number | undefined;
}

export class Checkpointer {
  private nextId: number;
  private lastAt: number;
  private fullNext = true;
  private count = 0;
  private failures = 0;
  private last: CheckpointRecord | undefined;
  private lastSuccessAt: number | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly options: CheckpointerOptions,
  ) {
    this.nextId = options.firstId;
    this.lastAt = options.clock.now();
  }

  /** The runtime's `onBoundary` hook: checkpoints when the interval has passed. */
  readonly onBoundary = async (runtime: JobRuntime): Promise<void> => {
    const interval = this.options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (this.options.clock.now() - this.lastAt < interval) return;
    await this.checkpoint(runtime);
  };

  /** Takes one checkpoint now, in the order of the module comment. */
  async checkpoint(runtime: JobRuntime): Promise<CheckpointRecord> {
    const clock = this.options.clock;
    const started = clock.now();
    this.lastAt = started;
    // 1–2: drain, then snapshot with no await in between.
    await runtime.drainSinks();
    const incremental = !this.fullNext;
    const snapshot = runtime.snapshot({ incremental });
    const paused = clock.now() - started;
    const id = this.nextId++;
    // 3: the durable write.
    let written: { bytes: number; keys: number };
    try {
      written = await this.store.write(id, snapshot, started);
    } catch (error) {
      this.failures++;
      this.fullNext = true;
      throw new Error(`checkpoint ${id} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    this.fullNext = false;
    // 4: only now may the sources tell the outside world how far they are.
    await runtime.commitPositions(snapshot.positions);
    // 5: metrics.
    this.count++;
    this.lastSuccessAt = clock.now();
    const record: CheckpointRecord = {
      id,
      incremental,
      bytes: written.bytes,
      keys: written.keys,
      durationMs: this.lastSuccessAt - started,
      pauseMs: paused,
    };
    this.last = record;
    this.options.onCheckpoint?.(record);
    return record;
  }

  metrics(): CheckpointMetrics {
    return {
      checkpoints: this.count,
      failures: this.failures,
      lastDurationMs: this.last?.durationMs,
      lastBytes: this.last?.bytes,
      lastSuccessAt: this.lastSuccessAt,
    };
  }
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
