import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, tumbling } from '../../operators/window/index.ts';
import { pipeline } from '../builder.ts';
import { type Graph, outputTag, type Windowed } from '../graph.ts';
import { valueState } from '../state/api.ts';
import { track } from '../testing/promises.ts';
import { collect, fromArray, fromPartitions, slowSink } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';
import { ChainOperator, UnionOperator } from './chain.ts';
import { StepError } from './operator.ts';
import { JobRuntime, type JobSnapshot, runJob } from './runtime.ts';
import { SinkOperator } from './sink.ts';

/** `slowSink` (each write waits for the clock) that also keeps what it wrote, once written. */
function slowCollect<T>(clock: ManualClock, writeMs: number) {
  const slow = slowSink<T>(() => clock.sleep(writeMs));
  const received: T[] = [];
  const sink: Sink<T> = {
    describe: () => 'slow collect (test)',
    open: async (ctx) => {
      const writer = await slow.open(ctx);
      return {
        write: async (records, timestamps) => {
          await writer.write(records, timestamps);
          received.push(...records);
        },
        close: () => writer.close(),
      };
    },
  };
  return { sink, slow, received };
}

describe('backpressure', () => {
  it('pauses the source while a slow sink is full, keeping memory bounded, and delivers every record once', async () => {
    const N = 200_000;
    const CAPACITY = 1_000;
    const BATCH = 100;
    const clock = new ManualClock(0);
    const { sink, slow, received } = slowCollect<number>(clock, 10);
    const source = fromPartitions({ p: Array.from({ length: N }, (_, i) => i) });
    const p = pipeline('backpressure');
    p.from(source, { id: 'src' })
      .map((n) => n, 'identity')
      .to(sink, 'slow');
    const runtime = new JobRuntime(p.graph(), { clock, batchSize: BATCH, sinkCapacity: CAPACITY });
    const run = runtime.run();
    const state = track(run);

    let maxAhead = 0;
    let steps = 0;
    await clock.advance(0);
    const sinkOp = runtime.operators().find((o) => o instanceof SinkOperator) as SinkOperator;
    while (!state.done()) {
      const read = runtime.metrics().src!.recordsIn;
      maxAhead = Math.max(maxAhead, read - slow.written);
      assert.ok(
        sinkOp.queuedRecords() <= CAPACITY + BATCH,
        `queued ${sinkOp.queuedRecords()} at ${clock.now()}`,
      );
      await clock.advance(10);
      if (++steps > 10 * (N / BATCH)) assert.fail('the job does not drain');
    }
    const result = await run;

    assert.equal(result.outcome, 'end');
    assert.ok(sinkOp.peakQueued >= CAPACITY, 'the sink did fill up: the test exercised backpressure');
    assert.ok(sinkOp.peakQueued <= CAPACITY + BATCH, `peak queued ${sinkOp.peakQueued}`);
    // Read but not yet written: what waits in the queue plus the batch being written.
    assert.ok(maxAhead <= CAPACITY + 2 * BATCH, `source ran ${maxAhead} records ahead of the sink`);
    assert.ok(source.polls <= N / BATCH + 3, `${source.polls} polls`);
    // One batch per 10 ms write: the sink, not the source, set the pace.
    assert.equal(slow.writes, N / BATCH);
    assert.ok(clock.now() >= (N / BATCH) * 10);
    assert.equal(received.length, N);
    assert.ok(
      received.every((v, i) => v === i),
      'every record arrived once, in order',
    );
  });

  it('stops pulling from sources while an asyncMap has all its slots busy', async () => {
    const clock = new ManualClock(0);
    const source = fromPartitions({ p: Array.from({ length: 1_000 }, (_, i) => i) });
    const p = pipeline('async-bp');
    const out = collect<number>();
    p.from(source, { id: 'src' })
      .asyncMap(
        async (n) => {
          await clock.sleep(100);
          return n;
        },
        { concurrency: 20 },
      )
      .to(out);
    const runtime = new JobRuntime(p.graph(), { clock, batchSize: 10 });
    const run = runtime.run();
    await clock.advance(0);
    // Two polls of 10 fill the 20 slots; the loop then waits.
    assert.equal(runtime.metrics().src!.recordsIn, 20);
    await clock.advance(100);
    assert.equal(out.records.length, 20);
    assert.equal(runtime.metrics().src!.recordsIn, 40);
    while (!track(run).done() && clock.now() < 100_000) await clock.advance(100);
    await run;
    assert.equal(out.records.length, 1_000);
  });
});

