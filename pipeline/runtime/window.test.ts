import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WindowAssigner } from '../../operators/window/assigner.ts';
import { count, session, sliding, sum, tumbling } from '../../operators/window/index.ts';
import type { Stream } from '../builder.ts';
import { outputTag, type Windowed } from '../graph.ts';
import { OperatorHarness } from '../testing/harness.ts';
import { WindowOperator } from './window.ts';

interface Ev {
  readonly key: string;
  readonly n: number;
}

const ev = (key: string, n = 1): Ev => ({ key, n });
const late = outputTag<Ev>('late');

function counting(assigner: WindowAssigner, allowedLatenessMs = 0) {
  return new OperatorHarness<Ev, Windowed<string, number>>(
    (s: Stream<Ev>) =>
      s
        .keyBy((e) => e.key)
        .window(assigner, { allowedLatenessMs, lateOutput: late })
        .aggregate(count(), 'win'),
    { sideOutputs: [late] },
  );
}

function windowOp(h: OperatorHarness<Ev, unknown>): WindowOperator {
  const op = h.operators().find((o) => o instanceof WindowOperator);
  assert.ok(op, 'the harness holds a window operator');
  return op as WindowOperator;
}

const row = (key: string, start: number, end: number, value: number) => ({
  value: { key, start, end, value },
  timestamp: end - 1,
});

describe('tumbling windows', () => {
  it('counts per key and window and emits each result at end − 1 once the watermark reaches it', () => {
    const h = counting(tumbling(1_000));
    h.push(ev('a'), 0).push(ev('a'), 999).push(ev('b'), 500).push(ev('a'), 1_000).push(ev('b'), 1_999);
    h.watermark(998);
    assert.deepEqual(h.output(), [], 'nothing before end − 1');
    h.watermark(999);
    assert.deepEqual(h.output(), [row('a', 0, 1_000, 2), row('b', 0, 1_000, 1)]);
    h.clearOutput();
    h.watermark(1_999);
    assert.deepEqual(h.output(), [row('a', 1_000, 2_000, 1), row('b', 1_000, 2_000, 1)]);
    assert.equal(windowOp(h).openWindows(), 0);
    assert.deepEqual(h.pendingTimers(), {});
  });

  it('keeps a key’s later window when an earlier one of the same key fires', () => {
    // One key with several windows open at once is the normal case (and always so for sliding windows).
    const h = counting(tumbling(10));
    h.push(ev('a'), 5).push(ev('a'), 15).push(ev('a'), 25);
    h.watermark(9);
    assert.deepEqual(h.output(), [row('a', 0, 10, 1)]);
    assert.equal(windowOp(h).openWindows(), 2);
    h.watermark(29);
    assert.deepEqual(h.output(), [row('a', 0, 10, 1), row('a', 10, 20, 1), row('a', 20, 30, 1)]);
  });

  it('fires several windows of a key with one watermark jump, in time order', () => {
    const h = counting(tumbling(10));
    h.push(ev('a'), 25).push(ev('a'), 5).push(ev('a'), 15).push(ev('a'), 16);
    h.watermark(1_000);
    assert.deepEqual(h.output(), [row('a', 0, 10, 1), row('a', 10, 20, 2), row('a', 20, 30, 1)]);
  });

  it('honours the offset and negative timestamps', () => {
    const h = counting(tumbling(1_000, 250));
    h.push(ev('a'), 249).push(ev('a'), 250).push(ev('a'), -1);
    h.watermark(1_249);
    assert.deepEqual(h.output(), [row('a', -750, 250, 2), row('a', 250, 1_250, 1)]);
  });

  it('sums with an aggregator of its own', () => {
    const h = new OperatorHarness<Ev, Windowed<string, number>>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(100))
        .aggregate(sum((e) => e.n)),
    );
    h.push(ev('a', 3), 1).push(ev('a', 4), 2).push(ev('a', 100), 100);
    h.watermark(99);
    assert.deepEqual(h.values(), [{ key: 'a', start: 0, end: 100, value: 7 }]);
  });

  it('fires timers across keys in a fixed order: by time, then by when the window opened', () => {
    const run = () => {
      const h = counting(tumbling(100));
      h.push(ev('c'), 50).push(ev('a'), 10).push(ev('b'), 150).push(ev('a'), 160).push(ev('b'), 20);
      h.watermark(500);
      return h.values().map((w) => `${w.key}@${w.start}`);
    };
    const first = run();
    assert.deepEqual(first, ['c@0', 'a@0', 'b@0', 'b@100', 'a@100']);
    assert.deepEqual(run(), first);
  });

  it('forwards the watermark after the results it released', () => {
    const h = new OperatorHarness<Ev, Windowed<string, number>>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(100))
        .aggregate(count(), 'inner')
        .keyBy((w) => w.key)
        .window(tumbling(1_000))
        .aggregate(
          sum((w) => w.value),
          'outer',
        ),
    );
    h.push(ev('a'), 10).push(ev('a'), 150).push(ev('a'), 999);
    h.watermark(999);
    // The inner results (at 99, 199, 999) reached the outer window before the watermark did.
    assert.deepEqual(h.values(), [{ key: 'a', start: 0, end: 1_000, value: 3 }]);
  });
});

