/**
 * `openJobState` with `committedCheckpoint` (exactly-once on Kafka): the checkpoint restored is the
 * one the outside world committed, not the newest in the folder, and the ids and chains that
 * follow never build on a checkpoint that was not restored. Real checkpoints in a real LevelDB
 * folder, written by a small job through the checkpointer `openJobState` hands out.
 *
 * The job keeps one keyed entry per number it read (keyed by the number), so a checkpoint's keyed
 * state says exactly which records it covers. The runs after a restore read other numbers than the
 * seeding run past the restored position, so a checkpoint they write must load as the restored
 * state plus those, with nothing of the seeding run's newer checkpoints in it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pipeline } from '../builder.ts';
import type { CheckpointRecord } from '../checkpoint/coordinator.ts';
import { LevelCheckpointStore } from '../checkpoint/level-store.ts';
import type { Graph } from '../graph.ts';
import { JobRuntime, type JobSnapshot } from '../runtime/runtime.ts';
import { valueState } from '../state/api.ts';
import { collect, fromArray } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import { type CommittedCheckpoint, type JobState, openJobState } from './state.ts';

/** Records per poll: the k-th batch boundary comes after 2k records. */
const BATCH = 2;
const WHAT = 'the offsets of group g';
/** What the seeding run reads. */
const SEEDED = Array.from({ length: 20 }, (_, i) => i + 1);
/** The same first 4 records, then 100 + n: a run resumed at 4 or 6 reads other numbers from there. */
const CHANGED = SEEDED.map((n) => (n <= 4 ? n : n + 100));

function job(numbers: readonly number[]): Graph {
  const p = pipeline('counting');
  p.from(fromArray(numbers), { id: 'numbers' })
    .keyBy((n) => n, 'by-number')
    .process<number, { seen: ReturnType<typeof valueState<number>> }>(
      {
        state: { seen: valueState<number>() },
        onElement(n, ctx) {
          ctx.state.seen.update(n);
          ctx.emit(n);
        },
      },
      'seen',
    )
    .to(collect<number>(), 'out');
  return p.graph();
}

/** The position of the job's one source partition in a snapshot. */
const positionOf = (s: JobSnapshot) => s.positions.numbers?.['0'];

/** The numbers a snapshot's keyed state holds, sorted. */
function numbersIn(s: JobSnapshot): number[] {
  const table = s.keyed.tables['seen/seen'];
  assert.ok(table, `no table seen/seen in ${Object.keys(s.keyed.tables).join(', ')}`);
  return table.entries.map(([, value]) => value as number).sort((a, b) => a - b);
}

interface Opened {
  readonly state: JobState;
  readonly graph: Graph;
  readonly log: string[];
}

async function open(
  stateDir: string,
  numbers: readonly number[],
  extra: { committedCheckpoint?: () => Promise<CommittedCheckpoint>; ignoreState?: boolean } = {},
): Promise<Opened> {
  const graph = job(numbers);
  const log: string[] = [];
  const state = await openJobState({
    stateDir,
    graph,
    clock: new ManualClock(0),
    ignoreState: extra.ignoreState ?? false,
    control: false,
    log: (line) => log.push(line),
    ...(extra.committedCheckpoint ? { committedCheckpoint: extra.committedCheckpoint } : {}),
  });
  return { state, graph, log };
}

/**
 * Runs the job from what the state restored and takes a checkpoint at each of the first `count`
 * batch boundaries (each one durable before the job goes on), then stops and closes the state.
 */
async function checkpoint(opened: Opened, count: number): Promise<CheckpointRecord[]> {
  const { state, graph } = opened;
  const records: CheckpointRecord[] = [];
  const runtime = new JobRuntime(graph, {
    clock: new ManualClock(0),
    batchSize: BATCH,
    ...(state.restore ? { restore: state.restore } : {}),
    onBoundary: async (rt) => {
      records.push(await state.checkpointer.checkpoint(rt));
      if (records.length === count) rt.stop();
    },
  });
  try {
    assert.equal((await runtime.run()).outcome, 'stopped');
  } finally {
    await state.close();
  }
  return records;
}

/** A folder holding checkpoints 1, 2 and 3 of the seeding run: after 2, 4 and 6 records. */
async function seeded(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'state-committed-')), 'state');
  const records = await checkpoint(await open(dir, SEEDED), 3);
  assert.deepEqual(
    records.map((r) => [r.id, r.incremental]),
    [
      [1, false],
      [2, true],
      [3, true],
    ],
  );
  return dir;
}

