/**
 * A job's output to a Kafka topic: each record Avro-encoded with the topic's registered schema,
 * keyed by its broadcaster id (so a channel's records keep their order in one partition).
 *
 * Two ways out, one writer:
 * - at-least-once, through the process's idempotent producer: writes are batched, and `flush` —
 *   called at every checkpoint — returns once the broker has acknowledged everything written, so a
 *   checkpoint's outputs are on the topic before its offsets are committed (duplicates only after
 *   a crash);
 * - exactly-once, through the task's transaction (exactly-once.ts): nothing is sent while the job
 *   runs; `flush` hands the checkpoint's records to the transaction, which sends them with the
 *   group's offsets in one Kafka transaction once the checkpoint is durable. A record written
 *   after the checkpoint waits for the next one; what a task held when it was stopped or killed is
 *   dropped, and its next owner produces it again from the last committed checkpoint.
 */
import type { Sink, SinkWriter } from '../../pipeline/types.ts';
import type { Encoder } from '../../schemas/serde.ts';
import { keyOf } from '../../schemas/topics.ts';
import type { OutgoingRecord, ProducerDriver } from './driver.ts';
import type { TaskTransaction } from './exactly-once.ts';

/** Records buffered before a write sends them without waiting for the checkpoint. */
export const SINK_BATCH = 1_000;
/**
 * Bytes of values per send. kafkajs sends a partition's records of one call as one batch, which
 * the broker refuses above `message.max.bytes` (1 MB by default): clips carry an SVG of a few KB.
 */
export const SINK_BATCH_BYTES = 256 * 1024;

/** Sends `records` to `topic` in calls of at most SINK_BATCH_BYTES of values each (one record always goes). */
export async function sendInBatches(
  send: (topic: string, records: readonly OutgoingRecord[]) => Promise<void>,
  topic: string,
  records: readonly OutgoingRecord[],
): Promise<void> {
  let from = 0;
  while (from < records.length) {
    let to = from;
    let bytes = 0;
    while (to < records.length && (to === from || bytes + valueBytes(records[to]!) <= SINK_BATCH_BYTES)) {
      bytes += valueBytes(records[to]!);
      to++;
    }
    await send(topic, records.slice(from, to));
    from = to;
  }
}

const valueBytes = (r: OutgoingRecord) => r.value?.length ?? 0;

/** Where a sink's records go: a producer (at-least-once) or a task's transaction (exactly-once). */
export type KafkaSinkOutput = ProducerDriver | TaskTransaction;

/**
 * `encoder` may be a promise of one: its schema is registered (or looked up) when the sink opens.
 * `output` may be a function: it is asked when the sink opens (a task's transaction exists only then).
 */
export function kafkaSink<T>(
  output: KafkaSinkOutput | (() => KafkaSinkOutput),
  topic: string,
  encoder: Encoder<T> | (() => Promise<Encoder<T>>),
): Sink<T> {
  return {
    describe: () => `kafka ${topic}`,
    open: async (): Promise<SinkWriter<T>> =>
      new KafkaWriter(
        typeof output === 'function' ? output() : output,
        typeof encoder === 'function' ? await encoder() : encoder,
      ),
  };
}

const isTransaction = (output: KafkaSinkOutput): output is TaskTransaction => 'stage' in output;

class KafkaWriter<T> implements SinkWriter<T> {
  private pending: OutgoingRecord[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly output: KafkaSinkOutput,
    private readonly encoder: Encoder<T>,
  ) {}

  write = (records: readonly T[]): Promise<void> | undefined => {
    for (const r of records) {
      const value = this.encoder.encode(r);
      this.pendingBytes += value.length;
      this.pending.push({ key: keyOf(r), value });
    }
    if (isTransaction(this.output)) return undefined;
    return this.pending.length >= SINK_BATCH || this.pendingBytes >= SINK_BATCH_BYTES
      ? this.send(this.output)
      : undefined;
  };

  flush(): Promise<void> {
    if (isTransaction(this.output)) {
      this.output.stage(this.encoder.topic, this.take());
      return Promise.resolve();
    }
    return this.send(this.output);
  }

  private take(): OutgoingRecord[] {
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }

  private send(producer: ProducerDriver): Promise<void> {
    return sendInBatches((topic, records) => producer.send(topic, records), this.encoder.topic, this.take());
  }

  close(): Promise<void> {
    // Exactly-once: what no checkpoint covers is not this task's to publish any more.
    if (isTransaction(this.output)) {
      this.take();
      return Promise.resolve();
    }
    return this.send(this.output);
  }
}
