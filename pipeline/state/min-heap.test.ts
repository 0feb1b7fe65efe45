import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinHeap } from './min-heap.ts';

test('MinHeap pops values in ascending order, whatever the push order', () => {
  const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009);
  const heap = new MinHeap();
  for (const v of values) heap.push(v);
  assert.equal(heap.size, 500);
  const out: number[] = [];
  while (heap.size > 0) out.push(heap.pop()!);
  assert.deepEqual(
    out,
    [...values].sort((a, b) => a - b),
  );
  assert.equal(heap.pop(), undefined);
});
