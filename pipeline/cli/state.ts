/**
 * `--state-dir` for `scout run` and `scout replay`: opens the job's checkpoint store, decides how to
 * start (restore the newest checkpoint that verifies, start fresh, or refuse — see
 * `decideRecovery`), says so in one line on stderr, and hands back the snapshot to restore and the
 * checkpointer to run at batch boundaries.
 */
import { Checkpointer, type CheckpointRecord, decideRecovery } from '../checkpoint/coordinator.ts';
import { LevelCheckpointStore } from '../checkpoint/level-store.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import type { Clock } from '../time/clock.ts';

export interface JobStateOptions {
  readonly stateDir: string;
  readonly job: string;
  readonly ignoreState: boolean;
  readonly intervalMs?: number;
  readonly clock: Clock;
  /** One line per notable event (restore, fallback), for stderr. */
  readonly log: (line: string) => void;
  readonly onCheckpoint?: (record: CheckpointRecord) => void;
}

export interface JobState {
  readonly restore: JobSnapshot | undefined;
  readonly checkpointer: Checkpointer;
  close(): Promise<void>;
}

export async function openJobState(options: JobStateOptions): Promise<JobState> {
  let store: LevelCheckpointStore;
  try {
    store = await LevelCheckpointStore.open(options.stateDir);
  } catch (error) {
    throw new Error(
      `cannot open the state in ${options.stateDir}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    const listed = await store.list();
    const loaded = options.ignoreState ? undefined : await store.load();
    const decision = decideRecovery(
      {
        ids: listed.map((c) => c.id),
        ...(loaded ? { loaded: { id: loaded.id, snapshot: loaded.snapshot } } : {}),
        skipped: loaded?.skipped ?? [],
      },
      options.job,
      { ignoreState: options.ignoreState, where: options.stateDir },
    );
    if (decision.kind === 'refuse') throw new Error(decision.reason);
    if (decision.kind === 'restore') {
      for (const note of decision.notes) options.log(note);
      options.log(`restoring checkpoint ${decision.checkpointId} of ${options.job} from ${options.stateDir}`);
    } else if (decision.note) {
      options.log(decision.note);
    }
    const checkpointer = new Checkpointer(store, {
      clock: options.clock,
      // The store also knows ids of checkpoints that never finished; never reuse one.
      firstId: Math.max(decision.firstId, store.nextId),
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
      ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
    });
    return {
      restore: decision.kind === 'restore' ? decision.snapshot : undefined,
      checkpointer,
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
