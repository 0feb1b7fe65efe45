/**
 * `--state-dir` for `scout run` and `scout replay`: opens the job's checkpoint store, decides how to
 * start — from `--from-savepoint` when given, else the newest checkpoint that verifies, else fresh,
 * or refuse (see `decideRecovery`) — checks the state fits the job's steps (`fitSnapshot`), says
 * what it did in one line on stderr, and hands back the snapshot to restore and the checkpointer
 * to run at batch boundaries. While the job runs it answers `scout savepoint` on its control socket.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fitSnapshot } from '../checkpoint/compatibility.ts';
import { Checkpointer, type CheckpointRecord, decideRecovery } from '../checkpoint/coordinator.ts';
import { LevelCheckpointStore } from '../checkpoint/level-store.ts';
import { S3CheckpointMirror } from '../checkpoint/object-mirror.ts';
import {
  defaultSavepointName,
  loadSavepoint,
  type NewSavepoint,
  savepointPath,
  writeSavepoint,
} from '../checkpoint/savepoints.ts';
import type { Graph } from '../graph.ts';
import type { JobMetrics } from '../metrics/job-metrics.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import type { Clock } from '../time/clock.ts';
import { startControlServer, stopControlServer } from './control.ts';

export interface JobStateOptions {
  readonly stateDir: string;
  readonly graph: Graph;
  readonly ignoreState: boolean;
  /** Start from this savepoint (a name under the state folder, or a savepoint folder's path). */
  readonly fromSavepoint?: string;
  /** Drop state of steps the job no longer has instead of refusing to start. */
  readonly allowNonRestoredState?: boolean;
  readonly intervalMs?: number;
  readonly clock: Clock;
  /** One line per notable event (restore, fallback, savepoint), for stderr. */
  readonly log: (line: string) => void;
  readonly onCheckpoint?: (record: CheckpointRecord) => void;
  /** Answer `scout savepoint` on the control socket (default true). */
  readonly control?: boolean;
  /** `s3://bucket/prefix`: copy every checkpoint there, and start from there when the folder is empty. */
  readonly checkpointStore?: string;
  /** Where checkpoint durations, sizes and ages are recorded. */
  readonly metrics?: JobMetrics;
  /**
   * Exactly-once: which checkpoint's outputs and positions the outside world committed (read after
   * the store is open, so after its previous owner let go). That one is restored, even when newer
   * ones are in the store; `id: undefined` means none yet, and the job starts empty.
   */
  readonly committedCheckpoint?: () => Promise<CommittedCheckpoint>;
}

export interface CommittedCheckpoint {
  readonly id: number | undefined;
  /** Where it was committed, for messages: `the offsets of group g`. */
  readonly what: string;
}

/** The `--state-dir` family of flags, as `run` and `replay` take them. */
export interface StateFlags {
  /** Checkpoint into this folder and resume from it when started again. */
  readonly stateDir?: string;
  readonly checkpointIntervalMs?: number;
  readonly ignoreState?: boolean;
  /** Start from this savepoint instead of the newest checkpoint. */
  readonly fromSavepoint?: string;
  readonly allowNonRestoredState?: boolean;
  readonly checkpointStore?: string;
  /** One-line notices (restores, fallbacks, savepoints) for stderr. */
  readonly log?: (line: string) => void;
}

/** The job's state per those flags; undefined without `--state-dir`. */
export async function openStateFromFlags(
  flags: StateFlags,
  graph: Graph,
  clock: Clock,
  metrics?: JobMetrics,
): Promise<JobState | undefined> {
  if (flags.stateDir === undefined) return undefined;
  return openJobState({
    stateDir: flags.stateDir,
    graph,
    clock,
    ignoreState: flags.ignoreState ?? false,
    allowNonRestoredState: flags.allowNonRestoredState ?? false,
    log: flags.log ?? (() => {}),
    ...(flags.fromSavepoint !== undefined ? { fromSavepoint: flags.fromSavepoint } : {}),
    ...(flags.checkpointIntervalMs !== undefined ? { intervalMs: flags.checkpointIntervalMs } : {}),
    ...(flags.checkpointStore !== undefined ? { checkpointStore: flags.checkpointStore } : {}),
    ...(metrics ? { metrics } : {}),
  });
}

