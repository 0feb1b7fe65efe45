/**
 * The contract's example payloads (fixtures/*.json) and the one check the fakes' tests make with
 * them: a response has exactly the fixture's field names and JSON types.
 */
import { readFileSync } from 'node:fs';

/** A fixture file of fixtures/, parsed. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/** Field names and JSON types, recursively (an array by its first element): what a fixture pins down. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return ['array', value.length > 0 ? shapeOf(value[0]) : 'empty'];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, shapeOf((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value;
}
