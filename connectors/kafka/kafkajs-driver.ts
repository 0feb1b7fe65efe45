/**
 * The kafkajs driver: pure JavaScript, nothing to build, the default. kafkajs cannot tell a
 * consumer which partitions it is about to lose (no revoke callback), so `revoking` is never
 * called; the new assignment arrives after the rebalance through the GROUP_JOIN event, and the
 * partition tasks' locks on their state keep a new owner from starting before the old one let go
 * (connectors/kafka/tasks.ts).
 */
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type {
  AdminDriver,
  ConnectionOptions,
  ConsumerDriver,
  ConsumerListener,
  ConsumerOptions,
  GroupOffset,
  KafkaDriver,
  KafkaRecord,
  OutgoingRecord,
  ProducerDriver,
  ProducerOptions,
  Transaction,
} from './driver.ts';

function client(options: ConnectionOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'streamscout',
    brokers: [...options.brokers],
    // kafkajs logs retried errors too (a coordinator still loading); what it cannot recover from
    // reaches us as a rejected call or a crash event, and is reported there in one line.
    logLevel: logLevel.NOTHING,
    // A broker that is down should fail a command in seconds, not after kafkajs's minute of retries.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    connectionTimeout: 3_000,
  };
  return new Kafka(config);
}

class KafkajsConsumer implements ConsumerDriver {
  private readonly consumer: Consumer;
  private readonly topic: string;

  constructor(private readonly options: ConsumerOptions) {
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.topic = options.topic;
    this.consumer = client(options).consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: Math.max(sessionTimeout, 30_000),
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
  }

  async start(listener: ConsumerListener): Promise<void> {
    const { consumer, topic } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[topic] ?? [];
      listener.assigned([...assigned].sort((a, b) => a - b)).catch((error: Error) => listener.failed(error));
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) listener.failed(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        const messages = batch.messages;
        const records = new Array<KafkaRecord>(messages.length);
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i]!;
          records[i] = {
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
          };
        }
        await listener.batch(batch.partition, records);
      },
    });
  }

  seek(partition: number, offset: number): void {
    this.consumer.seek({ topic: this.topic, partition, offset: String(offset) });
  }

  async commit(offsets: ReadonlyMap<number, number>): Promise<void> {
    const list = [...offsets].map(([partition, offset]) => ({
      topic: this.topic,
      partition,
      offset: String(offset),
    }));
    if (list.length > 0) await this.consumer.commitOffsets(list);
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}

class KafkajsProducer implements ProducerDriver {
  private readonly producer: Producer;
  private readonly transactional: boolean;

  constructor(options: ProducerOptions) {
    const transactional = options.transactionalId !== undefined;
    this.transactional = transactional;
    this.producer = client(options).producer({
      idempotent: transactional || (options.idempotent ?? true),
      ...(transactional ? { transactionalId: options.transactionalId, maxInFlightRequests: 1 } : {}),
      // The partitioner of Java's client (murmur2 of the key): the same key lands in the same
      // partition whichever driver or language produced it.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    if (this.transactional) {
      // kafkajs registers the transactional id with the broker only when a first transaction
      // begins; an empty one, ended at once, does it now, fencing any earlier producer of this id
      // and aborting its open transaction (as librdkafka's initTransactions does).
      await (await this.producer.transaction()).abort();
    }
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({ topic, acks: -1, messages: records.map(toMessage) });
  }

  async transaction(work: (tx: Transaction) => Promise<void>): Promise<void> {
    const tx = await this.producer.transaction();
    try {
      await work({
        send: async (topic, records) => {
          if (records.length > 0) await tx.send({ topic, acks: -1, messages: records.map(toMessage) });
        },
        sendOffsets: async (groupId, topic, offsets) => {
          const partitions = [...offsets].map(([partition, o]) => ({
            partition,
            offset: String(o.offset),
            ...(o.metadata != null ? { metadata: o.metadata } : {}),
          }));
          await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions }] });
        },
      });
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => {});
      throw error;
    }
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

function toMessage(r: OutgoingRecord) {
  return { key: r.key, value: r.value, ...(r.partition !== undefined ? { partition: r.partition } : {}) };
}

class KafkajsAdmin implements AdminDriver {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(options: ConnectionOptions) {
    this.admin = client(options).admin();
  }

  private ready(): Promise<void> {
    this.connected ??= this.admin.connect();
    return this.connected;
  }

  async createTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
    await this.ready();
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
    });
  }

  async partitions(topic: string): Promise<number[]> {
    await this.ready();
    const existing = await this.admin.listTopics();
    if (!existing.includes(topic)) throw new Error(`topic "${topic}" does not exist`);
    const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]!.partitions.map((p) => p.partitionId).sort((a, b) => a - b);
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    await this.ready();
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  async committed(groupId: string, topic: string): Promise<Map<number, GroupOffset>> {
    await this.ready();
    const [entry] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, GroupOffset>();
    for (const p of entry?.partitions ?? []) {
      const offset = Number(p.offset);
      if (offset >= 0) out.set(p.partition, { offset, metadata: p.metadata ?? null });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

export const kafkajsDriver: KafkaDriver = {
  name: 'kafkajs',
  consumer: (options) => new KafkajsConsumer(options),
  producer: (options) => new KafkajsProducer(options),
  admin: (options) => new KafkajsAdmin(options),
};
