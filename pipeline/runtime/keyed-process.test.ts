import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stream } from '../builder.ts';
import { type KeyedProcessFunction, outputTag } from '../graph.ts';
import { listState, mapState, type StateSpec, valueState } from '../state/api.ts';
import { OperatorHarness } from '../testing/harness.ts';
import { ManualClock } from '../time/clock.ts';
import { StepError } from './operator.ts';

interface Ev {
  readonly key: string;
  readonly v: number;
}
const ev = (key: string, v = 0): Ev => ({ key, v });

function harness<R, S extends StateSpec>(
  fn: KeyedProcessFunction<string, Ev, R, S>,
  options: { outputs?: ReturnType<typeof outputTag<unknown>>[] } = {},
): OperatorHarness<Ev, R> {
  return new OperatorHarness<Ev, R>(
    (s: Stream<Ev>) =>
      s.keyBy((e) => e.key).process<R, S>(fn, { id: 'proc', outputs: options.outputs ?? [] }),
    { sideOutputs: options.outputs ?? [] },
  );
}

describe('keyed state', () => {
  it('keeps a value per key', () => {
    const h = harness({
      state: { total: valueState<number>() },
      onElement(e, ctx) {
        const total = (ctx.state.total.value() ?? 0) + e.v;
        ctx.state.total.update(total);
        ctx.emit(`${ctx.key}=${total}`);
      },
    });
    h.push(ev('a', 1), 0).push(ev('b', 10), 0).push(ev('a', 2), 0).push(ev('b', 20), 0);
    assert.deepEqual(h.values(), ['a=1', 'b=10', 'a=3', 'b=30']);
  });

  it('clears a value for one key only', () => {
    const h = harness({
      state: { last: valueState<number>() },
      onElement(e, ctx) {
        ctx.emit(`${ctx.key}:${ctx.state.last.value()}`);
        if (e.v < 0) ctx.state.last.clear();
        else ctx.state.last.update(e.v);
      },
    });
    h.push(ev('a', 1), 0).push(ev('b', 2), 0).push(ev('a', -1), 0).push(ev('a', 3), 0).push(ev('b', 4), 0);
    assert.deepEqual(h.values(), ['a:undefined', 'b:undefined', 'a:1', 'a:undefined', 'b:2']);
  });

  it('keeps a list per key: add, update, clear', () => {
    const h = harness({
      state: { seen: listState<number>() },
      onElement(e, ctx) {
        if (e.v === 0) ctx.state.seen.clear();
        else if (e.v === 99) ctx.state.seen.update([...ctx.state.seen.get()].reverse());
        else ctx.state.seen.add(e.v);
        ctx.emit(`${ctx.key}:[${ctx.state.seen.get()}]`);
      },
    });
    h.push(ev('a', 1), 0).push(ev('b', 5), 0).push(ev('a', 2), 0).push(ev('a', 99), 0).push(ev('a', 0), 0);
    h.push(ev('a', 7), 0);
    assert.deepEqual(h.values(), ['a:[1]', 'b:[5]', 'a:[1,2]', 'a:[2,1]', 'a:[]', 'a:[7]']);
  });

  it('keeps a map per key: put, get, has, remove, entries, size, clear', () => {
    const h = harness({
      state: { byUser: mapState<string, number>() },
      onElement(e, ctx) {
        const user = `u${Math.abs(e.v) % 10}`;
        if (e.v < 0) ctx.state.byUser.remove(user);
        else if (e.v === 100) ctx.state.byUser.clear();
        else ctx.state.byUser.put(user, (ctx.state.byUser.get(user) ?? 0) + 1);
        const entries = [...ctx.state.byUser.entries()].map(([k, n]) => `${k}=${n}`).join(',');
        ctx.emit(
          `${ctx.key} size=${ctx.state.byUser.size()} has1=${ctx.state.byUser.has('u1')} {${entries}}`,
        );
      },
    });
    h.push(ev('a', 1), 0).push(ev('a', 1), 0).push(ev('a', 2), 0).push(ev('b', 1), 0).push(ev('a', -1), 0);
    h.push(ev('a', 100), 0);
    assert.deepEqual(h.values(), [
      'a size=1 has1=true {u1=1}',
      'a size=1 has1=true {u1=2}',
      'a size=2 has1=true {u1=2,u2=1}',
      'b size=1 has1=true {u1=1}',
      'a size=1 has1=false {u2=1}',
      'a size=0 has1=false {}',
    ]);
  });
});

