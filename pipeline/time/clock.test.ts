import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, ScaledClock } from './clock.ts';

describe('ManualClock', () => {
  it('starts at the given time and moves only when told to', async () => {
    const clock = new ManualClock(1_000);
    assert.equal(clock.now(), 1_000);
    await clock.advance(250);
    assert.equal(clock.now(), 1_250);
    await clock.advanceTo(5_000);
    assert.equal(clock.now(), 5_000);
  });

  it('runs due callbacks in time order, and callbacks due at the same time in scheduling order', async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    clock.schedule(300, () => ran.push('c@300'));
    clock.schedule(100, () => ran.push('a@100'));
    clock.schedule(200, () => ran.push('x@200'));
    clock.schedule(100, () => ran.push('b@100'));
    clock.schedule(200, () => ran.push('y@200'));
    await clock.advance(300);
    assert.deepEqual(ran, ['a@100', 'b@100', 'x@200', 'y@200', 'c@300']);
  });

  it('shows each callback the time it was due, not the target time', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.schedule(40, () => seen.push(clock.now()));
    clock.schedule(70, () => seen.push(clock.now()));
    await clock.advance(1_000);
    assert.deepEqual(seen, [40, 70]);
    assert.equal(clock.now(), 1_000);
  });

  it('runs a callback scheduled by another for the same time after the ones already queued', async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    clock.schedule(10, () => {
      ran.push('first');
      clock.schedule(10, () => ran.push('scheduled-by-first'));
    });
    clock.schedule(10, () => ran.push('second'));
    await clock.advance(10);
    assert.deepEqual(ran, ['first', 'second', 'scheduled-by-first']);
  });

  it('leaves callbacks due after the target for a later advance', async () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.schedule(100, () => ran.push(100));
    clock.schedule(101, () => ran.push(101));
    await clock.advanceTo(100);
    assert.deepEqual(ran, [100]);
    assert.equal(clock.pending(), 1);
    assert.equal(clock.nextAt(), 101);
    await clock.advance(1);
    assert.deepEqual(ran, [100, 101]);
    assert.equal(clock.pending(), 0);
    assert.equal(clock.nextAt(), undefined);
  });

  it('runs a callback scheduled in the past on the next advance without moving time back', async () => {
    const clock = new ManualClock(500);
    const seen: number[] = [];
    clock.schedule(100, () => seen.push(clock.now()));
    assert.deepEqual(seen, [], 'scheduling alone runs nothing');
    await clock.advance(0);
    assert.deepEqual(seen, [500]);
    assert.equal(clock.now(), 500);
  });

  it('never runs a cancelled callback, and cancelling after it ran is harmless', async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    const cancelA = clock.schedule(10, () => ran.push('a'));
    const cancelB = clock.schedule(20, () => ran.push('b'));
    cancelA();
    assert.equal(clock.pending(), 1);
    await clock.advance(20);
    assert.deepEqual(ran, ['b']);
    cancelB();
    cancelA();
    await clock.advance(100);
    assert.deepEqual(ran, ['b']);
  });

  it('lets a callback cancel another one due at the same time', async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    let cancelSecond = () => {};
    clock.schedule(5, () => {
      ran.push('first');
      cancelSecond();
    });
    cancelSecond = clock.schedule(5, () => ran.push('second'));
    await clock.advance(5);
    assert.deepEqual(ran, ['first']);
  });

  it('resolves sleep exactly when its time is reached', async () => {
    const clock = new ManualClock(0);
    let woke: number | undefined;
    const sleeping = clock.sleep(1_000).then(() => {
      woke = clock.now();
    });
    await clock.advance(999);
    assert.equal(woke, undefined);
    await clock.advance(1);
    await sleeping;
    assert.equal(woke, 1_000);
  });

  it('resolves sleep(0) and negative sleeps without any advance', async () => {
    const clock = new ManualClock(0);
    await clock.sleep(0);
    await clock.sleep(-5);
    assert.equal(clock.pending(), 0);
    assert.equal(clock.now(), 0);
  });

  it('lets async code that sleeps in a loop make every step within one advanceTo', async () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advanceTo(350);
    assert.deepEqual(ticks, [100, 200, 300]);
    await clock.advanceTo(10_000);
    await loop;
    assert.deepEqual(ticks, [100, 200, 300, 400, 500]);
  });

  it('advanceTo a time before now runs due callbacks and keeps the time', async () => {
    const clock = new ManualClock(1_000);
    const ran: number[] = [];
    clock.schedule(900, () => ran.push(900));
    clock.schedule(1_100, () => ran.push(1_100));
    await clock.advanceTo(950);
    assert.deepEqual(ran, [900]);
    assert.equal(clock.now(), 1_000);
  });
});

describe('ScaledClock', () => {
  it('runs speed times faster than the wall clock, from its start', () => {
    let wall = 1_000;
    const clock = new ScaledClock(20, 5_000_000, () => wall);
    assert.equal(clock.now(), 5_000_000);
    wall += 1_500;
    assert.equal(clock.now(), 5_030_000);
    assert.throws(() => new ScaledClock(0), /speed must be > 0/);
  });
});
