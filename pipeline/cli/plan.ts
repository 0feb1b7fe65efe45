/** `scout plan <job|file.ts>`: prints the job's graph, one step a line, without running anything. */
import { formatPlan } from '../graph.ts';
import { planContext } from '../jobs/contexts.ts';
import { loadJob } from '../jobs/registry.ts';
import { SystemClock } from '../time/clock.ts';

export async function planCommand(ref: string, set: Record<string, string>): Promise<string> {
  const definition = await loadJob(ref);
  const graph = definition.build(planContext(new SystemClock(), set)).graph();
  return `${definition.description}\n${formatPlan(graph)}`;
}
