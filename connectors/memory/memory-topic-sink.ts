/**
 * Writes records to a `MemoryTopic`. Records append synchronously while their partitions have
 * room; the first record that must wait for a lagging consumer turns the write into a promise, so
 * the runtime pauses its sources instead of the topic growing without bound.
 */
import type { Awaitable, Sink, SinkWriter } from '../../pipeline/types.ts';
import type { MemoryTopic } from './memory-topic.ts';

export interface MemoryTopicSinkOptions<T> {
  /** Partition key of a record; without it records go round-robin over the partitions. */
  readonly key?: (record: T) => string | number;
}

/**
 * A sink appending to `topic`, keyed by `key`.
 *
 * @example
 * const topic = new MemoryTopic<ChatLine>('chat-messages');
 * const sink = memoryTopicSink(topic, { key: (m) => m.broadcaster_login });
 */
export function memoryTopicSink<T>(topic: MemoryTopic<T>, options: MemoryTopicSinkOptions<T> = {}): Sink<T> {
  return {
    describe: () => topic.describe(),
    open: () => new MemoryTopicWriter(topic, options.key),
  };
}

class MemoryTopicWriter<T> implements SinkWriter<T> {
  /** Set while a write waits for capacity; later writes queue behind it to keep record order. */
  private pending: Promise<void> | undefined;

  constructor(
    private readonly topic: MemoryTopic<T>,
    private readonly key: ((record: T) => string | number) | undefined,
  ) {}

  write(records: readonly T[]): Awaitable<void> {
    if (this.pending !== undefined) return this.queue(this.pending.then(() => this.appendFrom(records, 0)));
    const result = this.appendFrom(records, 0);
    return result === undefined ? undefined : this.queue(result);
  }

  flush(): Awaitable<void> {
    return this.pending;
  }

  close(): Awaitable<void> {
    return this.pending;
  }

  /** Appends what fits now; returns a promise only if a record had to wait. */
  private appendFrom(records: readonly T[], start: number): Promise<void> | undefined {
    const { topic, key } = this;
    for (let i = start; i < records.length; i++) {
      const record = records[i]!;
      const k = key?.(record);
      if (topic.tryAppend(record, k) === undefined) {
        return topic.appendAsync(record, k).then(() => this.appendFrom(records, i + 1));
      }
    }
    return undefined;
  }

  private queue(work: Promise<void>): Promise<void> {
    const pending = work.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }
}