describe('event-time timers', () => {
  it('fire when the watermark reaches them, in timestamp order, at equal times in registration order', () => {
    const h = harness<string, StateSpec>({
      onElement(e, ctx) {
        ctx.timers.registerEventTimer(e.v);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t} ${ctx.timeDomain} wm=${ctx.watermark()}`);
      },
    });
    h.push(ev('a', 300), 0)
      .push(ev('b', 100), 0)
      .push(ev('c', 200), 0)
      .push(ev('a', 100), 0)
      .push(ev('c', 100), 0);
    h.watermark(99);
    assert.deepEqual(h.values(), []);
    h.watermark(250);
    assert.deepEqual(h.values(), [
      'b@100 event wm=250',
      'a@100 event wm=250',
      'c@100 event wm=250',
      'c@200 event wm=250',
    ]);
    h.watermark(300);
    assert.equal(h.values().at(-1), 'a@300 event wm=300');
  });

  it('emit at the timer time by default, or at a given time', () => {
    const h = harness<string, StateSpec>({
      onElement(e, ctx) {
        ctx.timers.registerEventTimer(ctx.timestamp + 10);
        ctx.emit('element', e.v);
      },
      onTimer(_t, ctx) {
        ctx.emit('timer');
        ctx.emit('timer-at-5', 5);
      },
    });
    h.push(ev('a', 7), 100);
    h.watermark(110);
    assert.deepEqual(h.output(), [
      { value: 'element', timestamp: 7 },
      { value: 'timer', timestamp: 110 },
      { value: 'timer-at-5', timestamp: 5 },
    ]);
  });

  it('keep one timer per key and time, however often it is registered', () => {
    const h = harness<string, StateSpec>({
      onElement(_e, ctx) {
        ctx.timers.registerEventTimer(1_000);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t}`);
      },
    });
    h.push(ev('a'), 1).push(ev('a'), 2).push(ev('b'), 3).push(ev('a'), 4);
    assert.deepEqual(h.pendingTimers().proc!.event, [
      [1_000, 'a'],
      [1_000, 'b'],
    ]);
    h.watermark(1_000);
    assert.deepEqual(h.values(), ['a@1000', 'b@1000']);
  });

  it('can be deleted, and only for the current key', () => {
    const h = harness<string, StateSpec>({
      onElement(e, ctx) {
        if (e.v < 0) ctx.timers.deleteEventTimer(-e.v);
        else ctx.timers.registerEventTimer(e.v);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t}`);
      },
    });
    h.push(ev('a', 50), 0).push(ev('b', 50), 0).push(ev('a', -50), 0);
    h.watermark(100);
    assert.deepEqual(h.values(), ['b@50']);
  });

  it('may register further timers from onTimer, which fire within the same watermark if due', () => {
    const h = harness<string, StateSpec>({
      onElement(_e, ctx) {
        ctx.timers.registerEventTimer(10);
      },
      onTimer(t, ctx) {
        ctx.emit(`${t}`);
        if (t < 40) ctx.timers.registerEventTimer(t + 10);
      },
    });
    h.push(ev('a'), 0);
    h.watermark(30);
    assert.deepEqual(h.values(), ['10', '20', '30']);
    assert.deepEqual(h.pendingTimers().proc!.event, [[40, 'a']]);
  });

  it('see and write the state of their own key', () => {
    const h = harness({
      state: { n: valueState<number>() },
      onElement(_e, ctx) {
        ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
        ctx.timers.registerEventTimer(100);
      },
      onTimer(_t, ctx) {
        ctx.emit(`${ctx.key}:${ctx.state.n.value()}`);
        ctx.state.n.clear();
      },
    });
    h.push(ev('a'), 0).push(ev('b'), 0).push(ev('a'), 0);
    h.watermark(100);
    h.push(ev('a'), 200);
    h.watermark(200);
    assert.deepEqual(h.values(), ['a:2', 'b:1', 'a:1']);
  });

  it('reach downstream before the watermark that fired them', () => {
    const h = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .process<Ev>({
          onElement(e, ctx) {
            ctx.timers.registerEventTimer(ctx.timestamp + 50);
            ctx.emit(e);
          },
          onTimer(_t, ctx) {
            ctx.emit({ key: `${ctx.key}-timer`, v: 0 });
          },
        })
        .keyBy(() => 'all')
        .process<string>({
          onElement(e, ctx) {
            ctx.emit(`${e.key} ts=${ctx.timestamp} wm=${ctx.watermark()}`);
          },
        }),
    );
    h.push(ev('a'), 10);
    h.watermark(60);
    // The timer output arrives while the downstream watermark is still behind it.
    assert.deepEqual(h.values(), ['a ts=10 wm=-Infinity', 'a-timer ts=60 wm=-Infinity']);
  });
});

describe('processing-time timers', () => {
  it('fire when the clock reaches them, with the processing time domain', async () => {
    const h = harness<string, StateSpec>({
      onElement(e, ctx) {
        ctx.timers.registerProcessingTimer(ctx.now() + e.v);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t} ${ctx.timeDomain} now=${ctx.now()}`);
      },
    });
    h.push(ev('a', 1_000), 0).push(ev('b', 500), 0).push(ev('c', 1_000), 0);
    assert.deepEqual(h.pendingTimers().proc!.processing, [
      [500, 'b'],
      [1_000, 'a'],
      [1_000, 'c'],
    ]);
    await h.advance(499);
    assert.deepEqual(h.values(), []);
    await h.advance(1);
    assert.deepEqual(h.values(), ['b@500 processing now=500']);
    await h.advance(500);
    assert.deepEqual(h.values(), [
      'b@500 processing now=500',
      'a@1000 processing now=1000',
      'c@1000 processing now=1000',
    ]);
    assert.deepEqual(h.pendingTimers(), {});
  });

  it('do not fire on watermarks, and deleted ones do not fire at all', async () => {
    const h = harness<string, StateSpec>({
      onElement(e, ctx) {
        if (e.v < 0) ctx.timers.deleteProcessingTimer(-e.v);
        else ctx.timers.registerProcessingTimer(e.v);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t}`);
      },
    });
    h.push(ev('a', 100), 0).push(ev('b', 100), 0).push(ev('a', -100), 0);
    h.watermark(10_000);
    assert.deepEqual(h.values(), []);
    await h.advance(100);
    assert.deepEqual(h.values(), ['b@100']);
  });
});

describe('state TTL through the handle', () => {
  it('misses a value not written for ttl of processing time', async () => {
    const h = harness({
      state: { last: valueState<number>({ ttlMs: 1_000 }) },
      onElement(e, ctx) {
        ctx.emit(`${ctx.now()}:${ctx.state.last.value()}`);
        if (e.v > 0) ctx.state.last.update(e.v);
      },
    });
    h.push(ev('a', 1), 0);
    await h.advance(999);
    h.push(ev('a', 0), 0);
    await h.advance(1);
    h.push(ev('a', 0), 0);
    assert.deepEqual(h.values(), ['0:undefined', '999:1', '1000:undefined']);
  });

  it('misses a list or map entry not written for ttl of event time', () => {
    const h = harness({
      state: {
        recent: listState<number>({ ttlMs: 100, ttlTime: 'event' }),
        counts: mapState<string, number>({ ttlMs: 100, ttlTime: 'event' }),
      },
      onElement(e, ctx) {
        ctx.emit(`[${ctx.state.recent.get()}] ${ctx.state.counts.size()}`);
        if (e.v > 0) {
          ctx.state.recent.add(e.v);
          ctx.state.counts.put('x', e.v);
        }
      },
    });
    h.watermark(1_000);
    h.push(ev('a', 1), 1_000);
    h.watermark(1_050);
    h.push(ev('a', 2), 1_050); // renews both, written at 1050
    h.watermark(1_149);
    h.push(ev('a', 0), 1_149);
    h.watermark(1_150);
    h.push(ev('a', 0), 1_150);
    assert.deepEqual(h.values(), ['[] 0', '[1] 1', '[1,2] 1', '[] 0']);
  });

  it('keeps event-time state written before the first watermark until ttl has passed', () => {
    const h = harness({
      state: { last: valueState<number>({ ttlMs: 1_000, ttlTime: 'event' }) },
      onElement(e, ctx) {
        ctx.emit(`${ctx.state.last.value()}`);
        if (e.v > 0) ctx.state.last.update(e.v);
      },
    });
    h.push(ev('a', 7), 100); // no watermark yet, as for the first batch of every job
    h.watermark(200);
    h.push(ev('a', 0), 200);
    h.watermark(1_200);
    h.push(ev('a', 0), 1_200);
    assert.deepEqual(h.values(), ['undefined', '7', 'undefined']);
  });
});

describe('side outputs', () => {
  it('emit on a declared tag through ctx.output', () => {
    const alerts = outputTag<string>('alerts');
    const h = harness<number, StateSpec>(
      {
        onElement(e, ctx) {
          if (e.v > 10) ctx.output(alerts, `${ctx.key} high ${e.v}`);
          else ctx.emit(e.v);
        },
      },
      { outputs: [alerts as ReturnType<typeof outputTag<unknown>>] },
    );
    h.push(ev('a', 5), 1).push(ev('a', 50), 2).push(ev('b', 20), 3);
    assert.deepEqual(h.output(), [{ value: 5, timestamp: 1 }]);
    assert.deepEqual(h.sideOutput(alerts), [
      { value: 'a high 50', timestamp: 2 },
      { value: 'b high 20', timestamp: 3 },
    ]);
  });

  it('refuse a tag the step did not declare, as a StepError', () => {
    const undeclared = outputTag<string>('undeclared');
    const h = harness<number, StateSpec>({
      onElement(_e, ctx) {
        ctx.output(undeclared, 'x');
      },
    });
    assert.throws(
      () => h.push(ev('a'), 0),
      (e: unknown) =>
        e instanceof StepError &&
        e.stepId === 'proc' &&
        /side output "undeclared" is not declared/.test(e.message),
    );
  });
});

describe('errors', () => {
  it('turn an error in onElement into a StepError naming the step, with the cause', () => {
    const cause = new Error('bad record');
    const h = harness<number, StateSpec>({
      onElement(e) {
        if (e.v === 13) throw cause;
      },
    });
    assert.throws(
      () => h.push(ev('a', 13), 0),
      (e: unknown) =>
        e instanceof StepError &&
        e.stepId === 'proc' &&
        e.message === 'step "proc" failed: bad record' &&
        e.cause === cause,
    );
  });

  it('still deliver what was emitted before the failing element', () => {
    const h = harness<number, StateSpec>({
      onElement(e, ctx) {
        if (e.v === 13) throw new Error('13');
        ctx.emit(e.v);
      },
    });
    assert.throws(() => h.pushAll([ev('a', 1), ev('a', 2), ev('a', 13)], [0, 0, 0]), StepError);
    assert.deepEqual(h.values(), [1, 2]);
  });

  it('turn an error in onTimer into a StepError, also for processing-time timers', async () => {
    const h = harness<number, StateSpec>({
      onElement(_e, ctx) {
        ctx.timers.registerEventTimer(10);
        ctx.timers.registerProcessingTimer(10);
      },
      onTimer(_t, ctx) {
        throw new Error(`timer ${ctx.timeDomain}`);
      },
    });
    h.push(ev('a'), 0);
    assert.throws(() => h.watermark(10), {
      name: 'StepError',
      stepId: 'proc',
      message: 'step "proc" failed: timer event',
    });
    await assert.rejects(h.advance(10), {
      name: 'StepError',
      message: 'step "proc" failed: timer processing',
    });
  });
});

describe('snapshot and restore', () => {
  const fn: KeyedProcessFunction<
    string,
    Ev,
    string,
    { sum: ReturnType<typeof valueState<number>>; items: ReturnType<typeof listState<number>> }
  > = {
    state: { sum: valueState<number>(), items: listState<number>() },
    onElement(e, ctx) {
      ctx.state.sum.update((ctx.state.sum.value() ?? 0) + e.v);
      ctx.state.items.add(e.v);
      ctx.timers.registerEventTimer(ctx.timestamp + 100);
      ctx.timers.registerProcessingTimer(ctx.now() + 1_000);
    },
    onTimer(t, ctx) {
      ctx.emit(`${ctx.timeDomain} ${ctx.key}@${t} sum=${ctx.state.sum.value()} [${ctx.state.items.get()}]`);
    },
  };

  /** The same input, step by step, for any harness. */
  const script = (h: OperatorHarness<Ev, string>): Array<() => unknown> => [
    () => h.push(ev('a', 1), 10),
    () => h.push(ev('b', 2), 20),
    () => h.advance(500),
    () => h.push(ev('a', 3), 50),
    () => h.watermark(115),
    () => h.advance(600),
    () => h.push(ev('b', 4), 200),
    () => h.watermark(400),
    () => h.advance(2_000),
  ];

  it('restores keyed state and both kinds of timers, to the same output as an uninterrupted run', async () => {
    const whole = harness(fn);
    for (const step of script(whole)) await step();
    assert.equal(whole.values().length, 8);

    for (let cut = 1; cut < script(whole).length; cut++) {
      const before = harness(fn);
      for (const step of script(before).slice(0, cut)) await step();
      const snap = before.snapshot();
      // The restored job runs on a clock at the same time, as a restarted process would read it.
      const after = new OperatorHarness<Ev, string>(
        (s) => s.keyBy((e) => e.key).process(fn, { id: 'proc' }),
        {
          clock: new ManualClock(before.clock.now()),
        },
      ).restore(snap);
      for (const step of script(after).slice(cut)) await step();
      assert.deepEqual([...before.values(), ...after.values()], whole.values(), `cut after step ${cut}`);
    }
  });

  it('snapshots timers in firing order', () => {
    const h = harness(fn);
    h.push(ev('b', 1), 300).push(ev('a', 1), 100);
    const snap = h.snapshot();
    assert.deepEqual(snap.operators.proc!.state, {
      eventTimers: [
        [200, 'a'],
        [400, 'b'],
      ],
      processingTimers: [
        [1_000, 'b'],
        [1_000, 'a'],
      ],
    });
    assert.deepEqual(snap.keyed.tables['proc/sum']!.entries.map(([k, v]) => [k, v]).sort(), [
      ['a', 1],
      ['b', 1],
    ]);
  });
});
