/**
 * A source fed by callbacks: chat messages and EventSub notifications arrive when Twitch sends
 * them, not when the runtime polls, so they wait here until it does. Twitch cannot be paused, so
 * the queue is bounded by dropping the oldest records once `capacity` is reached — counted, so
 * that the loss shows in metrics — rather than by pushing back.
 *
 * A live feed cannot be re-read: positions only count records, and a restore starts at "now".
 */
import type { Poll, Source, SourceReader } from '../../pipeline/types.ts';

/**
 * Records held while the runtime is busy. At Twitch's busiest (a few thousand chat messages a
 * second across the top channels) this is half a minute of chat; more only delays noticing that
 * the job cannot keep up, less drops records on an ordinary GC pause.
 */
export const DEFAULT_QUEUE_CAPACITY = 100_000;

export interface LiveQueue<T> extends Source<T> {
  push(record: T): void;
  /** Records dropped because the queue was full. */
  dropped(): number;
  /** Records pushed so far. */
  pushed(): number;
}

export function liveQueue<T>(name: string, capacity = DEFAULT_QUEUE_CAPACITY): LiveQueue<T> {
  let buffer: T[] = [];
  let head = 0;
  let dropped = 0;
  let pushed = 0;
  let read = 0;
  let wake: (() => void) | undefined;
  const partition = name;
  return {
    describe: () => `live ${name}`,
    push(record) {
      pushed++;
      if (buffer.length - head >= capacity) {
        head++;
        dropped++;
      }
      buffer.push(record);
      const w = wake;
      wake = undefined;
      w?.();
    },
    dropped: () => dropped,
    pushed: () => pushed,
    open(): SourceReader<T> {
      return {
        partitions: () => [partition],
        poll(maxRecords): Poll<T> {
          const available = buffer.length - head;
          if (available === 0) {
            return { kind: 'idle', ready: new Promise<void>((resolve) => (wake = resolve)) };
          }
          const n = Math.min(available, maxRecords);
          const records = buffer.slice(head, head + n);
          head += n;
          // Compact once the consumed prefix dominates, so the array does not grow forever.
          if (head > 4096 && head * 2 > buffer.length) {
            buffer = buffer.slice(head);
            head = 0;
          }
          read += n;
          return { kind: 'records', partition, records, position: read };
        },
        close() {
          const w = wake;
          wake = undefined;
          w?.();
        },
      };
    },
  };
}
