import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BackendSnapshot, MemoryStateBackend } from './backend.ts';

/** A backend whose two clocks the test sets directly. */
function backend(): { state: MemoryStateBackend; time: { processing: number; event: number } } {
  const time = { processing: 0, event: Number.NEGATIVE_INFINITY };
  const state = new MemoryStateBackend({
    processingTime: () => time.processing,
    eventTime: () => time.event,
  });
  return { state, time };
}

function keysOf<V>(entries: Iterable<[unknown, V]>): unknown[] {
  return [...entries].map(([k]) => k);
}

describe('MemoryStateBackend tables', () => {
  it('stores values per key and keeps tables of different steps and names apart', () => {
    const { state } = backend();
    const a = state.table<number>('step-a', 'count');
    const b = state.table<number>('step-b', 'count');
    const c = state.table<number>('step-a', 'other');
    a.put('k', 1);
    b.put('k', 2);
    c.put('k', 3);
    assert.deepEqual([a.get('k'), b.get('k'), c.get('k')], [1, 2, 3]);
    a.delete('k');
    assert.equal(a.get('k'), undefined);
    assert.equal(b.get('k'), 2);
  });

  it('refuses to declare the same state of a step twice', () => {
    const { state } = backend();
    state.table('s', 'x');
    assert.throws(() => state.table('s', 'x'), /state "x" of step "s" is declared twice/);
  });
});

describe('TTL in processing time', () => {
  it('misses an entry once ttl has passed since its last write, and a write renews it', () => {
    const { state, time } = backend();
    const t = state.table<string>('s', 'v', { ttlMs: 1_000 });
    t.put('a', 'first');
    time.processing = 999;
    assert.equal(t.get('a'), 'first');
    t.put('a', 'renewed'); // written at 999: lives until 1999
    time.processing = 1_998;
    assert.equal(t.get('a'), 'renewed');
    time.processing = 1_999;
    assert.equal(t.get('a'), undefined);
  });

  it('ignores event time for a processing-time table', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v', { ttlMs: 100 });
    t.put('a', 1);
    time.event = 1_000_000;
    assert.equal(t.get('a'), 1);
  });

  it('hides expired entries from entries() but counts them in size until swept', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v', { ttlMs: 100 });
    t.put('old', 1);
    time.processing = 60;
    t.put('young', 2);
    time.processing = 100;
    assert.deepEqual([...t.entries()], [['young', 2]]);
    assert.equal(t.size, 2);
    assert.equal(t.sweepExpired(), 1);
    assert.equal(t.size, 1);
    assert.equal(t.sweepExpired(), 0);
  });

  it('never expires entries of a table without ttl', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    time.processing = Number.MAX_SAFE_INTEGER;
    assert.equal(t.get('a'), 1);
    assert.equal(t.sweepExpired(), 0);
  });

  it('drops expired entries from a full snapshot', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v', { ttlMs: 100 });
    t.put('old', 1);
    time.processing = 50;
    t.put('young', 2);
    time.processing = 120;
    const snap = state.snapshot();
    assert.deepEqual(snap.tables['s/v']!.entries, [['young', 2, 50]]);
    assert.equal(t.size, 1, 'the snapshot swept the table too');
  });

  it('reports an entry that expired since the last snapshot as deleted in the next incremental one', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v', { ttlMs: 100 });
    t.put('a', 1);
    t.put('b', 2);
    state.snapshot();
    time.processing = 40;
    t.put('b', 3);
    time.processing = 100; // 'a' expires, 'b' (written at 40) lives
    const snap = state.snapshot({ incremental: true });
    assert.deepEqual(snap.tables['s/v'], { entries: [['b', 3, 40]], deleted: ['a'] });
  });
});

