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
