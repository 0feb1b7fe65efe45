/**
 * The source of one partition task: reads its partition's feed, decodes each value with the
 * topic's reader schema (resolved against whichever schema the record was written with), maps it to
 * the job's record type, and sends what does not decode to the dead-letter topic. Its position is
 * the offset of the next record; a restored task seeks there, and after a checkpoint is durable the
 * position is committed to the consumer group.
 */
import type { Poll, Source, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import { DecodeError, type Decoder } from '../../schemas/serde.ts';
import type { DeadLetters } from './dead-letters.ts';
import type { KafkaRecord } from './driver.ts';
import type { PartitionFeed } from './partition-feed.ts';

export interface PartitionSourceOptions<W, T> {
  readonly topic: string;
  readonly feed: PartitionFeed;
  readonly decoder: Decoder<W>;
  /** From the decoded record to the job's record (identity when they are the same). */
  readonly map?: (record: W) => T;
  readonly deadLetters: DeadLetters;
  /** Moves the consumer's fetch position. */
  seek(partition: number, offset: number): void;
  /** Commits the group's offset of the partition (the next record to read) for checkpoint `checkpointId`. */
  commit(partition: number, offset: number, checkpointId: number): Promise<void>;
}

export function partitionSource<W, T = W>(options: PartitionSourceOptions<W, T>): Source<T> {
  const { topic, feed } = options;
  return {
    describe: () => `kafka ${topic}[${feed.partition}]`,
    open(ctx): SourceReader<T> {
      const start = ctx.startPositions?.get(String(feed.partition));
      if (start !== undefined) {
        const offset = Number(start);
        feed.seek(offset);
        options.seek(feed.partition, offset);
      }
      return new PartitionReader(options);
    },
  };
}

class PartitionReader<W, T> implements SourceReader<T> {
  private readonly id: string;

  constructor(private readonly o: PartitionSourceOptions<W, T>) {
    this.id = String(o.feed.partition);
  }

  partitions(): readonly string[] {
    return [this.id];
  }

  poll(maxRecords: number): Poll<T> | Promise<Poll<T>> {
    const fetched = this.o.feed.take(maxRecords);
    if (fetched.length === 0) return { kind: 'idle', ready: this.o.feed.ready() };
    const n = fetched.length;
    const values = new Array<Buffer | null>(n);
    for (let i = 0; i < n; i++) values[i] = fetched[i]!.value;
    const preparing = this.o.decoder.prepare(values);
    if (preparing !== undefined) return preparing.then(() => this.decode(fetched));
    return this.decode(fetched);
  }

  private decode(fetched: readonly KafkaRecord[]): Poll<T> | Promise<Poll<T>> {
    const { decoder, map } = this.o;
    // Sized up front; records that do not decode leave it shorter.
    const records = new Array<T>(fetched.length);
    let kept = 0;
    let failed: Array<{ record: KafkaRecord; error: string }> | undefined;
    for (let i = 0; i < fetched.length; i++) {
      const r = fetched[i]!;
      try {
        const decoded = decoder.decode(r.value);
        records[kept++] = map ? map(decoded) : (decoded as unknown as T);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        failed ??= [];
        failed.push({ record: r, error: error.message });
      }
    }
    records.length = kept;
    const poll: Poll<T> = {
      kind: 'records',
      partition: this.id,
      records,
      position: fetched[fetched.length - 1]!.offset + 1,
    };
    if (failed === undefined) return poll;
    return this.o.deadLetters.write(failed).then(() => poll);
  }

  async commit(positions: ReadonlyMap<string, SourcePosition>, checkpointId: number): Promise<void> {
    const offset = positions.get(this.id);
    if (offset !== undefined) await this.o.commit(this.o.feed.partition, Number(offset), checkpointId);
  }

  close(): void {}
}
