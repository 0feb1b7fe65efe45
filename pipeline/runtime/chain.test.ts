import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperatorHarness } from '../testing/harness.ts';
import { StepError } from './operator.ts';

test('an error thrown while iterating a lazy flatMap result names the flatMap step, not the chain head', () => {
  const h = new OperatorHarness<number, number>((s) =>
    s
      .map((n) => n + 1, 'first')
      .flatMap(function* (n) {
        yield n;
        throw new Error('generator broke');
      }, 'explode')
      .filter(() => true, 'last'),
  );
  assert.throws(
    () => h.push(1, 0),
    (e: unknown) => e instanceof StepError && e.stepId === 'explode' && /generator broke/.test(e.message),
  );
});

test('an error in a later stage keeps its own step id when it passes through a flatMap', () => {
  const h = new OperatorHarness<number, number>((s) =>
    s
      .flatMap((n) => [n, n], 'twice')
      .map((n) => {
        if (n > 0) throw new Error('map broke');
        return n;
      }, 'after'),
  );
  assert.throws(
    () => h.push(1, 0),
    (e: unknown) => e instanceof StepError && e.stepId === 'after',
  );
});

test('a chain of filters only keeps what every filter keeps, and an error names the filter that threw', () => {
  const h = new OperatorHarness<number, number>((s) =>
    s.filter((n) => n % 2 === 0, 'evens').filter((n) => n % 3 === 0, 'threes'),
  );
  h.pushAll([1, 2, 3, 6, 9, 12, 18], [10, 20, 30, 40, 50, 60, 70]);
  assert.ok(
    h.operators().some((op) => op.id === 'evens+threes'),
    'the two filters run as one chain',
  );
  assert.deepEqual(h.values(), [6, 12, 18]);
  assert.deepEqual(
    h.output().map((o) => o.timestamp),
    [40, 60, 70],
  );

  const failing = new OperatorHarness<number, number>((s) =>
    s
      .filter((n) => n > 0, 'positive')
      .filter((n) => {
        if (n === 5) throw new Error('five');
        return true;
      }, 'not-five'),
  );
  assert.throws(
    () => failing.pushAll([1, 5], [0, 0]),
    (e: unknown) => e instanceof StepError && e.stepId === 'not-five' && /five/.test(e.message),
  );
});
