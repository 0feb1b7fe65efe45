/**
 * How the CLI fails: one line on stderr and an exit code — 2 for bad input (unknown command, job
 * or flag, a missing file), 1 for a job that failed while running. Never a stack trace, unless
 * SCOUT_DEBUG=1 asks for one.
 */

/** Bad input from the user: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** One line describing `error`, for stderr. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