describe('sliding windows', () => {
  it('puts an element in every window of size/slide that holds it', () => {
    const h = counting(sliding(1_000, 250));
    h.push(ev('a'), 600);
    assert.deepEqual(
      windowOp(h)
        .pendingTimers()
        .event.map(([t]) => t),
      [749, 999, 1_249, 1_499],
    );
    h.watermark(10_000);
    assert.deepEqual(
      h.values().map((w) => [w.start, w.end, w.value]),
      [
        [-250, 750, 1],
        [0, 1_000, 1],
        [250, 1_250, 1],
        [500, 1_500, 1],
      ],
    );
  });

  it('counts overlapping elements in each window they share', () => {
    const h = counting(sliding(10, 5));
    h.push(ev('a'), 0).push(ev('a'), 4).push(ev('a'), 5).push(ev('a'), 9).push(ev('a'), 10);
    h.watermark(100);
    assert.deepEqual(
      h.values().map((w) => [w.start, w.value]),
      [
        [-5, 2],
        [0, 4],
        [5, 3],
        [10, 1],
      ],
    );
  });

  it('places an element on a window boundary in the window it starts, not the one it would end', () => {
    const h = counting(sliding(10, 10));
    h.push(ev('a'), 10);
    h.watermark(100);
    assert.deepEqual(
      h.values().map((w) => [w.start, w.end]),
      [[10, 20]],
    );
  });

  it('sends an element late for all its windows to the late output, but not one with an open window left', () => {
    const h = counting(sliding(10, 5));
    h.watermark(14);
    h.push(ev('a'), 7); // windows [0,10) and [5,15): both ended
    h.push(ev('a'), 12); // [5,15) ended but [10,20) is open
    assert.deepEqual(h.sideOutput(late), [{ value: ev('a'), timestamp: 7 }]);
    h.watermark(19);
    assert.deepEqual(h.values(), [{ key: 'a', start: 10, end: 20, value: 1 }]);
  });
});

describe('session windows', () => {
  it('merges two sessions bridged by a third element into one, with its timers replaced by one', () => {
    const h = counting(session(1_000));
    h.push(ev('a'), 0);
    h.push(ev('a'), 1_500);
    assert.deepEqual(h.pendingTimers().win!.event, [
      [999, 'a'],
      [2_499, 'a'],
    ]);
    assert.equal(windowOp(h).openWindows(), 2);
    h.push(ev('a'), 900); // [900, 1900) touches both
    assert.deepEqual(h.pendingTimers().win!.event, [[2_499, 'a']]);
    assert.equal(windowOp(h).openWindows(), 1);
    h.watermark(2_498);
    assert.deepEqual(h.output(), []);
    h.watermark(2_499);
    assert.deepEqual(h.output(), [row('a', 0, 2_500, 3)]);
    assert.deepEqual(h.pendingTimers(), {});
  });

  it('keeps sessions apart when the gap between them is wider than the gap', () => {
    const h = counting(session(100));
    h.push(ev('a'), 0).push(ev('a'), 101).push(ev('b'), 50);
    h.watermark(1_000);
    assert.deepEqual(h.output(), [row('a', 0, 100, 1), row('b', 50, 150, 1), row('a', 101, 201, 1)]);
  });

  it('extends a session with an element inside it, moving its timer', () => {
    const h = counting(session(100));
    h.push(ev('a'), 0).push(ev('a'), 50);
    assert.deepEqual(h.pendingTimers().win!.event, [[149, 'a']]);
    h.watermark(99);
    assert.deepEqual(h.output(), []);
    h.watermark(149);
    assert.deepEqual(h.output(), [row('a', 0, 150, 2)]);
  });

  it('gives a window process function the elements of every merged session', () => {
    const h = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .window(session(20))
        .process<string>((elements, ctx) =>
          ctx.emit(`${ctx.key}[${ctx.start},${ctx.end}) ${elements.map((e) => e.n).sort()}`),
        ),
    );
    h.push(ev('a', 1), 0).push(ev('a', 3), 30).push(ev('a', 2), 15);
    h.watermark(100);
    assert.deepEqual(h.values(), ['a[0,50) 1,2,3']);
  });

  it('drops the cleanup timers of sessions merged after firing within the allowed lateness', () => {
    const h = counting(session(100), 1_000);
    h.push(ev('a'), 0).push(ev('a'), 150);
    h.watermark(300); // both fired; kept until end − 1 + 1000
    assert.deepEqual(h.output(), [row('a', 0, 100, 1), row('a', 150, 250, 1)]);
    h.clearOutput();
    h.push(ev('a'), 90); // bridges them: [0, 250)
    assert.deepEqual(h.output(), [row('a', 0, 250, 3)]);
    assert.deepEqual(h.pendingTimers().win!.event, [[1_249, 'a']]);
    h.watermark(1_249);
    assert.equal(windowOp(h).openWindows(), 0);
    assert.deepEqual(h.pendingTimers(), {});
  });
});