describe('stop', () => {
  it('ends with outcome stopped, finishing and flushing in-flight writes', async () => {
    const clock = new ManualClock(0);
    const { sink, slow, received } = slowCollect<number>(clock, 10);
    const p = pipeline('stop');
    p.from(fromArray(Array.from({ length: 10_000 }, (_, i) => i)), { id: 'src' }).to(sink);
    const runtime = new JobRuntime(p.graph(), { clock, batchSize: 100, sinkCapacity: 500 });
    const run = runtime.run();
    const state = track(run);
    await clock.advance(50);
    runtime.stop();
    while (!state.done()) await clock.advance(10);
    const result = await run;
    assert.equal(result.outcome, 'stopped');
    const read = result.metrics.src!.recordsIn;
    assert.ok(read < 10_000, 'stopped early');
    assert.equal(slow.written, read, 'everything read was written before run() returned');
    assert.deepEqual(
      received,
      Array.from({ length: read }, (_, i) => i),
    );
  });

  it('does not fire open windows on stop, unlike the end of input', async () => {
    const clock = new ManualClock(0);
    const p = pipeline('stop-windows');
    const out = collect<Windowed<string, number>>();
    p.from(fromArray([{ ts: 1 }, { ts: 2 }]), { timestamp: (r) => r.ts })
      .keyBy(() => 'k')
      .window(tumbling(1_000))
      .aggregate(count())
      .to(out);
    const runtime = new JobRuntime(p.graph(), {
      clock,
      batchSize: 1,
      onBoundary: (rt) => rt.stop(),
    });
    const result = await runtime.run();
    assert.equal(result.outcome, 'stopped');
    assert.deepEqual(out.records, []);
  });
});

describe('failures', () => {
  it('rejects run() with the StepError of a failing step and closes sources and sinks', async () => {
    let closed = 0;
    const p = pipeline('fail');
    const sink: Sink<number> = {
      describe: () => 'closing sink',
      open: () => ({
        write() {},
        close() {
          closed++;
        },
      }),
    };
    p.from(fromArray([1, 2, 3]))
      .map((n) => {
        if (n === 2) throw new Error('two');
        return n;
      }, 'picky')
      .to(sink);
    await assert.rejects(runJob(p.graph()), (e: unknown) => e instanceof StepError && e.stepId === 'picky');
    assert.equal(closed, 1);
  });
});

describe('chain fusion', () => {
  it('fuses filter → map → filter into one operator named by the joined step ids', async () => {
    const p = pipeline('fuse');
    const out = collect<string>();
    p.from(fromArray([1, 2, 3, 4, 5, 6]), { id: 'src' })
      .filter((n) => n % 2 === 0, 'evens')
      .map((n) => `#${n * 10}`, 'label')
      .filter((s) => s !== '#40', 'not-40')
      .to(out, 'out');
    const runtime = new JobRuntime(p.graph());
    await runtime.run();
    assert.deepEqual(
      runtime.operators().map((o) => o.id),
      ['src', 'evens+label+not-40', 'out'],
    );
    assert.ok(runtime.operators()[1] instanceof ChainOperator);
    assert.deepEqual(out.records, ['#20', '#60']);
    assert.deepEqual(runtime.metrics()['evens+label+not-40'], { recordsIn: 6, recordsOut: 2 });
  });

  it('does not fuse across a step with two consumers, and fuses again after it', async () => {
    const p = pipeline('branch');
    const a = collect<number>();
    const b = collect<string>();
    const shared = p.from(fromArray([1, 2, 3]), { id: 'src' }).map((n) => n + 1, 'shared');
    shared.filter((n) => n > 2, 'big').to(a, 'out-a');
    shared
      .filter((n) => n < 4, 'small')
      .map((n) => `s${n}`, 'name')
      .to(b, 'out-b');
    const runtime = new JobRuntime(p.graph());
    await runtime.run();
    assert.deepEqual(
      runtime.operators().map((o) => o.id),
      ['src', 'shared', 'big', 'out-a', 'small+name', 'out-b'],
    );
    assert.deepEqual(a.records, [3, 4]);
    assert.deepEqual(b.records, ['s2', 's3']);
  });

  it('does not fuse a step reading a split route or a keyed step', async () => {
    const p = pipeline('no-fuse');
    const out = collect<string>();
    const { odd, rest } = p
      .from(fromArray([1, 2, 3]), { id: 'src' })
      .split({ odd: (n) => n % 2 === 1 }, 'split');
    odd
      .map((n) => `odd ${n}`, 'odd-name')
      .union([rest.map((n) => `even ${n}`, 'even-name')], 'both')
      .map((s) => s.toUpperCase(), 'upper')
      .to(out, 'out');
    const runtime = new JobRuntime(p.graph());
    await runtime.run();
    assert.deepEqual(
      runtime.operators().map((o) => o.id),
      ['src', 'split', 'odd-name', 'even-name', 'both', 'upper', 'out'],
    );
    assert.deepEqual(out.records.sort(), ['EVEN 2', 'ODD 1', 'ODD 3']);
  });

  it('names the failing step of a fused chain', async () => {
    const p = pipeline('fused-failure');
    p.from(fromArray([1, 2, 3]))
      .filter(() => true, 'first')
      .map((n) => {
        if (n === 3) throw new Error('three');
        return n;
      }, 'second')
      .flatMap((n) => [n, n], 'third')
      .to(collect());
    await assert.rejects(runJob(p.graph()), (e: unknown) => e instanceof StepError && e.stepId === 'second');
  });
});

