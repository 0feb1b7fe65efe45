/**
 * Names a replay's files as partitions. A file's partition id is its base name, which stays the
 * same when the files move, so a checkpoint taken on one machine resumes on another. Files that
 * share a base name (`day1/xqc.jsonl.gz`, `day2/xqc.jsonl.gz`) take as many parent folders as it
 * takes to tell them apart.
 */
import { resolve, sep } from 'node:path';

/**
 * Partition ids for `files`, in order.
 *
 * @example
 * partitionIds(['data/a.jsonl', 'data/b.jsonl.gz']); // ['a.jsonl', 'b.jsonl.gz']
 * partitionIds(['day1/xqc.jsonl', 'day2/xqc.jsonl']); // ['day1/xqc.jsonl', 'day2/xqc.jsonl']
 */
export function partitionIds(files: readonly string[]): string[] {
  const segments = files.map((file) =>
    resolve(file)
      .split(sep)
      .filter((s) => s !== ''),
  );
  const seen = new Map<string, string>();
  for (const [i, parts] of segments.entries()) {
    const full = parts.join('/');
    const earlier = seen.get(full);
    if (earlier !== undefined) throw new Error(`replay file listed twice: ${earlier} and ${files[i]}`);
    seen.set(full, files[i]!);
  }
  const depth = files.map(() => 1);
  for (;;) {
    const ids = segments.map((parts, i) => parts.slice(-depth[i]!).join('/'));
    const holders = new Map<string, number[]>();
    for (const [i, id] of ids.entries()) holders.set(id, [...(holders.get(id) ?? []), i]);
    let clash = false;
    for (const indices of holders.values()) {
      if (indices.length < 2) continue;
      clash = true;
      for (const i of indices) depth[i]!++;
    }
    if (!clash) return ids;
  }
}
