/**
 * Finds a job by name among the built-in jobs, or loads one from a TypeScript/JavaScript file
 * (its default export, a `defineJob(...)` value). Files run through tsx: no build step.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import chatActivity from './chat-activity.ts';
import highlights from './highlights.ts';
import { isJobDefinition, type JobDefinition } from './job.ts';
import monitor from './monitor.ts';

export const BUILT_IN_JOBS: ReadonlyMap<string, JobDefinition> = new Map([
  [chatActivity.name, chatActivity],
  [highlights.name, highlights],
  [monitor.name, monitor],
]);

/** A job reference that is not a built-in name nor a loadable file. */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
}

export function looksLikeFile(ref: string): boolean {
  return /\.(m?[jt]s|cts|cjs)$/.test(ref) || ref.includes('/');
}

/** Resolves `ref`: a built-in job name, or a path to a job file. */
export async function loadJob(ref: string): Promise<JobDefinition> {
  const builtIn = BUILT_IN_JOBS.get(ref);
  if (builtIn) return builtIn;
  if (!looksLikeFile(ref)) {
    throw new JobNotFoundError(
      `unknown job "${ref}" (built-in jobs: ${[...BUILT_IN_JOBS.keys()].join(', ')}; or give a path to a job file)`,
    );
  }
  const path = resolve(ref);
  if (!existsSync(path)) throw new JobNotFoundError(`job file not found: ${ref}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new JobNotFoundError(`cannot load job file ${ref}: ${message}`);
  }
  const job = mod.default;
  if (!isJobDefinition(job)) {
    throw new JobNotFoundError(
      `${ref} does not export a job as default (export default defineJob({ name, input, output, build }))`,
    );
  }
  return job;
}
