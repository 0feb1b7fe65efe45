import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyType } from './api.ts';
import { TimerQueue } from './timer-queue.ts';

function drain(queue: TimerQueue, upTo: number): Array<[number, KeyType]> {
  const out: Array<[number, KeyType]> = [];
  for (let due = queue.pollDue(upTo); due !== undefined; due = queue.pollDue(upTo))
    out.push([due.timestamp, due.key]);
  return out;
}

describe('TimerQueue', () => {
  it('fires in timestamp order and, at equal times, in registration order', () => {
    const q = new TimerQueue();
    q.add(300, 'a');
    q.add(100, 'z');
    q.add(200, 'b');
    q.add(100, 'y');
    q.add(100, 'x');
    q.add(200, 'a');
    assert.deepEqual(drain(q, 1_000), [
      [100, 'z'],
      [100, 'y'],
      [100, 'x'],
      [200, 'b'],
      [200, 'a'],
      [300, 'a'],
    ]);
    assert.equal(q.size, 0);
  });

  it('keeps one timer for the same (time, key), and keeps its first registration slot', () => {
    const q = new TimerQueue();
    q.add(10, 'a');
    q.add(10, 'b');
    q.add(10, 'a');
    assert.equal(q.size, 2);
    assert.deepEqual(q.list(), [
      [10, 'a'],
      [10, 'b'],
    ]);
  });

  it('tells a string key from a number key', () => {
    const q = new TimerQueue();
    q.add(10, 1);
    q.add(10, '1');
    assert.equal(q.size, 2);
    assert.ok(q.has(10, 1));
    assert.ok(q.has(10, '1'));
  });

  it('returns only timers due at or before the bound', () => {
    const q = new TimerQueue();
    q.add(99, 'a');
    q.add(100, 'b');
    q.add(101, 'c');
    assert.deepEqual(drain(q, 100), [
      [99, 'a'],
      [100, 'b'],
    ]);
    assert.equal(q.peek(), 101);
    assert.equal(q.pollDue(100), undefined);
  });

  it('deletes a timer, and skips a time whose timers were all deleted', () => {
    const q = new TimerQueue();
    q.add(5, 'a');
    q.add(7, 'b');
    q.add(7, 'c');
    q.delete(5, 'a');
    q.delete(7, 'b');
    q.delete(42, 'nobody');
    assert.equal(q.has(5, 'a'), false);
    assert.equal(q.size, 1);
    assert.equal(q.peek(), 7);
    assert.deepEqual(drain(q, 100), [[7, 'c']]);
    assert.equal(q.peek(), undefined);
  });

  it('accepts a timer again at a time whose timers were deleted', () => {
    const q = new TimerQueue();
    q.add(5, 'a');
    q.delete(5, 'a');
    assert.equal(q.peek(), undefined); // the empty time surfaces and is dropped
    q.add(5, 'b');
    q.add(3, 'c');
    q.delete(3, 'c');
    q.add(3, 'c'); // re-added while the emptied time is still in the heap
    assert.deepEqual(drain(q, 10), [
      [3, 'c'],
      [5, 'b'],
    ]);
  });

  it('sees timers added while draining, including ones already due', () => {
    const q = new TimerQueue();
    q.add(10, 'a');
    const fired: Array<[number, KeyType]> = [];
    for (let due = q.pollDue(50); due !== undefined; due = q.pollDue(50)) {
      fired.push([due.timestamp, due.key]);
      if (due.key === 'a') {
        q.add(5, 'earlier');
        q.add(20, 'later');
        q.add(60, 'not-yet');
      }
    }
    assert.deepEqual(fired, [
      [10, 'a'],
      [5, 'earlier'],
      [20, 'later'],
    ]);
    assert.deepEqual(q.list(), [[60, 'not-yet']]);
  });

  describe('while a time is being drained', () => {
    function startDraining(): TimerQueue {
      const q = new TimerQueue();
      for (const k of ['a', 'b', 'c', 'd']) q.add(10, k);
      assert.deepEqual(q.pollDue(100), { timestamp: 10, key: 'a' });
      return q;
    }

    it('keeps one timer when a still-pending (time, key) is registered again', () => {
      const q = startDraining();
      q.add(10, 'c');
      assert.equal(q.size, 3);
      assert.deepEqual(drain(q, 100), [
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
      ]);
    });

    it('fires a key already fired at that time again if it is registered again, after the others', () => {
      const q = startDraining();
      q.add(10, 'a');
      assert.deepEqual(drain(q, 100), [
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
        [10, 'a'],
      ]);
    });

    it('answers has, size and list for the rest of the time, and honours deletes', () => {
      const q = startDraining();
      q.add(20, 'z');
      assert.equal(q.has(10, 'a'), false);
      assert.equal(q.has(10, 'b'), true);
      q.delete(10, 'b');
      assert.equal(q.has(10, 'b'), false);
      assert.equal(q.size, 3);
      assert.deepEqual(q.list(), [
        [10, 'c'],
        [10, 'd'],
        [20, 'z'],
      ]);
      assert.deepEqual(drain(q, 100), [
        [10, 'c'],
        [10, 'd'],
        [20, 'z'],
      ]);
    });

    it('counts the rest exactly once a deleted key has been skipped', () => {
      const q = startDraining();
      q.delete(10, 'b');
      assert.equal(q.size, 2);
      assert.deepEqual(q.pollDue(100), { timestamp: 10, key: 'c' }); // skips b
      assert.equal(q.size, 1);
      assert.equal(q.peek(), 10);
      assert.deepEqual(drain(q, 100), [[10, 'd']]);
      assert.equal(q.size, 0);
    });

    it('fires a timer added for an earlier time first, then the rest in their order', () => {
      const q = startDraining();
      q.add(5, 'early');
      assert.deepEqual(drain(q, 100), [
        [5, 'early'],
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
      ]);
    });

    it('keeps registration order when the rest is put back behind a key re-registered at that time', () => {
      const q = startDraining();
      q.add(10, 'a'); // registered after b, c, d
      q.add(5, 'early');
      assert.deepEqual(drain(q, 100), [
        [5, 'early'],
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
        [10, 'a'],
      ]);
    });

    it('stops at the bound and resumes later', () => {
      const q = startDraining();
      assert.equal(q.pollDue(9), undefined);
      assert.equal(q.peek(), 10);
      assert.deepEqual(drain(q, 10), [
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
      ]);
    });

    it('returns an earlier timer within a bound below the paused time', () => {
      const q = startDraining();
      q.add(5, 'early');
      assert.deepEqual(q.pollDue(7), { timestamp: 5, key: 'early' });
      assert.equal(q.pollDue(7), undefined);
      assert.deepEqual(drain(q, 10), [
        [10, 'b'],
        [10, 'c'],
        [10, 'd'],
      ]);
    });

    it('forgets the rest on clear', () => {
      const q = startDraining();
      q.clear();
      assert.equal(q.size, 0);
      assert.deepEqual(q.list(), []);
      assert.equal(q.pollDue(100), undefined);
    });
  });

  it('lists timers in firing order without removing them, and clears', () => {
    const q = new TimerQueue();
    q.add(2, 'b');
    q.add(1, 'a');
    q.add(2, 'a');
    assert.deepEqual(q.list(), [
      [1, 'a'],
      [2, 'b'],
      [2, 'a'],
    ]);
    assert.equal(q.size, 3);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
    q.add(9, 'z');
    assert.deepEqual(drain(q, 9), [[9, 'z']]);
  });

  it('agrees with the model when adds and deletes come between single polls, under any bound', () => {
    let seed = 99;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const q = new TimerQueue();
    let model: Array<{ t: number; k: string; seq: number }> = [];
    let seq = 0;
    for (let step = 0; step < 20_000; step++) {
      const op = rand(10);
      // Few distinct times and keys, so times with many keys are drained while others come and go.
      const t = rand(12) * 10;
      const k = `k${rand(6)}`;
      if (op < 4) {
        q.add(t, k);
        if (!model.some((m) => m.t === t && m.k === k)) model.push({ t, k, seq: seq++ });
      } else if (op < 6) {
        q.delete(t, k);
        model = model.filter((m) => !(m.t === t && m.k === k));
      } else {
        const upTo = rand(130);
        const next = model.filter((m) => m.t <= upTo).sort((a, b) => a.t - b.t || a.seq - b.seq)[0];
        const got = q.pollDue(upTo);
        assert.deepEqual(got, next && { timestamp: next.t, key: next.k }, `step ${step}, bound ${upTo}`);
        if (next) model = model.filter((m) => m !== next);
      }
      assert.equal(q.size, model.length, `size at step ${step}`);
      const first = [...model].sort((a, b) => a.t - b.t || a.seq - b.seq)[0];
      assert.equal(q.peek(), first?.t, `peek at step ${step}`);
      for (const m of model.slice(0, 3)) assert.ok(q.has(m.t, m.k));
    }
  });

  it('agrees with a sorted model under many random adds, deletes and polls', () => {
    // A fixed-seed LCG: the same sequence on every run.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n; // the high bits: an LCG's low bits cycle quickly
    };
    const q = new TimerQueue();
    let model: Array<{ t: number; k: string; seq: number }> = [];
    let seq = 0;
    let upTo = 0;
    for (let step = 0; step < 5_000; step++) {
      const op = rand(10);
      const t = upTo + rand(200);
      const k = `k${rand(8)}`;
      if (op < 6) {
        q.add(t, k);
        if (!model.some((m) => m.t === t && m.k === k)) model.push({ t, k, seq: seq++ });
      } else if (op < 8) {
        const victim = model[rand(model.length + 1)];
        if (victim) {
          q.delete(victim.t, victim.k);
          model = model.filter((m) => m !== victim);
        }
      } else {
        upTo += rand(50);
        const expected = model.filter((m) => m.t <= upTo).sort((a, b) => a.t - b.t || a.seq - b.seq);
        model = model.filter((m) => m.t > upTo);
        assert.deepEqual(
          drain(q, upTo),
          expected.map((m) => [m.t, m.k]),
        );
      }
      assert.equal(q.size, model.length);
    }
  });
});
