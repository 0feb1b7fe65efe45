/**
 * Savepoints: named, self-contained copies of a checkpoint that a user asks for and restores from
 * (`scout savepoint`, `scout savepoints list|rm`, `scout run --from-savepoint`). Each one is a
 * checkpoint store of its own under `<state-dir>/savepoints/<name>/`, holding one full checkpoint:
 * it does not depend on the job's chain of incremental checkpoints, which retention deletes, and
 * the folder can be copied to another machine as it is.
 *
 * A savepoint is made from a checkpoint that is already durable: the job's next checkpoint is
 * taken at once, and its merged chain is read back (verified by checksum) and written out full.
 * Processing goes on meanwhile.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSnapshot } from '../runtime/runtime.ts';
import { LevelCheckpointStore } from './level-store.ts';

export interface SavepointInfo {
  readonly name: string;
  readonly job: string;
  readonly createdAt: number;
  /** Bytes of its records. */
  readonly bytes: number;
  /** Keyed-state entries it holds. */
  readonly keys: number;
  readonly path: string;
}

export interface NewSavepoint extends SavepointInfo {
  /** The job checkpoint it was made from. */
  readonly checkpointId: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The folder of savepoint `name` of the job checkpointing into `stateDir`. */
export function savepointPath(stateDir: string, name: string): string {
  if (!NAME.test(name)) {
    throw new Error(
      `a savepoint name is 1–64 letters, digits, '.', '_' or '-' (starting with a letter or digit), got "${name}"`,
    );
  }
  return join(stateDir, 'savepoints', name);
}

/** A default name: the job and the time, `highlights-20261121T021500Z`. */
export function defaultSavepointName(job: string, at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${job.replace(/[^A-Za-z0-9._-]/g, '-')}-${stamp}`;
}

/**
 * Copies checkpoint `checkpointId` of `store` into a new savepoint folder as one full checkpoint.
 * Refuses a name that is taken.
 */
export async function writeSavepoint(
  store: LevelCheckpointStore,
  checkpointId: number,
  stateDir: string,
  name: string,
): Promise<NewSavepoint> {
  const path = savepointPath(stateDir, name);
  if (existsSync(path)) throw new Error(`savepoint "${name}" already exists in ${stateDir}`);
  const loaded = await store.loadId(checkpointId);
  const target = await LevelCheckpointStore.open(path, { keep: 1 });
  try {
    const created = Date.now();
    const info = await target.write(1, loaded.snapshot, created);
    return {
      name,
      job: loaded.snapshot.job,
      createdAt: created,
      bytes: info.bytes,
      keys: info.keys,
      checkpointId,
      path,
    };
  } catch (error) {
    await target.close();
    await rm(path, { recursive: true, force: true });
    throw error;
  } finally {
    await target.close().catch(() => {});
  }
}

/** Savepoints of `stateDir`, oldest first; unreadable folders are listed with their problem. */
export async function listSavepoints(
  stateDir: string,
): Promise<
  Array<SavepointInfo | { readonly name: string; readonly path: string; readonly problem: string }>
> {
  const root = join(stateDir, 'savepoints');
  if (!existsSync(root)) return [];
  const out: Array<SavepointInfo | { name: string; path: string; problem: string }> = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name);
    try {
      const store = await LevelCheckpointStore.open(path, { keep: 1 });
      try {
        const [info] = await store.list();
        if (info === undefined) throw new Error('it holds no complete checkpoint');
        out.push({
          name: entry.name,
          job: info.job,
          createdAt: info.createdAt,
          bytes: info.bytes,
          keys: info.keys,
          path,
        });
      } finally {
        await store.close();
      }
    } catch (error) {
      out.push({ name: entry.name, path, problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return out.sort((a, b) => ('createdAt' in a ? a.createdAt : 0) - ('createdAt' in b ? b.createdAt : 0));
}

/** Deletes savepoint `name`; throws if there is none. */
export async function removeSavepoint(stateDir: string, name: string): Promise<void> {
  const path = savepointPath(stateDir, name);
  if (!existsSync(path)) throw new Error(`no savepoint "${name}" in ${stateDir}`);
  await rm(path, { recursive: true, force: true });
}

/**
 * The snapshot of a savepoint, verified. `ref` is a name under `stateDir`, or a path to a
 * savepoint folder (one copied from another machine).
 */
export async function loadSavepoint(
  stateDir: string,
  ref: string,
): Promise<{ readonly snapshot: JobSnapshot; readonly path: string }> {
  const path = ref.includes('/') ? ref : savepointPath(stateDir, ref);
  if (!existsSync(path)) throw new Error(`no savepoint "${ref}" (looked in ${path})`);
  const store = await LevelCheckpointStore.open(path, { keep: 1 });
  try {
    const loaded = await store.load();
    if (loaded === undefined) throw new Error(`savepoint ${path} holds no complete checkpoint`);
    return { snapshot: loaded.snapshot, path };
  } finally {
    await store.close();
  }
}
