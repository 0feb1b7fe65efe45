import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, tumbling } from '../../operators/window/index.ts';
import {
  type AsyncCallContext,
  type AsyncFailure,
  type AsyncOptions,
  outputTag,
  type Windowed,
} from '../graph.ts';
import { OperatorHarness } from '../testing/harness.ts';
import { ManualClock } from '../time/clock.ts';
import { type AsyncMapOperator, TimeoutError } from './async-map.ts';
import { StepError } from './operator.ts';

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function asyncHarness<R>(
  fn: (value: number, ctx: AsyncCallContext) => Promise<R>,
  options: AsyncOptions<number> = {},
  sideOutputs: ReturnType<typeof outputTag<AsyncFailure<number>>>[] = [],
) {
  return new OperatorHarness<number, R>((s) => s.asyncMap(fn, { ...options, id: 'call' }), {
    sideOutputs: sideOutputs as never,
  });
}

describe('concurrency', () => {
  it('never has more calls in flight than the limit, and starts a waiting element when one finishes', async () => {
    const calls = new Map<number, ReturnType<typeof deferred<string>>>();
    let inFlight = 0;
    let peak = 0;
    const h = asyncHarness(
      async (v) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        const d = deferred<string>();
        calls.set(v, d);
        try {
          return await d.promise;
        } finally {
          inFlight--;
        }
      },
      { concurrency: 3 },
    );
    h.pushAll([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 0]);
    await h.settle();
    assert.deepEqual([...calls.keys()], [1, 2, 3]);
    calls.get(2)!.resolve('two');
    await h.settle();
    assert.deepEqual([...calls.keys()], [1, 2, 3, 4]);
    for (const v of [1, 3, 4]) calls.get(v)!.resolve(`#${v}`);
    await h.settle();
    assert.deepEqual([...calls.keys()], [1, 2, 3, 4, 5, 6, 7]);
    for (const v of [5, 6, 7]) calls.get(v)!.resolve(`#${v}`);
    await h.settle();
    assert.equal(peak, 3);
    assert.deepEqual(h.values(), ['#1', 'two', '#3', '#4', '#5', '#6', '#7']);
  });

  it('reports itself saturated while as many elements as the limit are unfinished', async () => {
    const gate = deferred<void>();
    const h = asyncHarness(
      async (v) => {
        await gate.promise;
        return v;
      },
      { concurrency: 2 },
    );
    const op = h.operators()[0] as AsyncMapOperator;
    h.push(1, 0);
    assert.equal(op.saturated(), false);
    h.push(2, 0);
    assert.equal(op.saturated(), true);
    gate.resolve();
    await h.settle();
    assert.equal(op.saturated(), false);
    assert.deepEqual(h.values(), [1, 2]);
  });
});

describe('emission order', () => {
  const slowFirst = (clock: { sleep(ms: number): Promise<void> }) => async (v: number) => {
    await clock.sleep(v === 1 ? 300 : 100);
    return v;
  };

  it('keeps input order when ordered (the default), holding a fast result behind a slow one', async () => {
    const clock = new ManualClock(0);
    const h = new OperatorHarness<number, number>((s) => s.asyncMap(slowFirst(clock)), { clock });
    h.pushAll([1, 2, 3], [10, 20, 30]);
    await h.advance(100);
    assert.deepEqual(h.output(), []);
    await h.advance(200);
    assert.deepEqual(h.output(), [
      { value: 1, timestamp: 10 },
      { value: 2, timestamp: 20 },
      { value: 3, timestamp: 30 },
    ]);
  });

  it('emits as calls complete when unordered, keeping each element’s timestamp', async () => {
    const clock = new ManualClock(0);
    const h = new OperatorHarness<number, number>((s) => s.asyncMap(slowFirst(clock), { ordered: false }), {
      clock,
    });
    h.pushAll([1, 2, 3], [10, 20, 30]);
    await h.advance(100);
    assert.deepEqual(h.output(), [
      { value: 2, timestamp: 20 },
      { value: 3, timestamp: 30 },
    ]);
    await h.advance(200);
    assert.deepEqual(h.values(), [2, 3, 1]);
  });

  it('does not let an unordered result overtake a watermark that came before its element', async () => {
    const clock = new ManualClock(0);
    const h = new OperatorHarness<number, Windowed<string, number>>(
      (s) =>
        s
          .asyncMap(slowFirst(clock), { ordered: false })
          .keyBy(() => 'k')
          .window(tumbling(100))
          .aggregate(count()),
      { clock },
    );
    h.push(1, 10); // slow, window [0,100)
    h.watermark(99);
    h.push(2, 150); // fast, window [100,200)
    h.watermark(199);
    await h.advance(100);
    assert.deepEqual(h.values(), [], '2 is done but must wait behind watermark 99, which waits for 1');
    await h.advance(200);
    assert.deepEqual(
      h.values().map((w) => [w.start, w.value]),
      [
        [0, 1],
        [100, 1],
      ],
    );
  });
});

