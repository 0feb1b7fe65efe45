/**
 * The monitor's poll of the top live streams as a source: one `TopPoll` record every
 * `intervalMs` of the injected clock, the first one at start. A failed poll (after the Helix
 * client's own retries) is skipped and reported; the next one runs on schedule. Skipping is safe
 * because polls drive event time: no poll, no watermark, so nothing goes offline for lack of news.
 */
import type { TopPoll, TopStream } from '../../operators/monitor/top-poll.ts';
import type { Clock } from '../../pipeline/time/clock.ts';
import type { Poll, Source, SourceReader } from '../../pipeline/types.ts';

export interface TopStreamsSourceOptions {
  /** Reads the top list (the Helix client's `topStreams`). */
  readonly fetchTop: (limit: number) => Promise<readonly TopStream[]>;
  /** Broadcaster ids whose clipping is disabled (from the `streamers` table); default none. */
  readonly excluded?: () => Promise<readonly number[]>;
  /** Default 2 minutes (the highlights spec). */
  readonly intervalMs?: number;
  /** Streams per poll; default 100 (one Get Streams page). */
  readonly limit?: number;
  /** Called with a one-line reason when a poll fails. */
  readonly onError?: (message: string) => void;
}

export const DEFAULT_POLL_INTERVAL_MS = 120_000;
export const DEFAULT_TOP_LIMIT = 100;

export function topStreamsSource(options: TopStreamsSourceOptions): Source<TopPoll> {
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const limit = options.limit ?? DEFAULT_TOP_LIMIT;
  if (!(intervalMs > 0)) throw new RangeError(`poll interval must be > 0 ms, got ${intervalMs}`);
  return {
    describe: () => `twitch top ${limit} streams every ${intervalMs / 1000} s`,
    open(ctx): SourceReader<TopPoll> {
      const clock: Clock = ctx.clock;
      let nextAt = clock.now();
      let polls = 0;
      let cancel: (() => void) | undefined;
      let wake: (() => void) | undefined;
      return {
        partitions: () => ['top'],
        async poll(): Promise<Poll<TopPoll>> {
          const now = clock.now();
          if (now < nextAt) {
            return {
              kind: 'idle',
              ready: new Promise<void>((resolve) => {
                wake = resolve;
                cancel = clock.schedule(nextAt, resolve);
              }),
            };
          }
          // Polls keep their schedule: a slow poll does not push the next one later.
          while (nextAt <= now) nextAt += intervalMs;
          try {
            const [streams, excluded] = await Promise.all([
              options.fetchTop(limit),
              options.excluded ? options.excluded() : Promise.resolve([]),
            ]);
            polls++;
            return {
              kind: 'records',
              partition: 'top',
              records: [{ collected_at: now, streams, excluded }],
              position: polls,
            };
          } catch (error) {
            options.onError?.(
              `top streams poll failed: ${error instanceof Error ? error.message : String(error)}`,
            );
            return { kind: 'idle', ready: Promise.resolve() };
          }
        },
        close() {
          cancel?.();
          wake?.();
        },
      };
    },
  };
}
