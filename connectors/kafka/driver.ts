/**
 * The one interface both Kafka drivers implement — kafkajs (pure JavaScript, the default) and
 * node-rdkafka (librdkafka, an optional native dependency) — so that the sources, sinks and the
 * partition tasks above them never know which one runs. Records are raw bytes here; Avro is the
 * serde's business (schemas/serde.ts).
 *
 * The consumer is push-shaped, because both libraries are: the driver hands each fetched batch of
 * one partition to `onBatch` and waits for it before handing that partition more, which is how
 * backpressure reaches the fetcher. Offsets are numbers (safe up to 2^53, a partition would need
 * to take a million records a second for 285 years to pass it).
 */

/** One record as fetched. */
export interface KafkaRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The record's timestamp, epoch ms (create time unless the topic says log-append time). */
  readonly timestamp: number;
}

/** One record to produce. */
export interface OutgoingRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  /** Set to pin the partition; otherwise the key decides (murmur2, as Java's and kafkajs's). */
  readonly partition?: number;
}

export interface ConnectionOptions {
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  /** Names the client in the broker's logs and metrics. */
  readonly clientId?: string;
}

export interface ConsumerOptions extends ConnectionOptions {
  readonly groupId: string;
  readonly topic: string;
  /** Where a partition with no committed offset starts: the earliest record (default) or only new ones. */
  readonly fromBeginning?: boolean;
  /** How long the group waits for a silent member before giving its partitions away (default 10 s). */
  readonly sessionTimeoutMs?: number;
}

export interface ConsumerListener {
  /**
   * The whole new assignment after a rebalance (also the first one). Partitions missing from it
   * were revoked; the driver has already called `revoking` for them where it can tell in advance.
   */
  assigned(partitions: readonly number[]): Promise<void>;
  /**
   * Partitions about to be taken away, before the group moves them (node-rdkafka tells; kafkajs
   * does not, and calls `assigned` afterwards only). The driver waits for the returned promise.
   */
  revoking(partitions: readonly number[]): Promise<void>;
  /** Records of one partition, in offset order. The driver fetches that partition no further until this resolves. */
  batch(partition: number, records: KafkaRecord[]): Promise<void>;
  /** A failure the driver cannot recover from; the job fails with it. */
  failed(error: Error): void;
}

export interface ConsumerDriver {
  /** Joins the group and starts fetching; resolves once running. */
  start(listener: ConsumerListener): Promise<void>;
  /** Makes the next fetch of `partition` start at `offset` (records already handed out before it may still arrive). */
  seek(partition: number, offset: number): void;
  /** Commits, per partition, the offset of the next record to read. */
  commit(offsets: ReadonlyMap<number, number>): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions extends ConnectionOptions {
  /** Idempotent (no duplicates from the producer's own retries); default true. */
  readonly idempotent?: boolean;
  /** Set for a transactional producer; its id must be stable across restarts of the same task. */
  readonly transactionalId?: string;
}

/** A consumer group's offset of one partition: the next record to read, and a note kept with it. */
export interface GroupOffset {
  readonly offset: number;
  /** Kafka's free-form commit metadata; the exactly-once sink keeps its checkpoint id there. */
  readonly metadata?: string | null;
}

/** What a transaction can do before it commits. */
export interface Transaction {
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /**
   * Commits a group's offsets of `topic` as part of the transaction: they count only if it
   * commits, together with what it sent.
   */
  sendOffsets(groupId: string, topic: string, offsets: ReadonlyMap<number, GroupOffset>): Promise<void>;
}

export interface ProducerDriver {
  /** Connects; a transactional producer also fences any earlier producer of its id (aborting its open transaction). */
  connect(): Promise<void>;
  /** Sends records to one topic; resolves once the broker has acknowledged all of them. */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** A transactional producer only: runs `work` in one transaction, committed at the end or aborted on error. */
  transaction?(work: (tx: Transaction) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface AdminDriver {
  /** Creates the topics that do not exist yet. */
  createTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void>;
  /** Partition ids of a topic (throws a clear error when it does not exist). */
  partitions(topic: string): Promise<number[]>;
  /** Per partition, the offset the next produced record will get. */
  endOffsets(topic: string): Promise<Map<number, number>>;
  /** Per partition, the group's committed offset and its metadata (partitions without one are absent). */
  committed(groupId: string, topic: string): Promise<Map<number, GroupOffset>>;
  close(): Promise<void>;
}

export interface KafkaDriver {
  readonly name: DriverName;
  consumer(options: ConsumerOptions): ConsumerDriver;
  producer(options: ProducerOptions): ProducerDriver;
  admin(options: ConnectionOptions): AdminDriver;
}

export const DRIVER_NAMES = ['kafkajs', 'rdkafka'] as const;

/** Why --exactly-once and the rdkafka driver do not go together (see exactly-once.ts). */
export const EXACTLY_ONCE_NEEDS_KAFKAJS =
  '--exactly-once needs --kafka-driver kafkajs: node-rdkafka cannot keep the checkpoint id with offsets committed in a transaction';
export type DriverName = (typeof DRIVER_NAMES)[number];

/** Loads a driver by name; node-rdkafka is optional and its absence is a one-line error. */
export async function loadDriver(name: string): Promise<KafkaDriver> {
  switch (name) {
    case 'kafkajs':
      return (await import('./kafkajs-driver.ts')).kafkajsDriver;
    case 'rdkafka':
      return (await import('./rdkafka-driver.ts')).loadRdkafkaDriver();
    default:
      throw new Error(`unknown Kafka driver "${name}" (drivers: ${DRIVER_NAMES.join(', ')})`);
  }
}