describe('retries', () => {
  it('retries at +2000 and +4000 ms from the start of the first attempt, whatever each attempt took', async () => {
    const attempts: Array<[number, number]> = [];
    const h = new OperatorHarness<number, string>((s) =>
      s.asyncMap(
        async (v, ctx) => {
          attempts.push([ctx.attempt, h.clock.now()]);
          await h.clock.sleep(500); // each attempt takes 500 ms before it fails
          if (ctx.attempt < 3) throw new Error('flaky');
          return `ok ${v}`;
        },
        { retry: { delaysMs: [2_000, 4_000] } },
      ),
    );
    await h.advance(1_000); // the first attempt starts at 1000
    h.push(7, 0);
    await h.advance(1_999);
    assert.deepEqual(attempts, [[1, 1_000]]);
    await h.advance(1);
    assert.deepEqual(attempts, [
      [1, 1_000],
      [2, 3_000],
    ]);
    await h.advance(1_999);
    assert.equal(attempts.length, 2);
    await h.advance(1);
    assert.deepEqual(attempts, [
      [1, 1_000],
      [2, 3_000],
      [3, 5_000],
    ]);
    await h.advance(500);
    assert.deepEqual(h.values(), ['ok 7']);
    assert.equal((h.operators()[0] as AsyncMapOperator).retries, 2);
  });

  it('starts a retry whose moment has passed as soon as the attempt before it failed', async () => {
    const attempts: number[] = [];
    const h = new OperatorHarness<number, number>((s) =>
      s.asyncMap(
        async (v, ctx) => {
          attempts.push(h.clock.now());
          if (ctx.attempt === 1) {
            await h.clock.sleep(3_000); // fails after the +2000 moment
            throw new Error('slow failure');
          }
          return v;
        },
        { retry: { delaysMs: [2_000] } },
      ),
    );
    h.push(1, 0);
    await h.advance(3_000);
    assert.deepEqual(attempts, [0, 3_000]);
    assert.deepEqual(h.values(), [1]);
  });

  it('retries only errors retryOn accepts: a 4xx fails at once, a 5xx is retried', async () => {
    const attempts = new Map<number, number>();
    const failed = outputTag<AsyncFailure<number>>('failed');
    const h = new OperatorHarness<number, number>(
      (s) =>
        s.asyncMap(
          async (status, ctx) => {
            attempts.set(status, ctx.attempt);
            if (ctx.attempt === 1) throw new HttpError(status);
            return status;
          },
          {
            retry: { delaysMs: [1_000], retryOn: (e) => !(e instanceof HttpError && e.status < 500) },
            onFailure: failed,
            id: 'call',
          },
        ),
      { sideOutputs: [failed] },
    );
    h.pushAll([404, 503], [1, 2]);
    await h.advance(1_000);
    assert.deepEqual(Object.fromEntries(attempts), { 404: 1, 503: 2 });
    assert.deepEqual(h.values(), [503]);
    // The failure carries the error's HTTP status: the highlights job tells a 403 (clipping disabled) by it.
    assert.deepEqual(h.sideOutput(failed), [
      { value: { value: 404, error: 'HTTP 404', attempts: 1, status: 404 }, timestamp: 1 },
    ]);
  });

  it('gives up after the last delay and reports every attempt', async () => {
    const failed = outputTag<AsyncFailure<number>>('failed');
    const h = asyncHarness(
      async () => {
        throw new Error('down');
      },
      { retry: { delaysMs: [100, 200, 300] }, onFailure: failed },
      [failed],
    );
    h.push(5, 42);
    await h.advance(299);
    assert.deepEqual(h.sideOutput(failed), []);
    await h.advance(1);
    assert.deepEqual(h.sideOutput(failed), [
      { value: { value: 5, error: 'down', attempts: 4 }, timestamp: 42 },
    ]);
  });

  it('counts a synchronous throw from the function as a failed attempt', async () => {
    const h = asyncHarness(
      ((v: number, ctx: AsyncCallContext) => {
        if (ctx.attempt === 1) throw new Error('sync');
        return Promise.resolve(v * 2);
      }) as (v: number, ctx: AsyncCallContext) => Promise<number>,
      { retry: { delaysMs: [10] } },
    );
    h.push(4, 0);
    await h.advance(10);
    assert.deepEqual(h.values(), [8]);
  });
});