describe('TTL in event time', () => {
  it('measures age against the event time, not the clock', () => {
    const { state, time } = backend();
    const t = state.table<string>('s', 'v', { ttlMs: 1_000, ttlTime: 'event' });
    time.event = 5_000;
    t.put('a', 'x');
    time.processing = 1_000_000;
    assert.equal(t.get('a'), 'x');
    time.event = 5_999;
    assert.equal(t.get('a'), 'x');
    time.event = 6_000;
    assert.equal(t.get('a'), undefined);
  });

  it('sweeps and snapshots by event time', () => {
    const { state, time } = backend();
    const t = state.table<number>('s', 'v', { ttlMs: 10, ttlTime: 'event' });
    time.event = 0;
    t.put('a', 1);
    time.event = 5;
    t.put('b', 2);
    time.event = 10;
    assert.deepEqual(keysOf(t.entries()), ['b']);
    assert.deepEqual(
      state.snapshot().tables['s/v']!.entries.map(([k]) => k),
      ['b'],
    );
    time.event = 15;
    assert.equal(t.sweepExpired(), 1);
    assert.equal(t.size, 0);
  });

  it('does not expire an entry written before the first watermark as soon as one arrives', () => {
    // Elements of the first batch are processed before any watermark exists (event time −∞).
    const { state, time } = backend();
    const t = state.table<string>('s', 'v', { ttlMs: 1_000, ttlTime: 'event' });
    t.put('early', 'x');
    assert.equal(t.get('early'), 'x');
    time.event = 500;
    assert.equal(t.get('early'), 'x', 'alive at the first watermark');
    time.event = 1_499;
    assert.equal(t.get('early'), 'x');
    time.event = 1_500;
    assert.equal(t.get('early'), undefined, 'ages from the first event time the table saw');
  });

  it('keeps an entry written before the first watermark in a snapshot taken then, and ages it after restore', () => {
    const first = backend();
    first.state.table<number>('s', 'v', { ttlMs: 100, ttlTime: 'event' }).put('k', 1);
    const snap = first.state.snapshot();
    assert.deepEqual(
      snap.tables['s/v']!.entries.map(([k, v]) => [k, v]),
      [['k', 1]],
    );
    // A checkpoint store may round-trip through JSON, which turns −∞ into null.
    const restored = backend();
    const t = restored.state.table<number>('s', 'v', { ttlMs: 100, ttlTime: 'event' });
    restored.state.restore(JSON.parse(JSON.stringify(snap)) as BackendSnapshot);
    restored.time.event = 1_000;
    assert.equal(t.get('k'), 1);
    restored.time.event = 1_100;
    assert.equal(t.get('k'), undefined);
  });
});

