import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Aggregator } from '../../pipeline/graph.ts';
import { count, sum } from './aggregators.ts';

function fold<T, A, R>(agg: Aggregator<T, A, R>, values: readonly T[]): A {
  return values.reduce((acc, v) => agg.add(acc, v), agg.create());
}

describe('count', () => {
  it('counts elements, from 0', () => {
    const c = count<string>();
    assert.equal(c.result(c.create()), 0);
    assert.equal(c.result(fold(c, ['a', 'b', 'c'])), 3);
  });

  it('merges two partial counts into their sum', () => {
    const c = count<string>();
    assert.equal(c.result(c.merge!(fold(c, ['a', 'b']), fold(c, ['c']))), 3);
  });
});

describe('sum', () => {
  it('sums the field it reads', () => {
    const s = sum<{ bits: number }>((m) => m.bits);
    assert.equal(s.result(s.create()), 0);
    assert.equal(s.result(fold(s, [{ bits: 100 }, { bits: -30 }, { bits: 5 }])), 75);
  });

  it('merges two partial sums', () => {
    const s = sum<number>((n) => n);
    assert.equal(s.result(s.merge!(fold(s, [1, 2]), fold(s, [10]))), 13);
  });
});
