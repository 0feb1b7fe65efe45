/**
 * Puts chat on a `chat-messages` topic: recorded or generated chat lines, encoded as
 * `chat-messages` records keyed by broadcaster id, sent in large batches by one idempotent
 * producer. What `scout produce`, `scout bench kafka` and the Kafka tests fill their topics with.
 */

import type { ChatLine } from '../../schemas/chat-line.ts';
import { chatMessageOf } from '../../schemas/chat-message.ts';
import type { AvroSerde } from '../../schemas/serde.ts';
import { keyOf, topicSchema } from '../../schemas/topics.ts';
import type { ConnectionOptions, KafkaDriver, OutgoingRecord } from './driver.ts';

export interface ProduceChatOptions extends ConnectionOptions {
  readonly driver: KafkaDriver;
  readonly serde: AvroSerde;
  /** The topic's name on the broker (default chat-messages). */
  readonly topic?: string;
  /** Partitions of the topic when it has to be created (default 8). */
  readonly partitions?: number;
  /** Records per send (default 10,000). */
  readonly batch?: number;
  /** Called after every send with the records sent so far. */
  readonly progress?: (sent: number) => void;
}

/** Sends every line; resolves with how many once the broker has acknowledged all of them. */
export async function produceChat(lines: Iterable<ChatLine>, options: ProduceChatOptions): Promise<number> {
  const topic = options.topic ?? 'chat-messages';
  const admin = options.driver.admin(options);
  const producer = options.driver.producer(options);
  try {
    await admin.createTopics([{ topic, partitions: options.partitions ?? 8 }]);
    const encoder = await options.serde.encoder(topic, topicSchema('chat-messages'));
    await producer.connect();
    const batch = options.batch ?? 10_000;
    let pending: OutgoingRecord[] = [];
    let sent = 0;
    let seq = 0;
    for (const line of lines) {
      const message = chatMessageOf(line, seq++);
      pending.push({ key: keyOf(message), value: encoder.encode(message) });
      if (pending.length >= batch) {
        await producer.send(topic, pending);
        sent += pending.length;
        pending = [];
        options.progress?.(sent);
      }
    }
    await producer.send(topic, pending);
    sent += pending.length;
    options.progress?.(sent);
    return sent;
  } finally {
    await producer.close().catch(() => {});
    await admin.close().catch(() => {});
  }
}