describe('union', () => {
  it('has the minimum of its inputs’ watermarks', async () => {
    const p = pipeline('union');
    const out = collect<Windowed<string, number>>();
    const fast = p.from(
      fromPartitions({ f: [{ ts: 1_000 }, { ts: 5_000 }, { ts: 9_000 }, { ts: 13_000 }] }),
      {
        timestamp: (r) => r.ts,
        id: 'fast',
      },
    );
    const slow = p.from(fromPartitions({ s: [{ ts: 500 }, { ts: 1_500 }, { ts: 2_500 }, { ts: 3_500 }] }), {
      timestamp: (r) => r.ts,
      id: 'slow',
    });
    fast
      .union([slow], 'both')
      .keyBy(() => 'k')
      .window(tumbling(2_000))
      .aggregate(count())
      .to(out);
    const observed: Array<[number, number, number]> = [];
    await runJob(p.graph(), {
      batchSize: 1,
      onBoundary: (rt) => {
        const wm = (id: string) =>
          rt
            .operators()
            .find((o) => o.id === id)!
            .currentWatermark();
        observed.push([wm('fast'), wm('slow'), wm('both')]);
      },
    });
    for (const [f, s, u] of observed) assert.equal(u, Math.min(f, s), `union ${u} of ${f} and ${s}`);
    assert.ok(
      observed.some(([f, s, u]) => u === s && f > s && Number.isFinite(u)),
      'the slower input held the union back',
    );
    // Nothing from the slow input was late: every element landed in a window.
    assert.equal(
      out.records.reduce((n, w) => n + w.value, 0),
      8,
    );
  });

  it('is an operator of its own with one input per stream', async () => {
    const p = pipeline('union-op');
    const a = p.from(fromArray([1]), { id: 'a' });
    const b = p.from(fromArray([2]), { id: 'b' });
    const c = p.from(fromArray([3]), { id: 'c' });
    const out = collect<number>();
    a.union([b, c], 'abc').to(out);
    const runtime = new JobRuntime(p.graph());
    await runtime.run();
    const union = runtime.operators().find((o) => o.id === 'abc');
    assert.ok(union instanceof UnionOperator);
    assert.deepEqual(out.records.sort(), [1, 2, 3]);
  });
});

