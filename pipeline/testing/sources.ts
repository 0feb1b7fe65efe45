/**
 * Sources and sinks for tests: fixed records per partition, and sinks that collect what reaches
 * them or that write as slowly as a test wants.
 */
import type { Awaitable, Poll, Sink, SinkWriter, Source, SourceReader } from '../types.ts';

/**
 * A finite source: each partition yields its records in order, then ends.
 * @example p.from(fromPartitions({ a: [m1, m2], b: [m3] }), { timestamp: (m) => m.ts })
 */
export function fromPartitions<T>(partitions: Readonly<Record<string, readonly T[]>>): Source<T> & { polls: number } {
  const source = {
    polls: 0,
    describe: () => `test partitions (${Object.keys(partitions).join(', ')})`,
    open(ctx: { startPositions?: ReadonlyMap<string, string | number> }): SourceReader<T> {
      const ids = Object.keys(partitions);
      const offsets = new Map(ids.map((id) => [id, Number(ctx.startPositions?.get(id) ?? 0)]));
      const ended = new Set<string>();
      let turn = 0;
      return {
        partitions: () => ids,
        poll(max: number): Poll<T> {
          source.polls++;
          for (let i = 0; i < ids.length; i++) {
            const id = ids[(turn + i) % ids.length]!;
            if (ended.has(id)) continue;
            turn = (turn + i + 1) % ids.length;
            const all = partitions[id]!;
            const from = offsets.get(id)!;
            if (from >= all.length) {
              ended.add(id);
              return { kind: 'partition-end', partition: id };
            }
            const records = all.slice(from, from + max);
            offsets.set(id, from + records.length);
            return { kind: 'records', partition: id, records, position: from + records.length };
          }
          return { kind: 'end' };
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
