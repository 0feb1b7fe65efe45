/**
 * The node-rdkafka driver: librdkafka underneath, for its revoke callback (kafkajs has none) and its
 * protocol handling. node-rdkafka is an optional native dependency (it builds librdkafka from
 * source), so it is loaded only when this driver is asked for, and its absence is a one-line error.
 *
 * Rebalances use the eager protocol (roundrobin): every rebalance revokes the whole assignment and
 * assigns a whole new one, the shape `revoking` and `assigned` describe. node-rdkafka hands the
 * rebalance callback over to the JavaScript thread asynchronously, so librdkafka has already returned
 * from it: it pauses the assignment and waits in the group protocol until `assign()`/`unassign()` is
 * called (heartbeats go on; the group waits up to max.poll.interval.ms). That lets the driver await
 * the listener: `revoking` completes before `unassign()` (and so before the group moves the
 * partitions), and `assigned` completes before `assign()`, so a seek made in it becomes the partition's
 * start offset instead of racing librdkafka's lookup of the committed one.
 *
 * Fetching is a loop of `consume(n)` calls. A partition whose batch the listener has not finished is
 * paused as soon as more records of it arrive; those (at most one consume call's worth) are held and
 * handed out next, so a slow listener stops the fetcher and memory stays bounded. Each consumer keeps
 * one thread of libuv's pool (4 by default) busy in `consume`: a process with more than two or three
 * consumers wants a larger UV_THREADPOOL_SIZE.
 */
import { createRequire } from 'node:module';
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

/**
 * node-rdkafka commits a transaction's offsets only through its own consumer object, and carries
 * no commit metadata, where the exactly-once sink keeps its checkpoint id.
 */
export const RDKAFKA_NO_TX_OFFSETS =
  'the rdkafka driver cannot commit offsets inside a transaction with their checkpoint id; use --kafka-driver kafkajs for --exactly-once';

// ---- The part of node-rdkafka this driver uses (typed here: the package may not be installed) ----

interface RdkafkaError extends Error {
  readonly code: number;
  readonly isFatal?: boolean;
}

type Callback<T> = (error: RdkafkaError | null | undefined, result: T) => void;

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset?: number;
}

interface RdMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key?: Buffer | string | null;
  readonly value: Buffer | null;
  readonly timestamp?: number;
}

interface Metadata {
  readonly topics: ReadonlyArray<{
    readonly name: string;
    readonly partitions: ReadonlyArray<{ readonly id: number; readonly leader: number }>;
  }>;
}

interface MetadataOptions {
  readonly topic?: string;
  readonly allTopics?: boolean;
  readonly timeout?: number;
}

type Config = Record<string, string | number | boolean | ((...args: never[]) => void)>;

interface RdClient {
  connect(options: MetadataOptions, cb: Callback<Metadata>): void;
  disconnect(cb: Callback<unknown>): void;
  getMetadata(options: MetadataOptions, cb: Callback<Metadata>): void;
  queryWatermarkOffsets(
    topic: string,
    partition: number,
    timeout: number,
    cb: Callback<{ lowOffset: number; highOffset: number }>,
  ): void;
  on(event: 'event.error', listener: (error: RdkafkaError) => void): void;
}

interface RdConsumer extends RdClient {
  subscribe(topics: string[]): void;
  setDefaultConsumeTimeout(ms: number): void;
  consume(count: number, cb: Callback<RdMessage[]>): void;
  assign(partitions: TopicPartition[]): void;
  unassign(): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  seek(partition: TopicPartition, timeout: number, cb: (error?: RdkafkaError | null) => void): void;
  commit(offsets: TopicPartition[]): void;
  committed(partitions: TopicPartition[], timeout: number, cb: Callback<TopicPartition[]>): void;
}

interface DeliveryReport {
  readonly topic: string;
  readonly opaque?: unknown;
}

