/**
 * Sources and sinks for tests: fixed records per partition, and sinks that collect what reaches
 * them or that write as slowly as a test wants.
 */
import type { Awaitable, Poll, Sink, SinkWriter, Source, SourceReader } from '../types.ts';

/**
 * A finite source: each partition yields its records in order, then ends. Partitions are read
 * least-read first, so resuming from positions reproduces the interleaving of an uninterrupted run.
 * @example p.from(fromPartitions({ a: [m1, m2], b: [m3] }), { timestamp: (m) => m.ts })
 */
export function fromPartitions<T>(
  partitions: Readonly<Record<string, readonly T[]>>,
): Source<T> & { polls: number } {
  const source = {
    polls: 0,
    describe: () => `test partitions (${Object.keys(partitions).join(', ')})`,
    open(ctx: { startPositions?: ReadonlyMap<string, string | number> }): SourceReader<T> {
      const ids = Object.keys(partitions);
      const offsets = new Map(ids.map((id) => [id, Number(ctx.startPositions?.get(id) ?? 0)]));
      const ended = new Set<string>();
      return {
        partitions: () => ids,
        poll(max: number): Poll<T> {
          source.polls++;
          // The partition to read follows from the positions alone: an exhausted one ends first, else
          // the least-read one (ties in declaration order), which interleaves full batches like a
          // round robin. A round-robin turn would not be part of the positions, so a job resumed
          // from a checkpoint would interleave partitions (and move its watermark) differently from
          // an uninterrupted run.
          let pick: string | undefined;
          for (const id of ids) {
            if (ended.has(id)) continue;
            const from = offsets.get(id)!;
            if (from >= partitions[id]!.length) {
              ended.add(id);
              return { kind: 'partition-end', partition: id };
            }
            if (pick === undefined || from < offsets.get(pick)!) pick = id;
          }
          if (pick === undefined) return { kind: 'end' };
          const from = offsets.get(pick)!;
          const records = partitions[pick]!.slice(from, from + max);
          offsets.set(pick, from + records.length);
          return { kind: 'records', partition: pick, records, position: from + records.length };
        },
        close: () => {},
      };
    },
  };
  return source;
}

/** A one-partition finite source. */
export function fromArray<T>(records: readonly T[]): Source<T> {
  return fromPartitions({ '0': records });
}

/** Collects every record (and its event time) that reaches it. */
export interface CollectSink<T> extends Sink<T> {
  readonly records: T[];
  readonly timestamps: number[];
}

export function collect<T>(): CollectSink<T> {
  const records: T[] = [];
  const timestamps: number[] = [];
  return {
    records,
    timestamps,
    describe: () => 'collect (test)',
    open: (): SinkWriter<T> => ({
      write(batch, ts) {
        for (let i = 0; i < batch.length; i++) {
          records.push(batch[i]!);
          timestamps.push(ts[i]!);
        }
      },
      close() {},
    }),
  };
}

/**
 * A sink whose every write waits for `delay()` to resolve, e.g. a `ManualClock.sleep`, so a test
 * controls how fast it drains.
 */
export function slowSink<T>(delay: () => Promise<void>): Sink<T> & { written: number; writes: number } {
  const sink = {
    written: 0,
    writes: 0,
    describe: () => 'slow sink (test)',
    open: (): SinkWriter<T> => ({
      write(batch: readonly T[]): Awaitable<void> {
        sink.writes++;
        return delay().then(() => {
          sink.written += batch.length;
        });
      },
      close() {},
    }),
  };
  return sink;
}
