/**
 * The ways a job's topics get bound. On the embedded default every topic is an in-process
 * partitioned topic of one `EmbeddedBroker`; a replay reads files and writes its main output to a
 * file; planning binds placeholders that only describe themselves.
 */
import { MemoryTopic } from '../../connectors/memory/memory-topic.ts';
import { memoryTopicSink } from '../../connectors/memory/memory-topic-sink.ts';
import { memoryTopicSource } from '../../connectors/memory/memory-topic-source.ts';
import type { Clipper } from '../../operators/clips/clipper.ts';
import type { Clock } from '../time/clock.ts';
import type { Sink, Source } from '../types.ts';
import type { JobContext } from './job.ts';

/** Partitions of an embedded topic: the in-process stand-in for a Kafka topic's partitions. */
export const EMBEDDED_PARTITIONS = 4;

/** The in-process topics of one `scout` process. */
export class EmbeddedBroker {
  private readonly topics = new Map<string, MemoryTopic<unknown>>();

  topic<T>(name: string): MemoryTopic<T> {
    let t = this.topics.get(name);
    if (t === undefined) {
      t = new MemoryTopic<unknown>(name, { partitions: EMBEDDED_PARTITIONS });
      this.topics.set(name, t);
    }
    return t as MemoryTopic<T>;
  }
}

export interface ContextOptions {
  readonly clock: Clock;
  readonly mode: 'live' | 'replay';
  readonly options?: Readonly<Record<string, string>>;
  /** Sources and sinks to use instead of the default binding, by topic. */
  readonly inputs?: ReadonlyMap<string, Source<unknown>>;
  readonly outputs?: ReadonlyMap<string, Sink<unknown>>;
  /** Table sinks by table name; tables not bound here get a sink that discards. */
  readonly stores?: ReadonlyMap<string, Sink<unknown>>;
  readonly clipper?: Clipper;
}

/** The sink of a table when the run has no database: records are counted (in metrics) and dropped. */
export function discardSink<T>(what: string): Sink<T> {
  return {
    describe: () => `${what} (not stored: no database in this run)`,
    open: () => ({ write: () => {}, close: () => {} }),
  };
}

/** Binds topics to the broker's in-process topics, except those overridden. */
export function embeddedContext(broker: EmbeddedBroker, options: ContextOptions, group = 'job'): JobContext {
  return {
    mode: options.mode,
    clock: options.clock,
    options: options.options ?? {},
    input<T>(topic: string): Source<T> {
      return (
        (options.inputs?.get(topic) as Source<T> | undefined) ??
        memoryTopicSource<T>(broker.topic<T>(topic), { group })
      );
    },
    output<T>(topic: string): Sink<T> {
      return (
        (options.outputs?.get(topic) as Sink<T> | undefined) ?? memoryTopicSink<T>(broker.topic<T>(topic))
      );
    },
    store<T>(table: string): Sink<T> {
      return (options.stores?.get(table) as Sink<T> | undefined) ?? discardSink<T>(`table ${table}`);
    },
    ...(options.clipper ? { clipper: options.clipper } : {}),
  };
}

/** Placeholders for `scout plan`: they describe the topic and cannot be opened. */
export function planContext(clock: Clock, options: Readonly<Record<string, string>> = {}): JobContext {
  const placeholder = (what: string) => ({
    describe: () => what,
    open: () => {
      throw new Error(`${what} is a placeholder for planning`);
    },
  });
  return {
    mode: 'live',
    clock,
    options,
    input: <T>(topic: string) => placeholder(`topic ${topic}`) as Source<T>,
    output: <T>(topic: string) => placeholder(`topic ${topic}`) as Sink<T>,
    store: <T>(table: string) => placeholder(`table ${table}`) as Sink<T>,
  };
}