interface RdProducer extends RdClient {
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key: Buffer | string | null,
    timestamp: number | null,
    opaque: unknown,
  ): void;
  setPollInterval(ms: number): void;
  on(event: 'event.error', listener: (error: RdkafkaError) => void): void;
  on(event: 'delivery-report', listener: (error: RdkafkaError | null, report: DeliveryReport) => void): void;
  initTransactions(timeout: number, cb: (error?: RdkafkaError | null) => void): void;
  beginTransaction(cb: (error?: RdkafkaError | null) => void): void;
  commitTransaction(timeout: number, cb: (error?: RdkafkaError | null) => void): void;
  abortTransaction(timeout: number, cb: (error?: RdkafkaError | null) => void): void;
}

interface RdAdmin {
  createTopic(
    topic: { topic: string; num_partitions: number; replication_factor: number },
    timeout: number,
    cb: (error?: RdkafkaError | null) => void,
  ): void;
  disconnect(): void;
}

interface Rdkafka {
  readonly KafkaConsumer: new (global: Config, topic: Config) => RdConsumer;
  readonly Producer: new (global: Config, topic: Config) => RdProducer;
  readonly AdminClient: { create(config: Config): RdAdmin };
}

function isRdkafka(value: unknown): value is Rdkafka {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.KafkaConsumer === 'function' &&
    typeof m.Producer === 'function' &&
    typeof m.AdminClient === 'object'
  );
}

/** librdkafka's error codes this driver tells apart. */
const ERR = {
  FATAL: -150,
  STATE: -172,
  REVOKE_PARTITIONS: -174,
  ASSIGN_PARTITIONS: -175,
  QUEUE_FULL: -184,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

/**
 * Records asked for per `consume` call. Between 1,000 and 10,000 throughput hardly changes (about
 * 120,000 records/s on two cores): node-rdkafka's conversion of each message to a JavaScript object
 * is the bottleneck, not the calls.
 */
const CONSUME_BATCH = 2_000;
/**
 * How long one `consume` call waits for a record. It holds a libuv thread-pool thread meanwhile,
 * and pause/seek bookkeeping happens between calls, so it is short.
 */
const CONSUME_TIMEOUT_MS = 100;
/** How often the producer collects delivery reports (librdkafka lingers 5 ms anyway). */
const POLL_INTERVAL_MS = 5;
const REQUEST_TIMEOUT_MS = 10_000;
/** How long `close()` waits for librdkafka before giving up on a clean leave. */
const CLOSE_TIMEOUT_MS = 15_000;
/** How long a seek retries while librdkafka has not started fetching a just-assigned partition. */
const SEEK_RETRY_MS = 30_000;

/** Loads node-rdkafka and returns the driver built on it. */
export async function loadRdkafkaDriver(): Promise<KafkaDriver> {
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)('node-rdkafka');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') {
      throw new Error(`cannot load node-rdkafka: ${(error as Error).message}`, { cause: error });
    }
    throw new Error(
      'the rdkafka driver needs the optional dependency node-rdkafka, which is not installed: run npm install (it builds librdkafka from source; install libzstd-dev, liblz4-dev and libsasl2-dev first)',
    );
  }
  if (!isRdkafka(loaded)) {
    throw new Error('node-rdkafka does not export KafkaConsumer, Producer and AdminClient');
  }
  const rdkafka = loaded;
  return {
    name: 'rdkafka',
    consumer: (options) => new RdkafkaConsumer(rdkafka, options),
    producer: (options) => new RdkafkaProducer(rdkafka, options),
    admin: (options) => new RdkafkaAdmin(rdkafka, options),
  };
}

// ---- Shared helpers ----

function connectionConfig(options: ConnectionOptions): Config {
  return {
    'metadata.broker.list': options.brokers.join(','),
    'client.id': options.clientId ?? 'streamscout',
    'allow.auto.create.topics': false,
  };
}

function rdkafkaError(what: string, error: Error): Error {
  return new Error(`${what}: ${error.message}`, { cause: error });
}

