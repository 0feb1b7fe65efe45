import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../builder.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import { fromArray } from '../testing/sources.ts';
import type { Sink } from '../types.ts';
import { fitSnapshot } from './compatibility.ts';

const discard: Sink<unknown> = {
  describe: () => 'discard',
  open: () => ({ write: () => {}, close: () => {} }),
};

/** A job `counts` with a source, a stateful step `count`, and optionally a second one `extra`. */
function graph(withExtra: boolean) {
  const p = pipeline('counts');
  let s = p
    .from(fromArray([1, 2, 3]), { id: 'numbers' })
    .keyBy((n) => n % 2)
    .process<number>({ onElement: (n, ctx) => ctx.emit(n) }, 'count');
  if (withExtra) s = s.keyBy((n) => n).process<number>({ onElement: (n, ctx) => ctx.emit(n) }, 'extra');
  s.to(discard, 'out');
  return p.graph();
}

function snapshot(withExtra: boolean): JobSnapshot {
  const table = { entries: [[1, { n: 2 }, 0] as [number, unknown, number]], deleted: [] };
  return {
    job: 'counts',
    operators: {
      numbers: { watermark: 10, state: null },
      count: { watermark: 10, state: { timers: [] } },
      'map-1+filter-2': { watermark: 10, state: null },
      ...(withExtra ? { extra: { watermark: 10, state: { timers: [] } } } : {}),
    },
    keyed: {
      incremental: false,
      tables: { 'count/sum': table, ...(withExtra ? { 'extra/seen': table } : {}) },
    },
    positions: { numbers: { '0': 2 } },
  };
}

describe('fitSnapshot', () => {
  it('restores into a job that gained a step: the new step starts empty', () => {
    const fitted = fitSnapshot(snapshot(false), graph(true), {
      allowNonRestored: false,
      what: 'savepoint "a"',
    });
    assert.deepEqual(fitted.dropped, []);
    assert.deepEqual(Object.keys(fitted.snapshot.keyed.tables), ['count/sum']);
  });

  it('refuses state of a step the job no longer has, naming it, unless allowed', () => {
    assert.throws(
      () => fitSnapshot(snapshot(true), graph(false), { allowNonRestored: false, what: 'savepoint "a"' }),
      {
        message:
          'savepoint "a" holds state of steps job "counts" no longer has (extra, extra/seen); pass --allow-non-restored-state to start without it',
      },
    );
    const fitted = fitSnapshot(snapshot(true), graph(false), {
      allowNonRestored: true,
      what: 'savepoint "a"',
    });
    assert.deepEqual(fitted.dropped, ['extra', 'extra/seen']);
    assert.equal(fitted.snapshot.operators.extra, undefined);
    assert.equal(fitted.snapshot.keyed.tables['extra/seen'], undefined);
    assert.deepEqual(fitted.snapshot.positions, { numbers: { '0': 2 } });
  });

  it('does not count a changed chain of stateless steps, or positions of a kept source, as lost state', () => {
    const fitted = fitSnapshot(snapshot(false), graph(false), { allowNonRestored: false, what: 'x' });
    assert.deepEqual(fitted.dropped, []);
    assert.ok(
      fitted.snapshot.operators['map-1+filter-2'],
      'a watermark-only entry is kept (and ignored on restore)',
    );
  });

  it('refuses positions of a source the job no longer reads', () => {
    const s = { ...snapshot(false), positions: { numbers: { '0': 2 }, words: { '0': 5 } } };
    assert.throws(() => fitSnapshot(s, graph(false), { allowNonRestored: false, what: 'x' }), /\(words\)/);
  });
});
