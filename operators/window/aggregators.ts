import type { Aggregator } from '../../pipeline/graph.ts';

/** Counts elements. @example keyed.window(tumbling(5_000)).aggregate(count()) */
export function count<T>(): Aggregator<T, number, number> {
  return { create: () => 0, add: (n) => n + 1, merge: (a, b) => a + b, result: (n) => n };
}

/** Sums a numeric field. @example keyed.window(tumbling(60_000)).aggregate(sum((m) => m.bits)) */
export function sum<T>(of: (value: T) => number): Aggregator<T, number, number> {
  return { create: () => 0, add: (n, v) => n + of(v), merge: (a, b) => a + b, result: (n) => n };
}