/** Runs a node-rdkafka call that takes a completion callback, as a promise. */
function call<T>(what: string, start: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, result) => (error ? reject(rdkafkaError(what, error)) : resolve(result)));
  });
}

function done(what: string, start: (cb: (error?: RdkafkaError | null) => void) => void): Promise<void> {
  return call<void>(what, (cb) => start((error) => cb(error, undefined)));
}

/** Resolves with `promise`, or after `ms` with `undefined` — for shutdowns that must not hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function disconnect(client: RdClient): Promise<unknown> {
  return within(
    call('disconnect', (cb) => client.disconnect(cb)).catch(() => {}),
    CLOSE_TIMEOUT_MS,
  );
}

/** When each warning was last written: librdkafka repeats them while the trouble lasts. */
const warned = new Map<string, number>();
const WARN_INTERVAL_MS = 30_000;

/** librdkafka reports most trouble (a broker down, a coordinator moving) and then recovers by itself. */
function warn(error: Error): void {
  const now = Date.now();
  if (now - (warned.get(error.message) ?? -WARN_INTERVAL_MS) < WARN_INTERVAL_MS) return;
  warned.set(error.message, now);
  process.stderr.write(`rdkafka: ${error.message}\n`);
}

function isFatal(error: RdkafkaError): boolean {
  return error.isFatal === true || error.code === ERR.FATAL;
}

function toRecord(m: RdMessage): KafkaRecord {
  const key = m.key ?? null;
  return {
    partition: m.partition,
    offset: m.offset,
    key: typeof key === 'string' ? Buffer.from(key) : key,
    value: m.value,
    timestamp: m.timestamp ?? -1,
  };
}

/** Fetched messages by partition, each list in fetch (= offset) order. */
function byPartition(messages: readonly RdMessage[]): Map<number, KafkaRecord[]> {
  const out = new Map<number, KafkaRecord[]>();
  for (const m of messages) {
    let list = out.get(m.partition);
    if (list === undefined) {
      list = [];
      out.set(m.partition, list);
    }
    list.push(toRecord(m));
  }
  return out;
}

const ascending = (a: number, b: number) => a - b;

type TopicMetadata = Metadata['topics'][number];

function findTopic(metadata: Metadata, topic: string): TopicMetadata | undefined {
  const found = metadata.topics.find((t) => t.name === topic);
  // A missing topic comes back with no partitions (and an error code node-rdkafka drops).
  return found !== undefined && found.partitions.length > 0 ? found : undefined;
}

// ---- Consumer ----

/** What the consumer keeps for one partition of its assignment. */
class PartitionState {
  /** `assign()` was called for it; before that a seek only sets where fetching starts. */
  assigned = false;
  startOffset: number | undefined;
  /** A batch handed to the listener has not resolved yet. */
  busy = false;
  /** Fetched while busy: handed out next. */
  held: KafkaRecord[] = [];
  /** Paused by this driver (librdkafka's application-level pause). */
  paused = false;
  /** The number of the latest seek; replies to older ones are ignored. */
  seeks = 0;
  /** From `seek()` until its reply: records of the partition are dropped. */
  seeking = false;
  /** The seek was applied; fetching resumes before the next consume call. */
  seekApplied = false;
  /** Consume calls numbered below this may still carry records from before the latest seek. */
  acceptFrom = 0;
  revoked = false;
}

class RdkafkaConsumer implements ConsumerDriver {
  private readonly consumer: RdConsumer;
  private readonly topic: string;
  private listener: ConsumerListener | undefined;
  private readonly partitions = new Map<number, PartitionState>();
  private rebalances: Promise<void> = Promise.resolve();
  private running = false;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  private consumeCalls = 0;
  private joined: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly commits = new Map<number, number>();
  private commitWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private inFlightCommit: Array<{ resolve: () => void; reject: (error: Error) => void }> | undefined;

