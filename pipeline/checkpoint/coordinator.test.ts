import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../builder.ts';
import { type JobCapture, JobRuntime, type JobSnapshot } from '../runtime/runtime.ts';
import { fromArray } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import type { Sink, SinkWriter } from '../types.ts';
import { Checkpointer, type CheckpointStore, decideRecovery } from './coordinator.ts';

/** Records the order of events the coordinator causes. */
function recordingStore(
  events: string[],
  fail = false,
): CheckpointStore & { written: Array<JobSnapshot | JobCapture> } {
  const written: Array<JobSnapshot | JobCapture> = [];
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
    const written: Array<JobSnapshot | JobCapture> = [];
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

describe('Checkpointer in the background', () => {
  /** A store whose writes finish only when the test says so. */
  function gatedStore() {
    const gates: Array<() => void> = [];
    const written: Array<JobSnapshot | JobCapture> = [];
    const store: CheckpointStore = {
      write: (id, snapshot) =>
        new Promise((resolve) => {
          gates.push(() => {
            written.push(snapshot);
            resolve({ id, bytes: 1, keys: 0 });
          });
        }),
    };
    return { store, gates, written };
  }

  it('returns from the boundary once snapshotted, and starts no second checkpoint while one is written', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    const { store, gates, written } = gatedStore();
    const checkpointer = new Checkpointer(store, { clock, firstId: 1, intervalMs: 0 });
    let boundariesWhileWriting = 0;
    const runtime = new JobRuntime(job(events), {
      clock,
      batchSize: 1,
      onBoundary: async (rt) => {
        await checkpointer.onBoundary(rt);
        if (gates.length === 1 && written.length === 0) boundariesWhileWriting++;
      },
    });
    await runtime.run();
    assert.ok(boundariesWhileWriting >= 3, `${boundariesWhileWriting} boundaries passed during the write`);
    assert.equal(gates.length, 1, 'a second checkpoint started before the first was durable');
    gates[0]!();
    await checkpointer.settle();
    assert.equal(checkpointer.metrics().checkpoints, 1);
    assert.equal(written[0]!.keyed.incremental, false);
  });

  it('fails the job at the next boundary when a background write fails, and makes the next one full', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    let calls = 0;
    const written: Array<JobSnapshot | JobCapture> = [];
    const store: CheckpointStore = {
      async write(id, snapshot) {
        calls++;
        if (calls === 2) throw new Error('disk full');
        written.push(snapshot);
        return { id, bytes: 1, keys: 0 };
      },
    };
    const failures: string[] = [];
    const checkpointer = new Checkpointer(store, {
      clock,
      firstId: 1,
      intervalMs: 0,
      onFailure: (e) => failures.push(e.message),
    });
    const runtime = new JobRuntime(job(events), { clock, batchSize: 1, onBoundary: checkpointer.onBoundary });
    await assert.rejects(runtime.run(), { message: 'checkpoint 2 failed: disk full' });
    assert.deepEqual(failures, ['checkpoint 2 failed: disk full']);
    // The job is restarted by its supervisor; this checkpointer's next one must be full again.
    await checkpointer.checkpoint(runtime);
    assert.deepEqual(
      written.map((s) => s.keyed.incremental),
      [false, false],
    );
  });

  it('takes a requested checkpoint at the next boundary whatever the interval, and resolves once durable', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    const store = recordingStore(events);
    const checkpointer = new Checkpointer(store, { clock, firstId: 5, intervalMs: 3_600_000 });
    let asked: Promise<unknown> | undefined;
    const runtime = new JobRuntime(job(events), {
      clock,
      batchSize: 1,
      onBoundary: async (rt) => {
        asked ??= checkpointer.request();
        await checkpointer.onBoundary(rt);
      },
    });
    await runtime.run();
    const record = (await asked) as { id: number };
    assert.equal(record.id, 5);
    assert.equal(store.written.length, 1, 'only the requested checkpoint: the interval never passed');
  });

  it('continues the restored chain: the first checkpoint after a restore is incremental', async () => {
    const events: string[] = [];
    const clock = new ManualClock(0);
    const store = recordingStore(events);
    const checkpointer = new Checkpointer(store, { clock, firstId: 9, continueChain: true });
    const runtime = new JobRuntime(job(events), { clock, batchSize: 2 });
    const run = runtime.run();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await checkpointer.checkpoint(runtime).catch(() => {});
    await run;
    assert.equal(store.written[0]?.keyed.incremental, true);
  });

  it('fails requests no checkpoint will answer when the job ends first', async () => {
    const checkpointer = new Checkpointer(recordingStore([]), { clock: new ManualClock(0), firstId: 1 });
    const asked = checkpointer.request();
    checkpointer.abandonRequests('the job stopped');
    await assert.rejects(asked, { message: 'the job stopped' });
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