/** Checkpoint `id` as the store loads it, and the ids the folder holds. */
async function stored(dir: string, id: number): Promise<{ snapshot: JobSnapshot; ids: number[] }> {
  const store = await LevelCheckpointStore.open(dir);
  try {
    const ids = (await store.list()).map((c) => c.id);
    return { snapshot: (await store.loadId(id)).snapshot, ids };
  } finally {
    await store.close();
  }
}

const committed = (id: number | undefined) => async (): Promise<CommittedCheckpoint> => ({ id, what: WHAT });

describe('openJobState with a committed checkpoint', () => {
  it('restores the committed checkpoint though a newer one exists, and starts a new chain past it', async () => {
    const dir = await seeded();
    const opened = await open(dir, CHANGED, { committedCheckpoint: committed(2) });
    const restore = opened.state.restore;
    assert.ok(restore, 'nothing restored');
    // Checkpoint 2's, not 3's: after 4 records, not 6.
    assert.equal(positionOf(restore), 4);
    assert.deepEqual(numbersIn(restore), [1, 2, 3, 4]);
    assert.deepEqual(opened.log, [
      `restoring checkpoint 2 of counting from ${dir} (the last one committed with ${WHAT})`,
    ]);

    const [next] = await checkpoint(opened, 1);
    assert.equal(next!.id, 4, 'the next checkpoint reused an id the folder holds');
    assert.equal(next!.incremental, false, 'the checkpoint after an older one chained onto the newest');
    const { snapshot, ids } = await stored(dir, 4);
    assert.deepEqual(ids, [2, 3, 4]);
    assert.equal(positionOf(snapshot), 6);
    // 5 and 6 of the seeding run were never committed, and are not in it.
    assert.deepEqual(numbersIn(snapshot), [1, 2, 3, 4, 105, 106]);
  });

  it('restores the committed checkpoint when it is the newest, and goes on with its chain', async () => {
    const dir = await seeded();
    const opened = await open(dir, CHANGED, { committedCheckpoint: committed(3) });
    const restore = opened.state.restore;
    assert.ok(restore, 'nothing restored');
    assert.equal(positionOf(restore), 6);
    assert.deepEqual(numbersIn(restore), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(opened.log, [
      `restoring checkpoint 3 of counting from ${dir} (the last one committed with ${WHAT})`,
    ]);

    const [next] = await checkpoint(opened, 1);
    assert.deepEqual([next!.id, next!.incremental], [4, true]);
    const { snapshot } = await stored(dir, 4);
    assert.equal(positionOf(snapshot), 8);
    assert.deepEqual(numbersIn(snapshot), [1, 2, 3, 4, 5, 6, 107, 108]);
  });

  it('starts empty when nothing was committed yet, says so, and numbers past the checkpoints there', async () => {
    const dir = await seeded();
    const opened = await open(dir, CHANGED, { committedCheckpoint: committed(undefined) });
    assert.equal(opened.state.restore, undefined);
    assert.deepEqual(opened.log, [
      `no checkpoint was committed with ${WHAT} yet: starting empty (the 3 in ${dir} never were)`,
    ]);

    const [next] = await checkpoint(opened, 1);
    assert.deepEqual([next!.id, next!.incremental], [4, false]);
    const { snapshot } = await stored(dir, 4);
    assert.equal(positionOf(snapshot), 2);
    assert.deepEqual(numbersIn(snapshot), [1, 2]);
  });

  it('refuses in one line when the committed checkpoint is not in the folder, and lets go of it', async () => {
    const dir = await seeded();
    await assert.rejects(open(dir, CHANGED, { committedCheckpoint: committed(7) }), (error: Error) => {
      assert.equal(
        error.message,
        `checkpoint 7, the last one committed with ${WHAT}, is not in ${dir} (there: 1, 2, 3); give the state folder or store of that group's runs, or use another group`,
      );
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    // The store was closed (LevelDB's lock released) and nothing was written to it.
    const { ids } = await stored(dir, 3);
    assert.deepEqual(ids, [1, 2, 3]);
  });

  it('with --ignore-state does not ask which checkpoint was committed', async () => {
    const dir = await seeded();
    let asked = 0;
    const opened = await open(dir, CHANGED, {
      ignoreState: true,
      committedCheckpoint: async () => {
        asked++;
        return { id: 2, what: WHAT };
      },
    });
    assert.equal(asked, 0);
    assert.equal(opened.state.restore, undefined);
    assert.deepEqual(opened.log, [
      `--ignore-state: starting empty; the 3 checkpoint(s) in ${dir} will be replaced`,
    ]);
    const [next] = await checkpoint(opened, 1);
    assert.deepEqual([next!.id, next!.incremental], [4, false]);
  });
});