  constructor(rdkafka: Rdkafka, options: ConsumerOptions) {
    this.topic = options.topic;
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.consumer = new rdkafka.KafkaConsumer(
      {
        ...connectionConfig(options),
        'group.id': options.groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'session.timeout.ms': sessionTimeout,
        'heartbeat.interval.ms': Math.max(500, Math.floor(sessionTimeout / 5)),
        // Also the group's rebalance timeout: how long it waits for members to finish `revoking`.
        'max.poll.interval.ms': Math.max(sessionTimeout, 30_000),
        'partition.assignment.strategy': 'roundrobin',
        'fetch.wait.max.ms': 250,
        'max.partition.fetch.bytes': 4 * 1024 * 1024,
        'fetch.max.bytes': 32 * 1024 * 1024,
        // A consume(n) call returns early once caught up instead of waiting for n records.
        'enable.partition.eof': true,
        rebalance_cb: (error: RdkafkaError | undefined, assignment: TopicPartition[]) =>
          this.rebalanced(error, assignment),
        offset_commit_cb: (error: RdkafkaError | undefined) => this.commitDone(error),
      },
      { 'auto.offset.reset': (options.fromBeginning ?? true) ? 'earliest' : 'latest' },
    );
    this.consumer.on('event.error', (error) => this.reportError(error));
    this.consumer.setDefaultConsumeTimeout(CONSUME_TIMEOUT_MS);
  }

  async start(listener: ConsumerListener): Promise<void> {
    this.listener = listener;
    const joined = new Promise<void>((resolve, reject) => {
      this.joined = { resolve, reject };
    });
    joined.catch(() => {}); // a close or failure before joining rejects it, perhaps with no one waiting
    const metadata = await call<Metadata>('cannot connect the consumer', (cb) =>
      this.consumer.connect({ topic: this.topic, timeout: REQUEST_TIMEOUT_MS }, cb),
    );
    // librdkafka would wait for a missing topic, without joining the group, for ever.
    if (findTopic(metadata, this.topic) === undefined) {
      await disconnect(this.consumer);
      throw new Error(`topic "${this.topic}" does not exist`);
    }
    this.consumer.subscribe([this.topic]);
    this.running = true;
    void this.consumeLoop();
    await joined;
  }

  seek(partition: number, offset: number): void {
    const state = this.partitions.get(partition);
    if (state === undefined || state.revoked) return; // not ours: the next owner decides where to start
    state.held = [];
    if (!state.assigned) {
      state.startOffset = offset;
      return;
    }
    state.seeks++;
    state.seeking = true;
    state.seekApplied = false;
    state.acceptFrom = Number.POSITIVE_INFINITY;
    // Paused so that nothing fetched before the seek reaches the listener after it.
    this.pause(partition, state);
    this.seekNow(partition, offset, state, state.seeks, Date.now() + SEEK_RETRY_MS);
  }

  commit(offsets: ReadonlyMap<number, number>): Promise<void> {
    if (offsets.size === 0) return Promise.resolve();
    if (this.closing) return Promise.reject(new Error('cannot commit: the consumer is closed'));
    return new Promise((resolve, reject) => {
      for (const [partition, offset] of offsets) this.commits.set(partition, offset);
      this.commitWaiters.push({ resolve, reject });
      this.sendCommits();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.running = false;
      this.joined?.reject(new Error('the consumer was closed before it joined its group'));
      // Disconnecting leaves the group, which revokes the assignment through `rebalanced`.
      await disconnect(this.consumer);
      this.settleCommits(new Error('cannot commit: the consumer is closed'));
    })();
    return this.closing;
  }

  // -- fetching --

  private async consumeLoop(): Promise<void> {
    while (this.running) {
      const number = ++this.consumeCalls;
      this.resumeSought(number);
      let messages: RdMessage[];
      try {
        messages = await this.consumeOnce();
      } catch (error) {
        if (!this.running) return;
        const e = error as RdkafkaError;
        if (isFatal(e)) return this.fail(rdkafkaError('the consumer failed', e));
        warn(e);
        await new Promise((resolve) => setTimeout(resolve, CONSUME_TIMEOUT_MS));
        continue;
      }
      if (!this.running) return;
      for (const [partition, records] of byPartition(messages)) this.received(partition, records, number);
    }
  }

