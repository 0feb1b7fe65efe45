import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../builder.ts';
import { JobRuntime, type JobSnapshot } from '../runtime/runtime.ts';
import { fromArray } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import type { Sink, SinkWriter } from '../types.ts';
import { Checkpointer, type CheckpointStore, decideRecovery } from './coordinator.ts';

/** Records the order of events the coordinator causes. */
function recordingStore(events: string[], fail = false): CheckpointStore & { written: JobSnapshot[] } {
  const written: JobSnapshot[] = [];
  return {
    written,
    async write(id, snapshot) {
      events.push(`write ${id}`);
      if (fail) throw new Error('disk full');
      written.push(snapshot);
      return { id, bytes: JSON.stringify(snapshot).length, keys: 0 };
    },
  };
}

function recordingSink(events: string[]): Sink<number> {
  return {
    describe: () => 'recording',
    open: (): SinkWriter<number> => ({
      write: async (records) => {
        events.push(`sink ${records.length}`);
      },
      flush: () => {
        events.push('flush');
      },
      checkpointState: () => ({ at: events.length }),
      close: () => {},
    }),
  };
}

function job(events: string[]) {
  const p = pipeline('counting');
  p.from(fromArray([1, 2, 3, 4, 5, 6]), { id: 'numbers' })
    .keyBy((n) => n % 2)
    .process<number>({ onElement: (n, ctx) => ctx.emit(n) }, 'pass')
    .to(recordingSink(events), 'out');
  return p.graph();
}

describe('Checkpointer', () => {
  it('drains and flushes the sinks, snapshots, writes, and only then commits positions', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    const checkpointer = new Checkpointer(recordingStore(events), { clock, firstId: 7 });
    const runtime = new JobRuntime(job(events), { clock, batchSize: 2 });
    let done = false;
    const run = runtime.run().then(() => {
      done = true;
    });
    // Take a checkpoint from the first boundary.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await checkpointer.checkpoint(runtime).catch(() => {});
    await run;
    assert.ok(done);
    const write = events.indexOf('write 7');
    assert.ok(write > 0, events.join(', '));
    assert.equal(events[write - 1], 'flush', 'the sink is flushed right before the write');
    assert.equal(checkpointer.metrics().checkpoints, 1);
  });

  it('checkpoints on the boundary once the interval has passed on the clock, first full then incremental', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    const store = recordingStore(events);
    const checkpointer = new Checkpointer(store, { clock, firstId: 1, intervalMs: 10 });
    const runtime = new JobRuntime(job(events), {
      clock,
      batchSize: 1,
      onBoundary: async (rt) => {
        await clock.advance(5);
        await checkpointer.onBoundary(rt);
      },
    });
    await runtime.run();
    assert.ok(store.written.length >= 2, `${store.written.length} checkpoints`);
    assert.equal(store.written[0]!.keyed.incremental, false);
    assert.equal(store.written[1]!.keyed.incremental, true);
    assert.ok(store.written.every((s) => s.positions.numbers !== undefined));
  });

  it('makes the checkpoint after a failed write a full one, and reports the failure in one line', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    let fail = true;
    const written: JobSnapshot[] = [];
    const store: CheckpointStore = {
      async write(id, snapshot) {
        if (fail) throw new Error('disk full');
        written.push(snapshot);
        return { id, bytes: 1, keys: 0 };
      },
    };
    const checkpointer = new Checkpointer(store, { clock, firstId: 1 });
    let first = true;
    let failure: unknown;
    const runtime = new JobRuntime(job(events), {
      clock,
      batchSize: 1,
      onBoundary: async (rt) => {
        if (first) {
          first = false;
          await checkpointer.checkpoint(rt).catch((e) => {
            failure = e;
          });
          await checkpointer.checkpoint(rt).catch(() => {});
          fail = false;
          await checkpointer.checkpoint(rt);
        }
      },
    });
    await runtime.run();
    assert.match(String(failure), /checkpoint 1 failed: disk full/);
    assert.equal(written[0]!.keyed.incremental, false);
    assert.equal(checkpointer.metrics().failures, 2);
  });
});

describe('decideRecovery', () => {
  const snapshot = (job: string): JobSnapshot => ({
    job,
    operators: {},
    keyed: { incremental: false, tables: {} },
    positions: {},
  });
  const where = 'state/';

  it('starts fresh in an empty folder', () => {
    assert.deepEqual(decideRecovery({ ids: [], skipped: [] }, 'j', { ignoreState: false, where }), {
      kind: 'fresh',
      firstId: 1,
    });
  });

  it('restores the newest checkpoint that verified, noting the skipped ones, and continues the ids past them', () => {
    const d = decideRecovery(
      {
        ids: [3, 4, 5],
        loaded: { id: 4, snapshot: snapshot('j') },
        skipped: [{ id: 5, reason: 'checksum mismatch' }],
      },
      'j',
      { ignoreState: false, where },
    );
    assert.equal(d.kind, 'restore');
    if (d.kind !== 'restore') return;
    assert.equal(d.checkpointId, 4);
    assert.equal(d.firstId, 6);
    assert.deepEqual(d.notes, [
      'checkpoint 5 in state/ is unusable (checksum mismatch); falling back to an older one',
    ]);
  });

  it('refuses to start empty when checkpoints exist but none verifies', () => {
    const d = decideRecovery({ ids: [1], skipped: [{ id: 1, reason: 'torn' }] }, 'j', {
      ignoreState: false,
      where,
    });
    assert.equal(d.kind, 'refuse');
    assert.match((d as { reason: string }).reason, /none can be restored \(torn\); pass --ignore-state/);
  });

  it("refuses another job's state", () => {
    const d = decideRecovery({ ids: [1], loaded: { id: 1, snapshot: snapshot('other') }, skipped: [] }, 'j', {
      ignoreState: false,
      where,
    });
    assert.match((d as { reason: string }).reason, /holds state of job "other", not "j"/);
  });

  it('with --ignore-state starts fresh past the existing ids, and says so', () => {
    const d = decideRecovery({ ids: [1, 2], skipped: [] }, 'j', { ignoreState: true, where });
    assert.deepEqual(d, {
      kind: 'fresh',
      firstId: 3,
      note: '--ignore-state: starting empty; the 2 checkpoint(s) in state/ will be replaced',
    });
  });
});