describe('snapshot and restore', () => {
  interface Click {
    readonly user: string;
    readonly ts: number;
  }

  /** A fixed pseudo-random stream over two partitions, with some disorder and some late records. */
  function clicks(): Record<string, Click[]> {
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n; // the high bits: an LCG's low bits cycle quickly
    };
    const parts: Record<string, Click[]> = { p0: [], p1: [] };
    for (const part of ['p0', 'p1']) {
      let t = 0;
      for (let i = 0; i < 150; i++) {
        t += rand(120);
        const jitter = rand(10) === 0 ? -rand(1_500) : 0;
        parts[part]!.push({ user: `u${rand(4)}`, ts: t + jitter });
      }
    }
    return parts;
  }

  const lateTag = outputTag<Click>('late');

  function build(outs: { windows: Sink<unknown>; totals: Sink<unknown>; late: Sink<unknown> }): Graph {
    const p = pipeline('resume');
    const src = p.from(fromPartitions(clicks()), {
      timestamp: (c) => c.ts,
      outOfOrdernessMs: 300,
      id: 'src',
    });
    const counted = src
      .filter((c) => c.user !== 'u3', 'no-u3')
      .keyBy((c) => c.user, 'by-user')
      .window(tumbling(1_000), { lateOutput: lateTag, allowedLatenessMs: 200 })
      .aggregate(count(), 'counts');
    counted.to(outs.windows, 'windows-out');
    counted.sideOutput(lateTag).to(outs.late, 'late-out');
    src
      .keyBy((c) => c.user, 'by-user-2')
      .process<string, { total: ReturnType<typeof valueState<number>> }>(
        {
          state: { total: valueState<number>() },
          onElement(_c, ctx) {
            const total = (ctx.state.total.value() ?? 0) + 1;
            ctx.state.total.update(total);
            if (total % 10 === 0) ctx.emit(`${ctx.key}:${total}`);
            ctx.timers.registerEventTimer(Math.ceil((ctx.timestamp + 1) / 2_000) * 2_000);
          },
          onTimer(t, ctx) {
            ctx.emit(`${ctx.key}@${t}=${ctx.state.total.value()}`);
          },
        },
        'totals',
      )
      .to(outs.totals, 'totals-out');
    return p.graph();
  }

  function sinks() {
    return { windows: collect<unknown>(), totals: collect<unknown>(), late: collect<unknown>() };
  }
  type Outputs = ReturnType<typeof sinks>;
  const contents = (o: Outputs) => ({
    windows: o.windows.records,
    totals: o.totals.records,
    late: o.late.records,
    windowTimes: o.windows.timestamps,
  });

  it('resumes from a snapshot taken at a batch boundary to the same output as an uninterrupted run', async () => {
    const BATCH = 8;
    const whole = sinks();
    await runJob(build(whole), { batchSize: BATCH });
    const expected = contents(whole);
    assert.ok(expected.windows.length > 20 && expected.totals.length > 20 && expected.late.length > 0);

    for (const cut of [1, 2, 5, 12, 20, 31]) {
      const first = sinks();
      let boundaries = 0;
      let snap: JobSnapshot | undefined;
      const r1 = await new JobRuntime(build(first), {
        batchSize: BATCH,
        onBoundary: (rt) => {
          if (++boundaries === cut) {
            // A checkpoint store keeps it as JSON.
            snap = JSON.parse(JSON.stringify(rt.snapshot())) as JobSnapshot;
            rt.stop();
          }
        },
      }).run();
      assert.equal(r1.outcome, 'stopped');

      const second = sinks();
      const r2 = await runJob(build(second), { batchSize: BATCH, restore: snap! });
      assert.equal(r2.outcome, 'end');
      const a = contents(first);
      const b = contents(second);
      assert.deepEqual(
        {
          windows: [...a.windows, ...b.windows],
          totals: [...a.totals, ...b.totals],
          late: [...a.late, ...b.late],
          windowTimes: [...a.windowTimes, ...b.windowTimes],
        },
        expected,
        `cut at boundary ${cut}`,
      );
    }
  });

  it('resumes with the event time that event-time state TTL is measured in', async () => {
    const build = (out: Sink<string>): Graph => {
      const p = pipeline('ttl-resume');
      const input = [
        { key: 'a', ts: 1_000 },
        { key: 'k', ts: 1_000 },
        { key: 'a', ts: 2_500 },
        { key: 'k', ts: 2_600 }, // the first batch after the cut writes at event time 2499
        { key: 'a', ts: 3_600 },
        { key: 'k', ts: 3_700 },
      ];
      p.from(fromArray(input), { timestamp: (r) => r.ts })
        .keyBy((r) => r.key)
        .process<string, { seen: ReturnType<typeof valueState<number>> }>(
          {
            state: { seen: valueState<number>({ ttlMs: 1_000, ttlTime: 'event' }) },
            onElement(r, ctx) {
              if (ctx.key !== 'k') return;
              ctx.emit(`k@${r.ts}: ${ctx.state.seen.value()}`);
              ctx.state.seen.update(r.ts);
            },
          },
          'ttl',
        )
        .to(out, 'out');
      return p.graph();
    };
    const whole = collect<string>();
    await runJob(build(whole), { batchSize: 1 });
    // Written at event time 999, read at 2499: expired; written at 2499, read at 3599: expired.
    assert.deepEqual(whole.records, ['k@1000: undefined', 'k@2600: undefined', 'k@3700: undefined']);

    let snap: JobSnapshot | undefined;
    let boundaries = 0;
    const first = collect<string>();
    await new JobRuntime(build(first), {
      batchSize: 1,
      onBoundary: (rt) => {
        if (++boundaries === 3) {
          snap = rt.snapshot();
          rt.stop();
        }
      },
    }).run();
    const second = collect<string>();
    await runJob(build(second), { batchSize: 1, restore: snap! });
    assert.deepEqual([...first.records, ...second.records], whole.records);
  });

  it('refuses a snapshot of another job', async () => {
    const p = pipeline('one');
    p.from(fromArray([1])).to(collect());
    const other: JobSnapshot = {
      job: 'two',
      operators: {},
      keyed: { incremental: false, tables: {} },
      positions: {},
    };
    await assert.rejects(runJob(p.graph(), { restore: other }), /snapshot is of job "two", not "one"/);
  });
});