  private consumeOnce(): Promise<RdMessage[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(CONSUME_BATCH, (error, messages) => (error ? reject(error) : resolve(messages)));
    });
  }

  private received(partition: number, records: KafkaRecord[], call: number): void {
    const state = this.partitions.get(partition);
    // Not (or no longer) ours, or fetched before a seek: whoever reads the partition next reads them again.
    if (state === undefined || state.revoked || state.seeking || call < state.acceptFrom) return;
    if (state.busy) {
      state.held.push(...records);
      this.pause(partition, state);
      return;
    }
    this.handOut(partition, state, records);
  }

  private handOut(partition: number, state: PartitionState, records: KafkaRecord[]): void {
    state.busy = true;
    this.listener!.batch(partition, records).then(
      () => this.batchDone(partition, state),
      (error: Error) => this.fail(error),
    );
  }

  private batchDone(partition: number, state: PartitionState): void {
    state.busy = false;
    if (state.revoked || this.partitions.get(partition) !== state) return;
    if (state.held.length > 0) {
      const next = state.held;
      state.held = [];
      this.handOut(partition, state, next);
    }
    if (!state.seeking) this.resume(partition, state);
  }

  private pause(partition: number, state: PartitionState): void {
    if (state.paused) return;
    state.paused = true;
    this.tryCall(() => this.consumer.pause([{ topic: this.topic, partition }]));
  }

  private resume(partition: number, state: PartitionState): void {
    if (!state.paused) return;
    state.paused = false;
    this.tryCall(() => this.consumer.resume([{ topic: this.topic, partition }]));
  }

  private tryCall(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (this.running) warn(error as Error);
    }
  }

  // -- seeking --

  private seekNow(
    partition: number,
    offset: number,
    state: PartitionState,
    seek: number,
    deadline: number,
  ): void {
    this.consumer.seek({ topic: this.topic, partition, offset }, REQUEST_TIMEOUT_MS, (error) => {
      if (state.seeks !== seek || state.revoked || !this.running) return;
      if (!error) {
        state.seekApplied = true;
        return;
      }
      // librdkafka refuses seeks until it has started fetching a partition it was just assigned.
      if (error.code === ERR.STATE && Date.now() < deadline) {
        setTimeout(() => this.seekNow(partition, offset, state, seek, deadline), 50);
        return;
      }
      this.fail(rdkafkaError(`cannot seek ${this.topic}[${partition}] to ${offset}`, error));
    });
  }

  /**
   * Resumes the partitions whose seek was applied, between two consume calls: a call that was
   * already running may still return records from before the seek, and those are dropped.
   */
  private resumeSought(call: number): void {
    for (const [partition, state] of this.partitions) {
      if (!state.seekApplied) continue;
      state.seekApplied = false;
      state.seeking = false;
      state.acceptFrom = call;
      this.resume(partition, state);
    }
  }

  // -- rebalancing --

  private rebalanced(error: RdkafkaError | undefined, assignment: TopicPartition[]): void {
    const partitions = assignment.filter((tp) => tp.topic === this.topic).map((tp) => tp.partition);
    const code = error?.code;
    if (code === ERR.ASSIGN_PARTITIONS) {
      this.joined?.resolve();
      this.rebalances = this.rebalances.then(() => this.assign(partitions)).catch((e: Error) => this.fail(e));
    } else if (code === ERR.REVOKE_PARTITIONS) {
      this.rebalances = this.rebalances.then(() => this.revoke(partitions)).catch((e: Error) => this.fail(e));
    } else if (error) {
      warn(error);
    }
  }

  private async assign(partitions: number[]): Promise<void> {
    for (const p of partitions) this.partitions.set(p, new PartitionState());
    try {
      await this.listener!.assigned([...partitions].sort(ascending));
    } catch (error) {
      this.fail(error as Error);
    }
    const list = partitions.map((partition) => {
      const start = this.partitions.get(partition)?.startOffset;
      return start === undefined
        ? { topic: this.topic, partition }
        : { topic: this.topic, partition, offset: start };
    });
    // Called even when closing: librdkafka's group protocol waits for it.
    this.tryCall(() => this.consumer.assign(list));
    for (const p of partitions) {
      const state = this.partitions.get(p);
      if (state) state.assigned = true;
    }
  }

  private async revoke(partitions: number[]): Promise<void> {
    const states = partitions.flatMap((p) => {
      const state = this.partitions.get(p);
      return state ? [[p, state] as const] : [];
    });
    for (const [, state] of states) {
      state.revoked = true;
      state.held = [];
    }
    try {
      await this.listener!.revoking([...partitions].sort(ascending));
    } catch (error) {
      this.fail(error as Error);
    }
    for (const [p, state] of states) {
      // The application-level pause outlives the assignment in librdkafka: undo it.
      if (state.paused) this.tryCall(() => this.consumer.resume([{ topic: this.topic, partition: p }]));
      this.partitions.delete(p);
    }
    this.tryCall(() => this.consumer.unassign());
  }

  // -- committing --

  /**
   * Sends what is waiting as one asynchronous commit. One at a time, so that `offset_commit_cb`
   * answers the one in flight and a later offset can never be overwritten by an earlier one.
   */
  private sendCommits(): void {
    if (this.inFlightCommit !== undefined || this.commits.size === 0) return;
    const offsets = [...this.commits].map(([partition, offset]) => ({
      topic: this.topic,
      partition,
      offset,
    }));
    this.commits.clear();
    this.inFlightCommit = this.commitWaiters;
    this.commitWaiters = [];
    try {
      this.consumer.commit(offsets);
    } catch (error) {
      this.commitDone(error as RdkafkaError);
    }
  }

  private commitDone(error: RdkafkaError | undefined): void {
    const waiters = this.inFlightCommit;
    if (waiters === undefined) return;
    this.inFlightCommit = undefined;
    for (const w of waiters) {
      if (error) w.reject(rdkafkaError('offset commit failed', error));
      else w.resolve();
    }
    this.sendCommits();
  }

  private settleCommits(error: Error): void {
    for (const w of [...(this.inFlightCommit ?? []), ...this.commitWaiters]) w.reject(error);
    this.inFlightCommit = undefined;
    this.commitWaiters = [];
    this.commits.clear();
  }

  // -- failing --

  private reportError(error: RdkafkaError): void {
    if (isFatal(error)) this.fail(rdkafkaError('the consumer failed', error));
    else warn(error);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.running = false;
    this.joined?.reject(error);
    this.listener?.failed(error);
  }
}

