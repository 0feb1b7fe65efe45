/**
 * Whether a checkpoint or savepoint fits the job about to restore it. State is addressed by step
 * id: keyed state under `<step>/<name>`, operator state and source positions under `<step>`. A
 * step the job has gained starts empty; state of a step the job no longer has would be lost, so it
 * is refused unless the user allows it (`--allow-non-restored-state`), and then left out.
 *
 * Fused stateless steps (`drop-commands+drop-bots`) carry only a watermark, which the sources
 * re-establish, so a chain that changed shape is not state worth refusing over.
 */
import type { Graph } from '../graph.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import { TABLE_SEPARATOR } from '../state/backend.ts';

export interface Fitted {
  readonly snapshot: JobSnapshot;
  /** What was left out, as `step` or `step/table`; empty when everything fits. */
  readonly dropped: readonly string[];
}

/**
 * @throws Error (one line) when state of missing steps exists and `allowNonRestored` is false.
 * @example
 * const { snapshot, dropped } = fitSnapshot(saved, graph, { allowNonRestored: false, what: 'savepoint "before-k4"' });
 */
export function fitSnapshot(
  snapshot: JobSnapshot,
  graph: Graph,
  options: { readonly allowNonRestored: boolean; readonly what: string },
): Fitted {
  const steps = new Set(graph.steps.map((s) => s.id));
  const dropped: string[] = [];

  const operators: Record<string, JobSnapshot['operators'][string]> = {};
  for (const [id, saved] of Object.entries(snapshot.operators)) {
    if (steps.has(id) || saved.state === undefined || saved.state === null) operators[id] = saved;
    else dropped.push(id);
  }
  const positions: Record<string, JobSnapshot['positions'][string]> = {};
  for (const [id, saved] of Object.entries(snapshot.positions)) {
    if (steps.has(id)) positions[id] = saved;
    else dropped.push(id);
  }
  const tables: Record<string, JobSnapshot['keyed']['tables'][string]> = {};
  for (const [id, saved] of Object.entries(snapshot.keyed.tables)) {
    const step = id.slice(0, id.indexOf(TABLE_SEPARATOR));
    if (steps.has(step)) tables[id] = saved;
    else if (saved.entries.length > 0 || saved.deleted.length > 0) dropped.push(id);
  }

  const unique = [...new Set(dropped)].sort();
  if (unique.length > 0 && !options.allowNonRestored) {
    throw new Error(
      `${options.what} holds state of steps job "${graph.name}" no longer has (${unique.join(', ')}); pass --allow-non-restored-state to start without it`,
    );
  }
  return {
    snapshot: { ...snapshot, operators, positions, keyed: { ...snapshot.keyed, tables } },
    dropped: unique,
  };
}
