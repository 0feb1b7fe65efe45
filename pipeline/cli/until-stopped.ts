/** Runs a started job until it ends, Ctrl-C / SIGTERM stops it, or `--for` runs out. */
import type { Clock } from '../time/clock.ts';

export async function untilStopped(
  running: { readonly done: Promise<void>; stop(): unknown },
  clock: Clock,
  forMs?: number,
): Promise<void> {
  const stop = () => void running.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const cancel = forMs !== undefined ? clock.schedule(clock.now() + forMs, stop) : undefined;
  try {
    await running.done;
  } finally {
    cancel?.();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