// ---- Producer ----

/** The delivery reports one `send` waits for. */
class Delivery {
  private remaining: number;
  private failed = false;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor(count: number) {
    this.remaining = count;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A report may fail it while `send` still waits for room to produce the rest, before it awaits this.
    this.done.catch(() => {});
  }

  delivered(error: Error | null, topic: string): void {
    if (this.failed) return;
    if (error) {
      this.fail(new Error(`delivery to ${topic} failed: ${error.message}`, { cause: error }));
      return;
    }
    if (--this.remaining === 0) this.resolve();
  }

  /** Rejects with the first failure (a failed delivery, or a record librdkafka refused to queue). */
  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}

class RdkafkaProducer implements ProducerDriver {
  private readonly producer: RdProducer;
  private readonly transactional: boolean;
  private roomWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  constructor(rdkafka: Rdkafka, options: ProducerOptions) {
    this.transactional = options.transactionalId !== undefined;
    this.producer = new rdkafka.Producer(
      {
        ...connectionConfig(options),
        'enable.idempotence': this.transactional || (options.idempotent ?? true),
        ...(this.transactional ? { 'transactional.id': options.transactionalId! } : {}),
        dr_cb: true,
      },
      // Java's partitioner (murmur2 of the key, as kafkajs's DefaultPartitioner): a key lands in the
      // same partition whichever driver produced it; records without a key go to a random one. A
      // topic setting: in the global settings node-rdkafka's (empty) topic settings would override it.
      { partitioner: 'murmur2_random', acks: -1 },
    );
    this.producer.on('event.error', (error) => warn(error));
    this.producer.on('delivery-report', (error, report) => this.reported(error, report));
  }