export interface JobState {
  readonly restore: JobSnapshot | undefined;
  readonly checkpointer: Checkpointer;
  /** Takes a savepoint at the next boundary; resolves once it is written. */
  savepoint(name?: string): Promise<NewSavepoint>;
  /** Waits for the checkpoint being written, stops answering, and closes the store. */
  close(): Promise<void>;
}

export async function openJobState(options: JobStateOptions): Promise<JobState> {
  const { stateDir, graph } = options;
  let store: LevelCheckpointStore;
  try {
    store = await LevelCheckpointStore.open(stateDir);
  } catch (error) {
    throw new Error(`cannot open the state in ${stateDir}: ${messageOf(error)}`, { cause: error });
  }
  let control: Server | undefined;
  try {
    const mirror = options.checkpointStore
      ? await S3CheckpointMirror.open(options.checkpointStore)
      : undefined;
    let listed = await store.list();
    // Exactly-once: the checkpoint to restore is the one whose outputs and offsets were committed.
    const committed =
      options.committedCheckpoint && !options.ignoreState && options.fromSavepoint === undefined
        ? await options.committedCheckpoint()
        : undefined;
    if (committed !== undefined) {
      if (mirror && committed.id !== undefined && !(await store.hasCheckpoint(committed.id))) {
        const copied = await mirror.restoreInto(store, { only: committed.id });
        for (const note of copied?.notes ?? []) options.log(note);
        if (copied) options.log(`copied checkpoint ${copied.id} of ${graph.name} from ${mirror.url}`);
        listed = await store.list();
      }
    }
    // Another machine's checkpoints: only into an empty folder, never over local ones.
    if (
      mirror &&
      committed === undefined &&
      listed.length === 0 &&
      !options.ignoreState &&
      options.fromSavepoint === undefined
    ) {
      const copied = await mirror.restoreInto(store);
      for (const note of copied?.notes ?? []) options.log(note);
      if (copied) {
        options.log(`copied checkpoint ${copied.id} of ${graph.name} from ${mirror.url}`);
        listed = await store.list();
      }
    }
    let restore: JobSnapshot | undefined;
    let restoredCheckpoint = false;
    let firstId: number;
    if (options.fromSavepoint !== undefined) {
      const saved = await loadSavepoint(stateDir, options.fromSavepoint);
      if (saved.snapshot.job !== graph.name) {
        throw new Error(`savepoint ${saved.path} is of job "${saved.snapshot.job}", not "${graph.name}"`);
      }
      restore = saved.snapshot;
      firstId = Math.max(0, ...listed.map((c) => c.id)) + 1;
      options.log(`restoring savepoint ${saved.path} of ${graph.name}`);
    } else if (committed !== undefined) {
      const ids = listed.map((c) => c.id);
      // Never reuse an id, here or in the bucket: a later checkpoint must not overwrite one there.
      firstId = Math.max(0, ...ids, ...(mirror ? await mirror.list() : [])) + 1;
      if (committed.id === undefined) {
        if (ids.length > 0) {
          options.log(
            `no checkpoint was committed with ${committed.what} yet: starting empty (the ${ids.length} in ${stateDir} never were)`,
          );
        }
      } else {
        if (!ids.includes(committed.id)) {
          const there = mirror ? await mirror.list() : ids;
          throw new Error(
            `checkpoint ${committed.id}, the last one committed with ${committed.what}, is not in ${mirror ? mirror.url : stateDir} (there: ${there.join(', ') || 'none'}); give the state folder or store of that group's runs, or use another group`,
          );
        }
        const loaded = await store.loadId(committed.id);
        if (loaded.snapshot.job !== graph.name) {
          throw new Error(
            `${stateDir} holds state of job "${loaded.snapshot.job}", not "${graph.name}"; use another state folder or group`,
          );
        }
        restore = loaded.snapshot;
        // Only the newest checkpoint may carry on its chain; after an older one the next is full.
        restoredCheckpoint = committed.id === Math.max(...ids);
        options.log(
          `restoring checkpoint ${committed.id} of ${graph.name} from ${stateDir} (the last one committed with ${committed.what})`,
        );
      }
    } else {
      const loaded = options.ignoreState ? undefined : await store.load();
      const decision = decideRecovery(
        {
          ids: listed.map((c) => c.id),
          ...(loaded ? { loaded: { id: loaded.id, snapshot: loaded.snapshot } } : {}),
          skipped: loaded?.skipped ?? [],
        },
        graph.name,
        { ignoreState: options.ignoreState, where: stateDir },
      );
      if (decision.kind === 'refuse') throw new Error(decision.reason);
      if (decision.kind === 'restore') {
        for (const note of decision.notes) options.log(note);
        options.log(`restoring checkpoint ${decision.checkpointId} of ${graph.name} from ${stateDir}`);
        restore = decision.snapshot;
        restoredCheckpoint = true;
      } else if (decision.note) {
        options.log(decision.note);
      }
      firstId = decision.firstId;
    }
    if (restore !== undefined) {
      const fitted = fitSnapshot(restore, graph, {
        allowNonRestored: options.allowNonRestoredState ?? false,
        what: options.fromSavepoint !== undefined ? `savepoint "${options.fromSavepoint}"` : stateDir,
      });
      if (fitted.dropped.length > 0) {
        options.log(`--allow-non-restored-state: leaving out the state of ${fitted.dropped.join(', ')}`);
      }
      restore = fitted.snapshot;
    }

    const checkpointer = new Checkpointer(store, {
      clock: options.clock,
      // The store also knows ids of checkpoints that never finished; never reuse one.
      firstId: Math.max(firstId, store.nextId),
      // After restoring the newest checkpoint as it was, the next one only adds what changed.
      continueChain: restoredCheckpoint,
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
      // Awaited, the copy holds back the next checkpoint, not processing: a chain is copied whole
      // before retention can drop a member of it. Offsets are committed only for a copied one.
      ...(mirror ? { beforeCommit: (id: number) => copyCheckpoint(mirror, store, id, options) } : {}),
      onCheckpoint: (record) => {
        options.metrics?.checkpointSucceeded(record);
        options.onCheckpoint?.(record);
      },
      onFailure: () => options.metrics?.checkpointFailed(),
    });

    // Savepoints being written: closing waits for them, as they read the store.
    const writing = new Set<Promise<unknown>>();
    const savepoint = async (name?: string): Promise<NewSavepoint> => {
      const chosen = name ?? defaultSavepointName(graph.name, options.clock.now());
      // A bad or taken name fails before the checkpoint is taken.
      if (existsSync(savepointPath(stateDir, chosen))) {
        throw new Error(`savepoint "${chosen}" already exists in ${stateDir}`);
      }
      const made = checkpointer.request().then(async (record) => {
        const info = await writeSavepoint(store, record.id, stateDir, chosen);
        options.log(`savepoint "${info.name}" written to ${info.path} (from checkpoint ${record.id})`);
        return info;
      });
      writing.add(made);
      const forget = () => writing.delete(made);
      made.then(forget, forget);
      return made;
    };
    if (options.control ?? true) {
      control = await startControlServer(stateDir, { job: graph.name, savepoint });
    }

    return {
      restore,
      checkpointer,
      savepoint,
      close: async () => {
        checkpointer.abandonRequests(`the job ${graph.name} stopped before it could take the savepoint`);
        try {
          await checkpointer.settle();
        } catch (error) {
          options.log(messageOf(error));
        } finally {
          await Promise.allSettled([...writing]);
          if (control) await stopControlServer(control, stateDir);
          await store.close();
        }
      },
    };
  } catch (error) {
    if (control) await stopControlServer(control, stateDir);
    await store.close();
    throw error;
  }
}

/**
 * Copies checkpoint `id` and applies the store's retention remotely; false when the copy failed,
 * which is logged, not fatal (its offsets then wait for the next checkpoint's copy).
 */
async function copyCheckpoint(
  mirror: S3CheckpointMirror,
  store: LevelCheckpointStore,
  id: number,
  options: JobStateOptions,
): Promise<boolean> {
  try {
    await mirror.upload(store, id);
    await mirror.retain((await store.list()).map((c) => c.id));
    options.metrics?.checkpointCopied(true);
    return true;
  } catch (error) {
    options.metrics?.checkpointCopied(false);
    options.log(`checkpoint ${id} stays local only, its positions uncommitted: ${messageOf(error)}`);
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
