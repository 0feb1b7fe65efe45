/**
 * A job's output to a Kafka topic: each record Avro-encoded with the topic's registered schema,
 * keyed by its broadcaster id (so a channel's records keep their order in one partition), sent by
 * the process's idempotent producer. Writes are batched; `flush` — called at every checkpoint —
 * returns once the broker has acknowledged everything written, so a checkpoint's outputs are on the
 * topic before its offsets are committed (at-least-once; duplicates only after a crash).
 */
import type { Sink, SinkWriter } from '../../pipeline/types.ts';
import type { Encoder } from '../../schemas/serde.ts';
import { keyOf } from '../../schemas/topics.ts';
import type { OutgoingRecord, ProducerDriver } from './driver.ts';

/** Records buffered before a write sends them without waiting for the checkpoint. */
export const SINK_BATCH = 1_000;
/**
 * Bytes of values per send. kafkajs sends a partition's records of one call as one batch, which
 * the broker refuses above `message.max.bytes` (1 MB by default): clips carry an SVG of a few KB.
 */
export const SINK_BATCH_BYTES = 256 * 1024;

/** `encoder` may be a promise of one: its schema is registered (or looked up) when the sink opens. */
export function kafkaSink<T>(
  producer: ProducerDriver,
  topic: string,
  encoder: Encoder<T> | (() => Promise<Encoder<T>>),
): Sink<T> {
  return {
    describe: () => `kafka ${topic}`,
    open: async (): Promise<SinkWriter<T>> =>
      new KafkaWriter(producer, typeof encoder === 'function' ? await encoder() : encoder),
  };
}

class KafkaWriter<T> implements SinkWriter<T> {
  private pending: OutgoingRecord[] = [];

  constructor(
    private readonly producer: ProducerDriver,
    private readonly encoder: Encoder<T>,
  ) {}

  private pendingBytes = 0;

  write = (records: readonly T[]): Promise<void> | undefined => {
    for (const r of records) {
      const value = this.encoder.encode(r);
      this.pendingBytes += value.length;
      this.pending.push({ key: keyOf(r), value });
    }
    return this.pending.length >= SINK_BATCH || this.pendingBytes >= SINK_BATCH_BYTES
      ? this.send()
      : undefined;
  };

  flush(): Promise<void> {
    return this.send();
  }

  private async send(): Promise<void> {
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let from = 0;
    while (from < out.length) {
      let to = from;
      let bytes = 0;
      while (to < out.length && (to === from || bytes + out[to]!.value!.length <= SINK_BATCH_BYTES)) {
        bytes += out[to]!.value!.length;
        to++;
      }
      await this.producer.send(this.encoder.topic, out.slice(from, to));
      from = to;
    }
  }

  close(): Promise<void> {
    return this.send();
  }
}