describe('timeouts', () => {
  it('fails an attempt that takes longer than timeoutMs with a TimeoutError, aborts it, and retries it', async () => {
    const signals: AbortSignal[] = [];
    const errors: unknown[] = [];
    const h = new OperatorHarness<number, number>((s) =>
      s.asyncMap(
        async (v, ctx) => {
          signals.push(ctx.signal);
          if (ctx.attempt === 1) await h.clock.sleep(10_000);
          return v;
        },
        {
          timeoutMs: 1_000,
          retry: {
            delaysMs: [2_000],
            retryOn: (e) => {
              errors.push(e);
              return true;
            },
          },
        },
      ),
    );
    h.push(9, 0);
    await h.advance(999);
    assert.equal(signals[0]!.aborted, false);
    await h.advance(1);
    assert.equal(signals[0]!.aborted, true);
    assert.ok(errors[0] instanceof TimeoutError);
    assert.equal((errors[0] as Error).message, 'attempt 1 timed out after 1000 ms');
    assert.equal(signals.length, 1, 'the retry waits for +2000');
    await h.advance(1_000);
    assert.equal(signals.length, 2);
    assert.equal(signals[1]!.aborted, false);
    assert.deepEqual(h.values(), [9]);
    await h.advance(10_000); // the first attempt's late answer is ignored
    assert.deepEqual(h.values(), [9]);
  });

  it('does not time out an attempt that answers in time', async () => {
    const h = new OperatorHarness<number, number>((s) =>
      s.asyncMap(
        async (v) => {
          await h.clock.sleep(999);
          return v;
        },
        { timeoutMs: 1_000, onFailure: 'drop' },
      ),
    );
    h.push(1, 0);
    await h.advance(5_000);
    assert.deepEqual(h.values(), [1]);
  });
});