describe('late data and allowed lateness', () => {
  it('sends an element whose window has fired to the late output with its own timestamp', () => {
    const h = counting(tumbling(1_000));
    h.push(ev('a'), 100);
    h.watermark(999);
    h.push(ev('a', 2), 998);
    h.push(ev('b', 3), 500);
    h.push(ev('a', 4), 1_000); // next window: on time
    assert.deepEqual(h.sideOutput(late), [
      { value: ev('a', 2), timestamp: 998 },
      { value: ev('b', 3), timestamp: 500 },
    ]);
    assert.deepEqual(h.output(), [row('a', 0, 1_000, 1)]);
    h.watermark(1_999);
    assert.deepEqual(h.output(), [row('a', 0, 1_000, 1), row('a', 1_000, 2_000, 1)]);
  });

  it('counts late elements it drops when no late output is given', () => {
    const h = new OperatorHarness<Ev, Windowed<string, number>>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(10))
        .aggregate(count()),
    );
    h.watermark(50);
    h.push(ev('a'), 1).push(ev('a'), 2);
    assert.equal(windowOp(h).droppedLate, 2);
    assert.equal(windowOp(h).openWindows(), 0);
  });

  it('re-fires an updated result for an element within the lateness, then purges the window after it', () => {
    const h = counting(tumbling(1_000), 500);
    h.push(ev('a'), 100);
    h.watermark(999);
    assert.deepEqual(h.output(), [row('a', 0, 1_000, 1)]);
    assert.deepEqual(h.pendingTimers().win!.event, [[1_499, 'a']], 'a cleanup timer at end − 1 + lateness');
    h.push(ev('a'), 200);
    h.watermark(1_400);
    h.push(ev('a'), 300);
    assert.deepEqual(h.output(), [row('a', 0, 1_000, 1), row('a', 0, 1_000, 2), row('a', 0, 1_000, 3)]);
    h.watermark(1_499);
    assert.equal(windowOp(h).openWindows(), 0);
    h.push(ev('a'), 400);
    assert.deepEqual(h.sideOutput(late), [{ value: ev('a'), timestamp: 400 }]);
    assert.equal(h.output().length, 3);
    assert.deepEqual(h.pendingTimers(), {});
  });

  it('purges a window first opened by a late element within the lateness', () => {
    const h = counting(tumbling(1_000), 500);
    h.watermark(1_200);
    h.push(ev('b'), 100); // its window [0,1000) has ended but is within lateness
    assert.deepEqual(h.output(), [row('b', 0, 1_000, 1)]);
    h.watermark(1_499);
    assert.equal(windowOp(h).openWindows(), 0, 'no window left behind');
    assert.deepEqual(h.pendingTimers(), {});
    h.push(ev('b'), 200);
    assert.equal(h.sideOutput(late).length, 1);
  });

  it('judges a session element late by the session it would form', () => {
    const h = counting(session(100), 50);
    h.push(ev('a'), 0);
    h.watermark(120); // [0,100) fired, kept until 149
    h.push(ev('a'), 10); // extends it to [0,110): fires again at once, kept until 159
    h.watermark(200); // purged
    h.push(ev('a'), 40); // [40,140): 139 + 50 ≤ 200, late
    h.push(ev('a'), 60); // [60,160): 159 + 50 > 200, within lateness: a new session, fired at once
    h.push(ev('a'), 150); // [150,250) merges with it into [60,250): not yet due
    assert.deepEqual(h.sideOutput(late), [{ value: ev('a'), timestamp: 40 }]);
    assert.deepEqual(h.output(), [row('a', 0, 100, 1), row('a', 0, 110, 2), row('a', 60, 160, 1)]);
    h.watermark(249);
    assert.deepEqual(h.output().at(-1), row('a', 60, 250, 2));
    h.watermark(299);
    assert.equal(windowOp(h).openWindows(), 0);
    assert.deepEqual(h.pendingTimers(), {});
  });
});