describe('snapshots', () => {
  it('holds a copy: later writes to a stored object do not reach the snapshot', () => {
    const { state } = backend();
    const t = state.table<{ n: number }>('s', 'v');
    const value = { n: 1 };
    t.put('a', value);
    const snap = state.snapshot();
    value.n = 2;
    assert.deepEqual(snap.tables['s/v']!.entries, [['a', { n: 1 }, 0]]);
  });

  it('makes an incremental snapshot of only the keys written or deleted since the previous snapshot', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    const quiet = state.table<number>('s', 'quiet');
    t.put('a', 1);
    t.put('b', 2);
    t.put('c', 3);
    quiet.put('q', 0);
    const full = state.snapshot();
    assert.equal(full.incremental, false);
    assert.equal(full.tables['s/v']!.entries.length, 3);

    t.put('b', 20);
    t.delete('c');
    t.put('d', 4);
    t.put('e', 5);
    t.delete('e'); // born and gone between snapshots
    t.delete('never-there');
    const inc = state.snapshot({ incremental: true });
    assert.equal(inc.incremental, true);
    assert.deepEqual(inc.tables['s/v']!.entries, [
      ['b', 20, 0],
      ['d', 4, 0],
    ]);
    assert.deepEqual(new Set(inc.tables['s/v']!.deleted), new Set(['c', 'e']));
    assert.deepEqual(inc.tables['s/quiet'], { entries: [], deleted: [] });

    const nothing = state.snapshot({ incremental: true });
    assert.deepEqual(nothing.tables['s/v'], { entries: [], deleted: [] });
  });

  it('drops a deletion from the changes when the key is written again', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    state.snapshot();
    t.delete('a');
    t.put('a', 2);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v'], {
      entries: [['a', 2, 0]],
      deleted: [],
    });
  });

  it('reports a key written many times once, and again in every later snapshot it is written before', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    t.put('a', 2);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, [['a', 2, 0]]);
    t.put('a', 3);
    t.put('a', 4);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, [['a', 4, 0]]);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, []);
    const captured = state.capture({ incremental: true });
    captured.release();
    t.put('a', 5);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, [['a', 5, 0]]);
    state.restore({ incremental: false, tables: { 's/v': { entries: [['a', 6, 0]], deleted: [] } } });
    t.put('a', 7);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, [['a', 7, 0]]);
  });

  it('writes where a read found the key, also after the key was deleted or restored in between', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    assert.equal(t.get('a'), 1);
    t.put('a', 2);
    assert.equal(t.get('a'), 2);
    t.delete('a');
    t.put('a', 3);
    assert.equal(t.get('a'), 3);
    assert.equal(t.size, 1);
    state.restore({ incremental: false, tables: { 's/v': { entries: [['a', 6, 0]], deleted: [] } } });
    t.put('a', 7);
    assert.equal(t.get('a'), 7);
    assert.deepEqual(state.snapshot().tables['s/v']!.entries, [['a', 7, 0]]);
  });

  it('counts from a full snapshot too: an incremental one after it holds only later changes', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    state.snapshot(); // full
    t.put('b', 2);
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v']!.entries, [['b', 2, 0]]);
  });

  it('restores a full snapshot by replacing the content', () => {
    const source = backend();
    const st = source.state.table<number>('s', 'v');
    st.put('a', 1);
    st.put('b', 2);
    const snap = source.state.snapshot();

    const target = backend();
    const tt = target.state.table<number>('s', 'v');
    tt.put('stale', 99);
    tt.put('a', 100);
    target.state.restore(snap);
    assert.deepEqual([...tt.entries()].sort(), [
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('replays a full snapshot plus incremental ones to the same content as the live backend', () => {
    const live = backend();
    const t = live.state.table<number>('s', 'v');
    const chain: BackendSnapshot[] = [];
    t.put('a', 1);
    t.put('b', 2);
    chain.push(live.state.snapshot());
    t.put('a', 10);
    t.delete('b');
    t.put('c', 3);
    chain.push(live.state.snapshot({ incremental: true }));
    t.delete('c');
    t.put('d', 4);
    chain.push(live.state.snapshot({ incremental: true }));

    const replay = backend();
    const r = replay.state.table<number>('s', 'v');
    r.put('junk', 0);
    for (const snap of chain) replay.state.restore(snap);
    assert.deepEqual([...r.entries()].sort(), [...t.entries()].sort());
    assert.deepEqual([...r.entries()].sort(), [
      ['a', 10],
      ['d', 4],
    ]);
  });

  it('keeps the write time across restore, so ttl goes on counting from the original write', () => {
    const source = backend();
    source.state.table<number>('s', 'v', { ttlMs: 100 }).put('a', 1);
    source.time.processing = 10;
    const snap = source.state.snapshot();

    const target = backend();
    const t = target.state.table<number>('s', 'v', { ttlMs: 100 });
    target.state.restore(snap);
    target.time.processing = 99;
    assert.equal(t.get('a'), 1);
    target.time.processing = 100;
    assert.equal(t.get('a'), undefined);
  });

  it('starts change tracking afresh after a restore', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('before', 1);
    state.restore({ incremental: false, tables: { 's/v': { entries: [['r', 5, 0]], deleted: [] } } });
    assert.deepEqual(state.snapshot({ incremental: true }).tables['s/v'], { entries: [], deleted: [] });
    assert.equal(t.get('before'), undefined);
    assert.equal(t.get('r'), 5);
  });

  it('restores a copy: mutating a restored object does not change the snapshot', () => {
    const { state } = backend();
    const t = state.table<number[]>('s', 'v');
    const snap: BackendSnapshot = {
      incremental: false,
      tables: { 's/v': { entries: [['a', [1], 0]], deleted: [] } },
    };
    state.restore(snap);
    t.get('a')!.push(2);
    assert.deepEqual(snap.tables['s/v']!.entries[0]![1], [1]);
  });

  it('refuses a snapshot holding state that no step declares', () => {
    const { state } = backend();
    assert.throws(
      () => state.restore({ incremental: false, tables: { 'gone/v': { entries: [], deleted: [] } } }),
      /snapshot holds state "gone\/v", which no step of this job declares/,
    );
  });
});

describe('captures (copy-on-write snapshots for checkpoints)', () => {
  const read = (entries: Iterable<readonly [unknown, unknown, number]>) =>
    [...entries].map(([k, v]) => [k, structuredClone(v)]);

  it('a full capture reads the state as it was, whatever the job changes, adds or deletes after it', () => {
    const { state } = backend();
    const t = state.table<{ n: number }>('s', 'v');
    t.put('a', { n: 1 });
    t.put('b', { n: 2 });
    t.put('c', { n: 3 });
    const capture = state.capture();
    const a = t.get('a')!;
    a.n = 100; // changed in place, as operators do, then written back
    t.put('a', a);
    t.delete('b');
    t.put('d', { n: 4 });
    t.put('b', { n: 20 });
    assert.deepEqual(read(capture.tables['s/v']!.entries), [
      ['a', { n: 1 }],
      ['b', { n: 2 }],
      ['c', { n: 3 }],
    ]);
    capture.release();
    assert.deepEqual(
      [...t.entries()].map(([k, v]) => [k, v.n]),
      [
        ['a', 100],
        ['c', 3],
        ['d', 4],
        ['b', 20],
      ],
    );
  });

  it('an incremental capture covers the keys changed before it, and the next one those changed after', () => {
    const { state } = backend();
    const t = state.table<number>('s', 'v');
    t.put('a', 1);
    t.put('b', 2);
    state.snapshot();
    t.put('a', 10);
    t.delete('b');
    const first = state.capture({ incremental: true });
    t.put('a', 11);
    t.put('c', 3);
    assert.deepEqual(read(first.tables['s/v']!.entries), [['a', 10]]);
    assert.deepEqual(first.tables['s/v']!.deleted, ['b']);
    first.release();
    const second = state.capture({ incremental: true });
    assert.deepEqual(read(second.tables['s/v']!.entries), [
      ['a', 11],
      ['c', 3],
    ]);
    second.release();
  });

  it('a capture nobody released is copied out before the next snapshot, and still reads right', () => {
    const { state } = backend();
    const t = state.table<{ n: number }>('s', 'v');
    t.put('a', { n: 1 });
    const capture = state.capture();
    const snap = state.snapshot({ incremental: true });
    assert.deepEqual(snap.tables['s/v']!.entries, []);
    const a = t.get('a')!;
    a.n = 2;
    t.put('a', a);
    assert.deepEqual(read(capture.tables['s/v']!.entries), [['a', { n: 1 }]]);
  });
});