describe('final failures', () => {
  it("drops the element with onFailure 'drop' and goes on with the rest", async () => {
    const h = asyncHarness(
      async (v) => {
        if (v === 2) throw new Error('no');
        return v;
      },
      { onFailure: 'drop' },
    );
    h.pushAll([1, 2, 3], [0, 0, 0]);
    await h.settle();
    assert.deepEqual(h.values(), [1, 3]);
  });

  it('sends an AsyncFailure {value, error, attempts} to the side output tag, at the element’s time', async () => {
    const failed = outputTag<AsyncFailure<number>>('failed');
    const h = asyncHarness(
      async (v) => {
        if (v % 2 === 0) throw new Error(`even ${v}`);
        return v;
      },
      { onFailure: failed, retry: { delaysMs: [50] } },
      [failed],
    );
    h.pushAll([1, 2, 3, 4], [10, 20, 30, 40]);
    await h.advance(50);
    assert.deepEqual(h.values(), [1, 3]);
    assert.deepEqual(h.sideOutput(failed), [
      { value: { value: 2, error: 'even 2', attempts: 2 }, timestamp: 20 },
      { value: { value: 4, error: 'even 4', attempts: 2 }, timestamp: 40 },
    ]);
  });

  it("fails the job with a StepError naming the step with onFailure 'fail' (the default)", async () => {
    const h = asyncHarness(async () => {
      throw new Error('backend down');
    });
    h.push(1, 0);
    await assert.rejects(h.settle(), (e: unknown) => {
      assert.ok(e instanceof StepError);
      assert.equal(e.stepId, 'call');
      assert.equal(e.message, 'step "call" failed: backend down (after 1 attempts)');
      return true;
    });
  });
});

describe('watermarks', () => {
  it('holds a watermark until every element before it is out, so a downstream window fires only then', async () => {
    const gate = deferred<void>();
    const h = new OperatorHarness<number, Windowed<string, number>>((s) =>
      s
        .asyncMap(async (v) => {
          await gate.promise;
          return v;
        })
        .keyBy(() => 'k')
        .window(tumbling(1_000))
        .aggregate(count()),
    );
    h.push(1, 100);
    h.watermark(5_000);
    await h.advance(10_000);
    assert.deepEqual(h.values(), [], 'no window fires while the element is in flight');
    const op = h.operators()[0] as AsyncMapOperator;
    assert.equal(op.currentWatermark(), 5_000, 'the operator itself has seen the watermark');
    gate.resolve();
    await h.settle();
    assert.deepEqual(h.values(), [{ key: 'k', start: 0, end: 1_000, value: 1 }]);
  });

  it('forwards a watermark at once when nothing is in flight', () => {
    const h = new OperatorHarness<number, Windowed<string, number>>((s) =>
      s
        .asyncMap(async (v) => v)
        .keyBy(() => 'k')
        .window(tumbling(1_000))
        .aggregate(count()),
    );
    h.watermark(999);
    const downstream = h.operators()[1]!;
    assert.equal(downstream.currentWatermark(), 999);
  });
});

describe('snapshot and restore', () => {
  it('re-runs elements that were in flight, from their first attempt', async () => {
    const calls: Array<[number, number]> = [];
    const build = () =>
      new OperatorHarness<number, number>((s) =>
        s.asyncMap(
          async (v, ctx) => {
            calls.push([v, ctx.attempt]);
            await new Promise<void>(() => {}); // never answers in the first harness
            return v;
          },
          { id: 'call' },
        ),
      );
    const before = build();
    before.pushAll([1, 2], [10, 20]);
    await before.settle();
    const snap = before.snapshot();
    assert.deepEqual(snap.operators.call!.state, {
      pending: [
        [1, 10],
        [2, 20],
      ],
    });

    const after = new OperatorHarness<number, number>((s) => s.asyncMap(async (v) => v * 10, { id: 'call' }));
    after.restore(snap);
    await after.settle();
    assert.deepEqual(after.output(), [
      { value: 10, timestamp: 10 },
      { value: 20, timestamp: 20 },
    ]);
  });
});

it('a retryOn predicate that throws fails the job naming the step, not an unhandled rejection', async () => {
  const h = new OperatorHarness<number, number>((s) =>
    s.asyncMap(async () => Promise.reject(new Error('boom')), {
      id: 'call',
      retry: {
        delaysMs: [1000],
        retryOn: () => {
          throw new Error('predicate broke');
        },
      },
    }),
  );
  h.push(1, 0);
  await assert.rejects(h.settle(), /step "call" failed: predicate broke/);
});