describe('window process functions', () => {
  it('see every buffered element of the window, key and bounds, and may emit several results', () => {
    const h = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(100))
        .process<string>((elements, ctx) => {
          ctx.emit(`${ctx.key} [${ctx.start},${ctx.end}): ${elements.map((e) => e.n).join(',')}`);
          ctx.emit(`${ctx.key} max ${Math.max(...elements.map((e) => e.n))}`);
        }),
    );
    h.push(ev('a', 5), 10).push(ev('b', 1), 20).push(ev('a', 7), 99).push(ev('a', 9), 100);
    h.watermark(99);
    assert.deepEqual(h.output(), [
      { value: 'a [0,100): 5,7', timestamp: 99 },
      { value: 'a max 7', timestamp: 99 },
      { value: 'b [0,100): 1', timestamp: 99 },
      { value: 'b max 1', timestamp: 99 },
    ]);
  });

  it('wrap an error of the function in a StepError naming the step', () => {
    const h = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(100))
        .process<string>(() => {
          throw new Error('boom');
        }, 'explode'),
    );
    h.push(ev('a'), 1);
    assert.throws(() => h.watermark(99), {
      name: 'StepError',
      stepId: 'explode',
      message: 'step "explode" failed: boom',
    });
  });
});

describe('snapshot and restore', () => {
  type Input = Array<['push', Ev, number] | ['wm', number]>;

  function replay(h: OperatorHarness<Ev, unknown>, input: Input): void {
    for (const step of input) {
      if (step[0] === 'push') h.push(step[1], step[2]);
      else h.watermark(step[1]);
    }
  }

  function check(build: () => OperatorHarness<Ev, unknown>, input: Input): void {
    const whole = build();
    replay(whole, input);
    const expected = { main: whole.output(), late: whole.sideOutput(late) };
    assert.ok(expected.main.length > 0);

    for (let cut = 1; cut < input.length; cut++) {
      const before = build();
      replay(before, input.slice(0, cut));
      const snap = before.snapshot();
      const after = build().restore(snap);
      replay(after, input.slice(cut));
      assert.deepEqual(
        {
          main: [...before.output(), ...after.output()],
          late: [...before.sideOutput(late), ...after.sideOutput(late)],
        },
        expected,
        `cut after step ${cut}`,
      );
    }
  }

  const input: Input = [
    ['push', ev('a'), 100],
    ['push', ev('b'), 200],
    ['push', ev('a'), 1_100],
    ['wm', 500],
    ['push', ev('a'), 600],
    ['push', ev('c'), 1_500],
    ['wm', 999],
    ['push', ev('a'), 700],
    ['push', ev('b'), 2_200],
    ['wm', 1_600],
    ['push', ev('a'), 50],
    ['wm', 2_499],
    ['push', ev('b'), 1_000],
    ['wm', 5_000],
  ];

  it('restores tumbling windows with lateness mid-window to the same output as an uninterrupted run', () => {
    check(() => counting(tumbling(1_000), 800), input);
  });

  it('restores sliding windows the same way', () => {
    check(() => counting(sliding(1_000, 500)), input);
  });

  it('restores session windows the same way', () => {
    check(() => counting(session(400), 300), input);
  });

  it('restores buffered elements of a process window', () => {
    check(
      () =>
        new OperatorHarness<Ev, string>(
          (s) =>
            s
              .keyBy((e) => e.key)
              .window(tumbling(1_000), { lateOutput: late })
              .process<string>((els, ctx) => ctx.emit(`${ctx.key}:${els.length}`), 'win'),
          { sideOutputs: [late] },
        ),
      input,
    );
  });

  it('does not share accumulators between the snapshot and the running operator', () => {
    const h = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(1_000))
        .process<string>((els) => {
          for (const e of els) void e;
        }, 'win'),
    );
    h.push(ev('a', 1), 1);
    const snap = h.snapshot();
    h.push(ev('a', 2), 2);
    const restored = new OperatorHarness<Ev, string>((s) =>
      s
        .keyBy((e) => e.key)
        .window(tumbling(1_000))
        .process<string>((els, ctx) => ctx.emit(els.map((e) => e.n).join(',')), 'win'),
    ).restore(snap);
    restored.watermark(999);
    assert.deepEqual(restored.values(), ['1']);
  });
});
