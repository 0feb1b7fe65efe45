import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, tumbling } from '../../operators/window/index.ts';
import type { Windowed } from '../graph.ts';
import { OperatorHarness } from '../testing/harness.ts';
import { ManualClock } from '../time/clock.ts';
import { DelayOperator } from './delay.ts';

function delayOp(h: OperatorHarness<string, unknown>): DelayOperator {
  return h.operators().find((o) => o instanceof DelayOperator) as DelayOperator;
}

describe('event-time delay', () => {
  it('releases an element once the watermark reaches ts + ms, stamped ts + ms', () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(500));
    h.push('a', 1_000).push('b', 1_200);
    h.watermark(1_499);
    assert.deepEqual(h.output(), []);
    h.watermark(1_500);
    assert.deepEqual(h.output(), [{ value: 'a', timestamp: 1_500 }]);
    h.watermark(5_000);
    assert.deepEqual(h.output(), [
      { value: 'a', timestamp: 1_500 },
      { value: 'b', timestamp: 1_700 },
    ]);
    assert.equal(delayOp(h).heldCount(), 0);
  });

  it('releases in release-time order, not arrival order, and keeps arrival order among equal times', () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(100));
    h.push('late', 300).push('early', 100).push('tie-1', 200).push('tie-2', 200);
    h.watermark(1_000);
    assert.deepEqual(h.values(), ['early', 'tie-1', 'tie-2', 'late']);
  });

  it('releases at once an element whose release time the watermark has already passed', () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(100));
    h.watermark(1_000);
    h.push('x', 850);
    assert.deepEqual(h.output(), [{ value: 'x', timestamp: 950 }]);
  });

  it('ignores the clock', async () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(100));
    h.push('x', 0);
    await h.advance(1_000_000);
    assert.deepEqual(h.output(), []);
  });

  it('moves a record into the window of its release time', () => {
    const h = new OperatorHarness<string, Windowed<string, number>>((s) =>
      s
        .delay(600)
        .keyBy((v) => v)
        .window(tumbling(1_000))
        .aggregate(count()),
    );
    h.push('k', 300).push('k', 500); // released at 900 and 1100
    h.watermark(2_000);
    assert.deepEqual(
      h.values().map((w) => [w.start, w.value]),
      [
        [0, 1],
        [1_000, 1],
      ],
    );
  });

  it('keeps held elements across snapshot and restore', () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(100, { id: 'hold' }));
    h.push('a', 10).push('b', 20);
    h.watermark(110);
    const restored = new OperatorHarness<string, string>((s) => s.delay(100, { id: 'hold' })).restore(
      h.snapshot(),
    );
    restored.watermark(1_000);
    assert.deepEqual(h.output(), [{ value: 'a', timestamp: 110 }]);
    assert.deepEqual(restored.output(), [{ value: 'b', timestamp: 120 }]);
  });
});

describe('processing-time delay', () => {
  it('releases an element once the clock reaches arrival + ms, keeping its own timestamp', async () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(500, { time: 'processing' }), {
      clock: new ManualClock(10_000),
    });
    h.push('a', 42);
    await h.advance(300);
    h.push('b', 7);
    await h.advance(199);
    assert.deepEqual(h.output(), []);
    await h.advance(1);
    assert.deepEqual(h.output(), [{ value: 'a', timestamp: 42 }]);
    await h.advance(299);
    assert.equal(h.output().length, 1);
    await h.advance(1);
    assert.deepEqual(h.output(), [
      { value: 'a', timestamp: 42 },
      { value: 'b', timestamp: 7 },
    ]);
  });

  it('ignores watermarks for release', () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(500, { time: 'processing' }));
    h.push('a', 0);
    h.watermark(1_000_000);
    assert.deepEqual(h.output(), []);
  });

  it('holds the watermark below the oldest held element, so downstream windows neither fire early nor drop it', async () => {
    const h = new OperatorHarness<string, Windowed<string, number>>((s) =>
      s
        .delay(500, { time: 'processing' })
        .keyBy((v) => v)
        .window(tumbling(1_000))
        .aggregate(count()),
    );
    const window = h.operators()[1]!;
    h.push('k', 1_500);
    h.push('k', 1_200);
    h.watermark(5_000);
    assert.equal(window.currentWatermark(), 1_199, 'held below the oldest held element');
    assert.deepEqual(h.values(), []);
    await h.advance(500);
    assert.equal(window.currentWatermark(), 5_000, 'released: the input watermark goes through');
    assert.deepEqual(h.values(), [{ key: 'k', start: 1_000, end: 2_000, value: 2 }]);
  });

  it('forwards the watermark unchanged while it holds nothing', () => {
    const h = new OperatorHarness<string, Windowed<string, number>>((s) =>
      s
        .delay(500, { time: 'processing' })
        .keyBy((v) => v)
        .window(tumbling(1_000))
        .aggregate(count()),
    );
    h.watermark(3_000);
    assert.equal(h.operators()[1]!.currentWatermark(), 3_000);
  });

  it('raises the held watermark step by step as held elements leave', async () => {
    const h = new OperatorHarness<string, string>((s) =>
      s
        .delay(100, { time: 'processing' })
        .keyBy((v) => v)
        .process<string>({ onElement() {} }),
    );
    const downstream = h.operators()[1]!;
    h.push('a', 50);
    await h.advance(50);
    h.push('b', 80);
    h.watermark(1_000);
    assert.equal(downstream.currentWatermark(), 49);
    await h.advance(50); // 'a' leaves
    assert.equal(downstream.currentWatermark(), 79);
    await h.advance(50); // 'b' leaves
    assert.equal(downstream.currentWatermark(), 1_000);
  });

  it('finishes by waiting for its held elements to be released on time', async () => {
    const h = new OperatorHarness<string, string>((s) => s.delay(1_000, { time: 'processing' }));
    h.push('a', 0);
    let finished = false;
    const finishing = h.finish().then(() => {
      finished = true;
    });
    await h.advance(999);
    assert.equal(finished, false);
    await h.advance(1);
    await finishing;
    assert.deepEqual(h.values(), ['a']);
  });

  it('re-arms release times after restore', async () => {
    const clock = new ManualClock(0);
    const h = new OperatorHarness<string, string>((s) => s.delay(1_000, { time: 'processing', id: 'hold' }), {
      clock,
    });
    h.push('a', 5);
    await h.advance(400);
    const restored = new OperatorHarness<string, string>(
      (s) => s.delay(1_000, { time: 'processing', id: 'hold' }),
      { clock: new ManualClock(400) },
    ).restore(h.snapshot());
    await restored.advance(599);
    assert.deepEqual(restored.output(), []);
    await restored.advance(1);
    assert.deepEqual(restored.output(), [{ value: 'a', timestamp: 5 }]);
  });
});
