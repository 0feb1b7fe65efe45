/**
 * Records a job cannot read go to `<topic>.dlq`, with where they came from (partition, offset,
 * timestamp), why they failed, and their original key and value bytes, so nothing is lost and
 * someone can replay them once the cause is fixed. The job goes on. At-least-once, the dead
 * letters of a poll are acknowledged by the broker before the poll's records reach the job, so
 * their offsets are never committed before they are safe; exactly-once, they are held for the
 * transaction of the checkpoint that commits their offsets (exactly-once.ts).
 */
import type { DeadLetter } from '../../schemas/avro-types.ts';
import type { Encoder } from '../../schemas/serde.ts';
import { DEAD_LETTER_SUFFIX } from '../../schemas/topics.ts';
import type { KafkaRecord, OutgoingRecord, ProducerDriver } from './driver.ts';

/** Puts dead letters on their way; resolves once they are as safe as the offsets they were read at. */
export type DeliverDeadLetters = (
  topic: string,
  letters: ReadonlyArray<{ readonly offset: number; readonly record: OutgoingRecord }>,
) => Promise<void>;

/** At-least-once delivery: sent now, acknowledged before the job sees the poll. */
export function sendDeadLetters(producer: ProducerDriver): DeliverDeadLetters {
  return (topic, letters) =>
    producer.send(
      topic,
      letters.map((l) => l.record),
    );
}

export function deadLetterTopic(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

export class DeadLetters {
  /** Dead letters written by this process. */
  written = 0;
  private reported = false;

  constructor(
    private readonly topic: string,
    private readonly job: string,
    private readonly deliver: DeliverDeadLetters,
    private readonly encoder: Encoder<DeadLetter>,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  async write(failed: ReadonlyArray<{ record: KafkaRecord; error: string }>): Promise<void> {
    if (failed.length === 0) return;
    const failedAt = this.now();
    const out = failed.map(({ record, error }) => ({
      offset: record.offset,
      record: {
        key: record.key,
        value: this.encoder.encode({
          topic: this.topic,
          partition: record.partition,
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key,
          value: record.value,
          error,
          job: this.job,
          failed_at: failedAt,
        }),
      },
    }));
    await this.deliver(this.encoder.topic, out);
    this.written += failed.length;
    if (!this.reported) {
      this.reported = true;
      const first = failed[0]!;
      this.log(
        `${this.topic}[${first.record.partition}]@${first.record.offset}: ${first.error}; sent to ${this.encoder.topic} (later ones are counted, not logged)`,
      );
    }
  }
}
