import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, session, tumbling } from '../../operators/window/index.ts';
import { pipeline } from '../builder.ts';
import { outputTag, type Windowed } from '../graph.ts';
import { track } from '../testing/promises.ts';
import { collect, fromPartitions } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import type { Poll, Source, SourceReader } from '../types.ts';
import { JobRuntime, runJob } from './runtime.ts';
import { SourceOperator } from './source.ts';

interface Rec {
  readonly key: string;
  readonly ts: number;
}
const rec = (ts: number, key = 'k'): Rec => ({ key, ts });
const late = outputTag<Rec>('late');

/**
 * A live source the test feeds by hand: each poll returns the queued records of the first partition
 * that has some, otherwise `idle` until the test feeds more (or `end` once ended).
 */
class HandSource implements Source<Rec> {
  private readonly queues = new Map<string, Rec[]>();
  private ended = false;
  private wake: () => void = () => {};

  constructor(private readonly ids: readonly string[]) {
    for (const id of ids) this.queues.set(id, []);
  }

  feed(partition: string, ...records: Rec[]): void {
    this.queues.get(partition)!.push(...records);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  describe(): string {
    return `hand source (${this.ids.join(', ')})`;
  }

  open(): SourceReader<Rec> {
    let position = 0;
    return {
      partitions: () => this.ids,
      poll: (max): Poll<Rec> => {
        for (const id of this.ids) {
          const queue = this.queues.get(id)!;
          if (queue.length > 0) {
            const records = queue.splice(0, max);
            position += records.length;
            return { kind: 'records', partition: id, records, position };
          }
        }
        if (this.ended) return { kind: 'end' };
        return { kind: 'idle', ready: new Promise<void>((resolve) => (this.wake = resolve)) };
      },
      close: () => {},
    };
  }
}

function windowsOf(out: { records: Windowed<string, number>[] }): Array<[number, number]> {
  return out.records.map((w) => [w.start, w.value]);
}

describe('source watermarks', () => {
  it('are the minimum over partitions of max timestamp − 1', async () => {
    const p = pipeline('min');
    p.from(
      fromPartitions<Rec>({
        a: [rec(1_000), rec(9_000), rec(15_000)],
        b: [rec(1_000), rec(2_000), rec(3_000), rec(4_000)],
      }),
      { timestamp: (r) => r.ts, id: 'src' },
    ).to(collect());
    const seen: number[] = [];
    await runJob(p.graph(), {
      batchSize: 1,
      onBoundary: (rt) => {
        seen.push(
          rt
            .operators()
            .find((o) => o.id === 'src')!
            .currentWatermark(),
        );
      },
    });
    const inf = Number.POSITIVE_INFINITY;
    assert.deepEqual(seen, [
      Number.NEGATIVE_INFINITY, // a:999, b: nothing yet
      999,
      999, // a:8999, b:999
      1_999,
      1_999, // a:14999, b:1999
      1_999, // a ended: b alone
      2_999,
      3_999,
      inf, // every partition ended
    ]);
  });

  it('let records up to outOfOrdernessMs behind the newest one into their window', async () => {
    const run = async (outOfOrdernessMs: number) => {
      const p = pipeline('ooo');
      const windows = collect<Windowed<string, number>>();
      const lateOut = collect<Rec>();
      const counted = p
        .from(fromPartitions<Rec>({ p: [rec(500), rec(2_100), rec(1_900), rec(3_000), rec(1_500)] }), {
          timestamp: (r) => r.ts,
          outOfOrdernessMs,
        })
        .keyBy((r) => r.key)
        .window(tumbling(1_000), { lateOutput: late })
        .aggregate(count());
      counted.to(windows);
      counted.sideOutput(late).to(lateOut);
      await runJob(p.graph(), { batchSize: 1 });
      return { windows: windowsOf(windows), late: lateOut.records.map((r) => r.ts) };
    };
    // 1900 arrives after 2100: on time with 500 ms of out-of-orderness (watermark 1599), late without.
    assert.deepEqual(await run(500), {
      windows: [
        [0, 1],
        [1_000, 1],
        [2_000, 1],
        [3_000, 1],
      ],
      late: [1_500],
    });
    assert.deepEqual(await run(0), {
      windows: [
        [0, 1],
        [2_000, 1],
        [3_000, 1],
      ],
      late: [1_900, 1_500],
    });
  });

  it('skip records whose timestamp is not a finite number, and count them', async () => {
    const p = pipeline('bad-ts');
    const out = collect<Rec>();
    p.from(fromPartitions<Rec>({ p: [rec(1), rec(Number.NaN), rec(3), rec(Number.POSITIVE_INFINITY)] }), {
      timestamp: (r) => r.ts,
      id: 'src',
    }).to(out);
    let source: SourceOperator | undefined;
    await runJob(p.graph(), {
      onBoundary: (rt) => {
        source = rt.operators().find((o) => o instanceof SourceOperator) as SourceOperator;
      },
    });
    assert.deepEqual(
      out.records.map((r) => r.ts),
      [1, 3],
    );
    assert.equal(source!.badTimestamps, 2);
  });

  it('stamp records with processing time when the source gives no timestamp function', async () => {
    const p = pipeline('ingest');
    const out = collect<Rec>();
    p.from(fromPartitions<Rec>({ p: [rec(1), rec(2)] })).to(out);
    await runJob(p.graph(), { clock: new ManualClock(123_456) });
    assert.deepEqual(out.timestamps, [123_456, 123_456]);
  });
});

describe('idle partitions', () => {
  it('hold the watermark until idleTimeoutMs of silence, then the other partition’s windows fire', async () => {
    const clock = new ManualClock(0);
    const source = new HandSource(['a', 'b']);
    const p = pipeline('idle');
    const out = collect<Windowed<string, number>>();
    p.from(source, { timestamp: (r) => r.ts, idleTimeoutMs: 5_000 })
      .keyBy((r) => r.key)
      .window(tumbling(5_000))
      .aggregate(count())
      .to(out);
    const runtime = new JobRuntime(p.graph(), { clock });
    const run = runtime.run();
    const state = track(run);

    source.feed('a', rec(1_000), rec(2_000), rec(6_000));
    await clock.advanceTo(4_000);
    assert.deepEqual(out.records, [], 'b has said nothing yet, but is not idle');
    source.feed('a', rec(7_000)); // keeps a active
    await clock.advanceTo(4_999);
    assert.deepEqual(out.records, []);
    await clock.advanceTo(5_000); // b silent for 5 s: idle
    assert.deepEqual(windowsOf(out), [[0, 2]]);

    source.end();
    await clock.advance(0);
    assert.ok(state.done());
    assert.equal((await run).outcome, 'end');
    assert.deepEqual(windowsOf(out), [
      [0, 2],
      [5_000, 2],
    ]);
  });

  it('never hold the watermark without idleTimeoutMs', async () => {
    const clock = new ManualClock(0);
    const source = new HandSource(['a', 'b']);
    const p = pipeline('never-idle');
    const out = collect<Windowed<string, number>>();
    p.from(source, { timestamp: (r) => r.ts })
      .keyBy((r) => r.key)
      .window(tumbling(5_000))
      .aggregate(count())
      .to(out);
    const run = new JobRuntime(p.graph(), { clock }).run();
    source.feed('a', rec(1_000), rec(9_000));
    await clock.advanceTo(1_000_000);
    assert.deepEqual(out.records, []);
    source.feed('b', rec(8_000));
    await clock.advance(0);
    assert.deepEqual(windowsOf(out), [[0, 1]]);
    source.end();
    await run;
  });

  it('leave the watermark where it is when every partition is idle', async () => {
    const clock = new ManualClock(0);
    const source = new HandSource(['a', 'b']);
    const p = pipeline('all-idle');
    p.from(source, { timestamp: (r) => r.ts, idleTimeoutMs: 1_000, id: 'src' }).to(collect());
    const runtime = new JobRuntime(p.graph(), { clock });
    const run = runtime.run();
    source.feed('a', rec(10_000));
    source.feed('b', rec(3_000));
    await clock.advance(0);
    const src = runtime.operators().find((o) => o.id === 'src')!;
    assert.equal(src.currentWatermark(), 2_999);
    await clock.advanceTo(50_000);
    assert.equal(src.currentWatermark(), 2_999, 'all idle: no jump to a’s 9999');
    source.end();
    await run;
  });
});

describe('end of input', () => {
  it('sends a final watermark once every partition ended, firing every open window', async () => {
    const p = pipeline('end');
    const fixed = collect<Windowed<string, number>>();
    const sessions = collect<Windowed<string, number>>();
    const src = p.from(
      fromPartitions<Rec>({
        a: [rec(100, 'x'), rec(86_400_000, 'x')],
        b: [rec(5_000, 'y'), rec(5_100, 'y')],
      }),
      { timestamp: (r) => r.ts },
    );
    src
      .keyBy((r) => r.key)
      .window(tumbling(60_000))
      .aggregate(count())
      .to(fixed);
    src
      .keyBy((r) => r.key)
      .window(session(3_600_000))
      .aggregate(count())
      .to(sessions);
    const result = await runJob(p.graph());
    assert.equal(result.outcome, 'end');
    assert.deepEqual(fixed.records.map((w) => `${w.key}@${w.start}=${w.value}`).sort(), [
      'x@0=1',
      'x@86400000=1',
      'y@0=2',
    ]);
    assert.deepEqual(sessions.records.map((w) => `${w.key}@${w.start}=${w.value}`).sort(), [
      'x@100=1',
      'x@86400000=1',
      'y@5000=2',
    ]);
  });

  it('does not send it for a partition that ended while another is still live', async () => {
    const clock = new ManualClock(0);
    const source = new HandSource(['a', 'b']);
    const partEnd: Source<Rec> = {
      describe: () => 'a ends early',
      open: () => {
        const inner = source.open();
        let aEnded = false;
        return {
          ...inner,
          poll: (max) => {
            if (!aEnded) {
              aEnded = true;
              return { kind: 'partition-end', partition: 'a' };
            }
            return inner.poll(max);
          },
        };
      },
    };
    const p = pipeline('part-end');
    const out = collect<Windowed<string, number>>();
    p.from(partEnd, { timestamp: (r) => r.ts })
      .keyBy((r) => r.key)
      .window(tumbling(1_000))
      .aggregate(count())
      .to(out);
    const run = new JobRuntime(p.graph(), { clock }).run();
    source.feed('b', rec(100));
    await clock.advance(0);
    assert.deepEqual(out.records, [], 'b is live: its watermark is 99, and only its own');
    source.feed('b', rec(1_500));
    await clock.advance(0);
    assert.deepEqual(windowsOf(out), [[0, 1]]);
    source.end();
    await run;
    assert.deepEqual(windowsOf(out), [
      [0, 1],
      [1_000, 1],
    ]);
  });
});