  async connect(): Promise<void> {
    await call('cannot connect the producer', (cb) =>
      this.producer.connect({ allTopics: false, timeout: REQUEST_TIMEOUT_MS }, cb),
    );
    this.producer.setPollInterval(POLL_INTERVAL_MS);
    if (this.transactional) {
      await done('cannot initialise transactions', (cb) =>
        this.producer.initTransactions(REQUEST_TIMEOUT_MS * 3, cb),
      );
    }
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const delivery = new Delivery(records.length);
    try {
      for (let next = this.produce(topic, records, 0, delivery); next < records.length; ) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        next = this.produce(topic, records, next, delivery);
      }
    } catch (error) {
      delivery.fail(rdkafkaError(`cannot send to ${topic}`, error as Error));
    }
    await delivery.done;
  }

  async transaction(work: (tx: Transaction) => Promise<void>): Promise<void> {
    if (!this.transactional) throw new Error('transaction() needs a producer with a transactionalId');
    await done('cannot begin a transaction', (cb) => this.producer.beginTransaction(cb));
    try {
      await work({
        send: (topic, records) => this.send(topic, records),
        sendOffsets: () => Promise.reject(new Error(RDKAFKA_NO_TX_OFFSETS)),
      });
      await done('cannot commit the transaction', (cb) =>
        this.producer.commitTransaction(REQUEST_TIMEOUT_MS * 3, cb),
      );
    } catch (error) {
      await done('abort', (cb) => this.producer.abortTransaction(REQUEST_TIMEOUT_MS * 3, cb)).catch(() => {});
      throw error;
    }
  }

  close(): Promise<void> {
    // node-rdkafka's disconnect flushes what is queued first.
    this.closing ??= disconnect(this.producer).then(() => {});
    return this.closing;
  }

  /**
   * Queues records from `from` on until librdkafka's queue is full, and returns the index of the
   * first one not queued (then the caller waits for delivery reports to make room).
   */
  private produce(
    topic: string,
    records: readonly OutgoingRecord[],
    from: number,
    delivery: Delivery,
  ): number {
    for (let i = from; i < records.length; i++) {
      const r = records[i]!;
      try {
        this.producer.produce(topic, r.partition ?? null, r.value, r.key, null, delivery);
      } catch (error) {
        if ((error as RdkafkaError).code !== ERR.QUEUE_FULL) throw error;
        return i;
      }
    }
    return records.length;
  }

  private reported(error: RdkafkaError | null, report: DeliveryReport): void {
    if (report.opaque instanceof Delivery) report.opaque.delivered(error, report.topic);
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

// ---- Admin ----

class RdkafkaAdmin implements AdminDriver {
  private admin: RdAdmin | undefined;
  /** Consumers that never subscribe: one for metadata, and one per group whose offsets are read. */
  private readonly clients = new Map<string, Promise<RdConsumer>>();

  constructor(
    private readonly rdkafka: Rdkafka,
    private readonly options: ConnectionOptions,
  ) {}

  async createTopics(topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
    const exists = await Promise.all(topics.map((t) => this.exists(t.topic)));
    const missing = topics.filter((_, i) => !exists[i]);
    if (missing.length === 0) return;
    this.admin ??= this.rdkafka.AdminClient.create(connectionConfig(this.options));
    const admin = this.admin;
    await Promise.all(
      missing.map(async (t) => {
        const topic = { topic: t.topic, num_partitions: t.partitions, replication_factor: -1 };
        try {
          await done(`cannot create topic "${t.topic}"`, (cb) =>
            admin.createTopic(topic, REQUEST_TIMEOUT_MS, cb),
          );
        } catch (error) {
          const cause = (error as Error).cause as RdkafkaError | undefined;
          if (cause?.code !== ERR.TOPIC_ALREADY_EXISTS) throw error;
        }
        await this.untilLed(t.topic, t.partitions);
      }),
    );
  }

  async partitions(topic: string): Promise<number[]> {
    const found = await this.topicMetadata(topic);
    if (found === undefined) throw new Error(`topic "${topic}" does not exist`);
    return found.partitions.map((p) => p.id).sort(ascending);
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    const partitions = await this.partitions(topic);
    const client = await this.client(METADATA_GROUP);
    const ends = await Promise.all(
      partitions.map((p) =>
        call<{ highOffset: number }>(`cannot read the end offset of ${topic}[${p}]`, (cb) =>
          client.queryWatermarkOffsets(topic, p, REQUEST_TIMEOUT_MS, cb),
        ),
      ),
    );
    return new Map(partitions.map((p, i) => [p, ends[i]!.highOffset]));
  }

  async committed(groupId: string, topic: string): Promise<Map<number, GroupOffset>> {
    const partitions = await this.partitions(topic);
    const client = await this.client(groupId);
    const offsets = await call<TopicPartition[]>(`cannot read the offsets of group ${groupId}`, (cb) =>
      client.committed(
        partitions.map((partition) => ({ topic, partition })),
        REQUEST_TIMEOUT_MS,
        cb,
      ),
    );
    const out = new Map<number, GroupOffset>();
    for (const o of offsets)
      if (o.offset !== undefined && o.offset >= 0) out.set(o.partition, { offset: o.offset });
    return out;
  }

  async close(): Promise<void> {
    const clients = await Promise.allSettled(this.clients.values());
    this.clients.clear();
    await Promise.all(clients.map((c) => (c.status === 'fulfilled' ? disconnect(c.value) : undefined)));
    this.admin?.disconnect();
    this.admin = undefined;
  }

  private async exists(topic: string): Promise<boolean> {
    return (await this.topicMetadata(topic)) !== undefined;
  }

  private async topicMetadata(topic: string): Promise<TopicMetadata | undefined> {
    const client = await this.client(METADATA_GROUP);
    const metadata = await call<Metadata>(`cannot read the metadata of topic "${topic}"`, (cb) =>
      client.getMetadata({ topic, timeout: REQUEST_TIMEOUT_MS }, cb),
    );
    return findTopic(metadata, topic);
  }

  /** Waits until every partition of a new topic has a leader, so that it can be produced to. */
  private async untilLed(topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS * 3;
    for (;;) {
      const found = await this.topicMetadata(topic);
      if (found && found.partitions.length >= partitions && found.partitions.every((p) => p.leader >= 0))
        return;
      if (Date.now() > deadline)
        throw new Error(`topic "${topic}" was created but its partitions have no leader`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A connected consumer of `groupId` that never subscribes: it only reads metadata and offsets. */
  private client(groupId: string): Promise<RdConsumer> {
    let client = this.clients.get(groupId);
    if (client === undefined) {
      const consumer = new this.rdkafka.KafkaConsumer(
        { ...connectionConfig(this.options), 'group.id': groupId, 'enable.auto.commit': false },
        {},
      );
      consumer.on('event.error', (error) => warn(error));
      client = call('cannot connect to Kafka', (cb) =>
        consumer.connect({ allTopics: false, timeout: REQUEST_TIMEOUT_MS }, cb),
      ).then(() => consumer);
      client.catch(() => this.clients.delete(groupId));
      this.clients.set(groupId, client);
    }
    return client;
  }
}

/** The group of the admin's metadata client; it never joins it. */
const METADATA_GROUP = 'streamscout-admin';
