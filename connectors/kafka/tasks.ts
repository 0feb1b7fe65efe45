/**
 * Running a job on Kafka, one task per partition — the model of Kafka Streams. An instance joins
 * the job's consumer group; for every partition the group gives it, it builds the job's graph once
 * more and runs it as a task with its own state, checkpointed into its own store,
 * `<state-dir>/<topic>-<partition>` (mirrored to `<s3 url>/<topic>-<partition>` when set). Because
 * records are keyed by broadcaster, a channel's state lives in exactly one partition's task, so
 * tasks never need each other's state, and a partition's state can move between instances whole.
 *
 * A partition an instance loses is frozen (no more records reach its task), checkpointed, its
 * offsets committed, and its store closed; only then can the instance that gained it open that
 * store — LevelDB's lock on the folder is the fence — restore the checkpoint and seek to its
 * offsets. A killed instance holds no lock, and its partitions resume from their last checkpoints:
 * what it did after them is done again (at-least-once; the Postgres sinks upsert, so no doubles).
 *
 * With `exactlyOnce`, each task commits its Kafka outputs, dead letters and group offset in one
 * transaction per checkpoint (exactly-once.ts), and restores the checkpoint the group committed.
 *
 * A job built for this must keep its state keyed by the topic's key (every job here does); state
 * across channels would be split among the tasks.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clipper } from '../../operators/clips/clipper.ts';
import { GraphError } from '../../pipeline/builder.ts';
import { type JobState, openJobState } from '../../pipeline/cli/state.ts';
import type { JobContext, JobDefinition } from '../../pipeline/jobs/job.ts';
import type { JobMetrics } from '../../pipeline/metrics/job-metrics.ts';
import { JobRuntime } from '../../pipeline/runtime/runtime.ts';
import type { Clock } from '../../pipeline/time/clock.ts';
import type { Sink, Source } from '../../pipeline/types.ts';
import type { DeadLetter } from '../../schemas/avro-types.ts';
import type { AvroSerde, Decoder, Encoder } from '../../schemas/serde.ts';
import { DEAD_LETTER_SCHEMA, loadSchema, topicSchema } from '../../schemas/topics.ts';
import { DeadLetters, deadLetterTopic, sendDeadLetters } from './dead-letters.ts';
import {
  type AdminDriver,
  type ConsumerDriver,
  EXACTLY_ONCE_NEEDS_KAFKAJS,
  type KafkaDriver,
  type ProducerDriver,
} from './driver.ts';
import { committedCheckpointOf, TaskTransaction } from './exactly-once.ts';
import { PartitionFeed } from './partition-feed.ts';
import { kafkaSink } from './sink.ts';
import { partitionSource } from './source.ts';
import { readerViewOf } from './views.ts';

export interface KafkaJobOptions {
  readonly job: JobDefinition;
  readonly driver: KafkaDriver;
  readonly brokers: readonly string[];
  /** The consumer group; instances of one job share it (default `scout-<job>`). */
  readonly groupId: string;
  /** Put before every topic name (`staging.` → `staging.chat-messages`); schemas go by the name without it. */
  readonly topicPrefix?: string;
  readonly serde: AvroSerde;
  /** Where each partition's checkpoints go: `<stateDir>/<topic>-<partition>`. */
  readonly stateDir: string;
  /** `s3://bucket/prefix`: the shared store; the local folders are then only caches. */
  readonly checkpointStore?: string;
  readonly checkpointIntervalMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly clock: Clock;
  readonly mode: 'live' | 'replay';
  readonly options: Readonly<Record<string, string>>;
  readonly stores: ReadonlyMap<string, Sink<unknown>>;
  readonly clipper?: Clipper;
  readonly metrics?: JobMetrics;
  /** Commit each checkpoint's Kafka outputs with its offsets in one transaction (kafkajs only). */
  readonly exactlyOnce?: boolean;
  /** One line per notable event (assignments, restores, dead letters), for stderr. */
  readonly log: (line: string) => void;
}

/** How long a gained partition waits for its previous owner to let go of the state. */
export const STATE_LOCK_TIMEOUT_MS = 120_000;

interface Task {
  readonly partition: number;
  readonly feed: PartitionFeed;
  readonly deadLetters?: DeadLetters;
  /** Exactly-once: the task's transaction, started once its state is open. */
  transaction?: TaskTransaction;
  /** Set once the task's state is open and its runtime started. */
  state?: JobState;
  runtime?: JobRuntime;
  /** Resolves when the task has stopped and its store is closed. */
  stopped?: Promise<void>;
  /** Settles once `launch` has started the task, or given up because it was released meanwhile. */
  launched?: Promise<void>;
  released: boolean;
}

/** One instance of a job in its consumer group. */
export class KafkaJob {
  private readonly tasks = new Map<number, Task>();
  private readonly encoders = new Map<string, Promise<Encoder<unknown>>>();
  private consumer: ConsumerDriver | undefined;
  private producer: ProducerDriver | undefined;
  private admin: AdminDriver | undefined;
  private decoder: Decoder<unknown> | undefined;
  private dlqEncoder: Encoder<DeadLetter> | undefined;
  /** Dead letters sent by tasks no longer running (theirs are counted here when they stop). */
  private deadLettersOfStopped = 0;
  private partitionCount = 1;
  private failure: Error | undefined;
  private settle: (() => void) | undefined;
  private fail: ((error: Error) => void) | undefined;
  private readonly lockWaits = new Set<() => void>();
  /** Resolves when the instance has stopped; rejects when a task or the consumer failed. */
  readonly done: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: KafkaJobOptions) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    this.done.catch(() => {});
  }

  /** The input topic's name on the broker. */
  get topic(): string {
    return this.physical(this.o.job.input);
  }

  private physical(topic: string): string {
    return `${this.o.topicPrefix ?? ''}${topic}`;
  }

  /** Partitions this instance runs now. */
  assignment(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /** Checks the topics, prepares the serde and joins the group; resolves once joined. */
  async start(): Promise<void> {
    const { driver, brokers, serde } = this.o;
    if (this.o.exactlyOnce && driver.name !== 'kafkajs') throw new Error(EXACTLY_ONCE_NEEDS_KAFKAJS);
    const clientId = `scout-${this.o.job.name}`;
    this.admin = driver.admin({ brokers, clientId });
    const partitions = await this.admin.partitions(this.topic).catch((error: Error) => {
      throw new Error(`cannot read topic ${this.topic} at ${brokers.join(',')}: ${error.message}`, {
        cause: error,
      });
    });
    this.partitionCount = partitions.length;
    // Exactly-once, every task has a transactional producer of its own instead.
    if (!this.o.exactlyOnce) {
      this.producer = driver.producer({ brokers, clientId });
      await this.producer.connect();
    }
    this.decoder = serde.decoder(readerViewOf(this.o.job.input).reader);
    const dlq = deadLetterTopic(this.topic);
    this.dlqEncoder = (await this.encoder(dlq, loadSchema(DEAD_LETTER_SCHEMA))) as Encoder<DeadLetter>;
    this.consumer = driver.consumer({
      brokers,
      clientId,
      groupId: this.o.groupId,
      topic: this.topic,
      ...(this.o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: this.o.sessionTimeoutMs } : {}),
    });
    await this.consumer.start({
      assigned: (now) => this.assigned(now),
      revoking: (lost) => this.release(lost),
      batch: (partition, records) => this.tasks.get(partition)?.feed.push(records) ?? Promise.resolve(),
      failed: (error) => this.failed(error),
    });
  }

  /** The encoder of an output topic (its name on the broker), created (topic and schema) once per process. */
  private encoder(topic: string, schema: object): Promise<Encoder<unknown>> {
    let e = this.encoders.get(topic);
    if (e === undefined) {
      e = (async () => {
        await this.admin!.createTopics([{ topic, partitions: this.partitionCount }]);
        return this.o.serde.encoder<unknown>(topic, schema);
      })();
      this.encoders.set(topic, e);
    }
    return e;
  }

  private async assigned(now: readonly number[]): Promise<void> {
    const keep = new Set(now);
    const lost = [...this.tasks.keys()].filter((p) => !keep.has(p));
    const gained = now.filter((p) => !this.tasks.has(p));
    if (lost.length === 0 && gained.length === 0) return;
    this.o.log(
      `partitions of ${this.topic} now [${now.join(', ')}]` +
        (gained.length > 0 ? `, gained [${gained.join(', ')}]` : '') +
        (lost.length > 0 ? `, lost [${lost.join(', ')}]` : ''),
    );
    // Feeds first, synchronously: the consumer may hand over records of a gained partition at once.
    for (const p of gained) this.tasks.set(p, this.newTask(p));
    await Promise.all([
      this.release(lost),
      ...gained.map((p) => {
        const task = this.tasks.get(p)!;
        task.launched = this.launch(task);
        return task.launched;
      }),
    ]);
  }

  private newTask(partition: number): Task {
    const task: Task = {
      partition,
      feed: new PartitionFeed(partition),
      released: false,
      deadLetters: new DeadLetters(
        this.topic,
        this.o.job.name,
        this.o.exactlyOnce
          ? async (topic, letters) => task.transaction!.holdDeadLetters(topic, letters)
          : sendDeadLetters(this.producer!),
        this.dlqEncoder!,
        () => this.o.clock.now(),
        this.o.log,
      ),
    };
    return task;
  }

  /** Opens a task's state (waiting for the previous owner's lock) and starts its runtime. */
  private async launch(task: Task): Promise<void> {
    const { job, clock } = this.o;
    const name = `${this.topic}-${task.partition}`;
    const dir = join(this.o.stateDir, name);
    const graph = job.build(this.context(task)).graph();
    // With a shared bucket the local folder is a cache that may be stale: the bucket decides.
    if (this.o.checkpointStore) rmSync(dir, { recursive: true, force: true });
    const state = await this.openWhenFree(task, {
      stateDir: dir,
      graph,
      clock,
      ignoreState: false,
      control: false,
      log: (line) => this.o.log(`${name}: ${line}`),
      ...(this.o.checkpointIntervalMs !== undefined ? { intervalMs: this.o.checkpointIntervalMs } : {}),
      ...(this.o.checkpointStore
        ? { checkpointStore: `${this.o.checkpointStore.replace(/\/$/, '')}/${name}` }
        : {}),
      ...(this.o.metrics ? { metrics: this.o.metrics } : {}),
      ...(this.o.exactlyOnce ? { committedCheckpoint: () => this.beginTransaction(task) } : {}),
    });
    if (state === undefined) {
      await task.transaction?.close().catch(() => {});
      return; // released while waiting
    }
    if (task.released) {
      // Stopped while its state was being opened (a restore from the bucket takes a while).
      await state.close();
      await task.transaction?.close().catch(() => {});
      return;
    }
    if (this.o.exactlyOnce && task.transaction === undefined) {
      await state.close();
      throw new Error(`${name}: no transaction was started for exactly-once output`);
    }
    const runtime = new JobRuntime(graph, {
      clock,
      ...(state.restore ? { restore: state.restore, adoptRestore: true } : {}),
      onBoundary: state.checkpointer.onBoundary,
      nextBoundaryAt: state.checkpointer.nextDueAt,
    });
    task.state = state;
    task.runtime = runtime;
    this.o.metrics?.watch(runtime);
    task.stopped = runtime
      .run()
      .then(
        () => {},
        (error: Error) => this.failed(new Error(`${name}: ${error.message}`, { cause: error })),
      )
      .finally(() => {
        this.o.metrics?.unwatch(runtime);
        return state.close();
      });
  }

  /**
   * Exactly-once, once the task holds its state: starts its transactional producer (fencing the
   * previous owner's) and reads which checkpoint the group committed.
   */
  private async beginTransaction(task: Task) {
    const { driver, brokers, groupId } = this.o;
    await task.transaction?.close().catch(() => {});
    task.transaction = await TaskTransaction.open({
      driver,
      brokers,
      clientId: `scout-${this.o.job.name}`,
      groupId,
      topic: this.topic,
      partition: task.partition,
    });
    return committedCheckpointOf(this.admin!, groupId, this.topic, task.partition);
  }

  private async openWhenFree(
    task: Task,
    options: Parameters<typeof openJobState>[0],
  ): Promise<JobState | undefined> {
    const deadline = this.o.clock.now() + STATE_LOCK_TIMEOUT_MS;
    let wait = 50;
    let said = false;
    for (;;) {
      if (task.released || this.failure) return undefined;
      try {
        return await openJobState(options);
      } catch (error) {
        if (!isLocked(error) || this.o.clock.now() >= deadline) {
          await task.transaction?.close().catch(() => {});
          throw error;
        }
        if (!said) {
          said = true;
          this.o.log(`${this.topic}-${task.partition}: waiting for the previous owner to release its state`);
        }
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.lockWaits.delete(done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.lockWaits.add(done);
      });
      wait = Math.min(wait * 2, 1_000);
    }
  }

  /** Freezes, checkpoints and closes the tasks of lost partitions. */
  private async release(partitions: readonly number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (p) => {
        const task = this.tasks.get(p);
        if (task === undefined) return;
        this.tasks.delete(p);
        await this.stopTask(task);
      }),
    );
  }

  private async stopTask(task: Task): Promise<void> {
    task.released = true;
    for (const w of this.lockWaits) w();
    // A launch under way either starts the task first or gives up; then there is one thing to stop.
    await task.launched?.catch(() => {});
    const { state, runtime } = task;
    if (state && runtime) {
      const saved = state.checkpointer.request();
      task.feed.freeze();
      try {
        await saved;
      } catch (error) {
        this.o.log(`${this.topic}-${task.partition}: no checkpoint at release: ${(error as Error).message}`);
      }
      runtime.stop({ abandon: true });
    } else {
      task.feed.freeze();
    }
    await task.stopped;
    await task.transaction?.close().catch(() => {});
    this.deadLettersOfStopped += task.deadLetters?.written ?? 0;
  }

  private context(task: Task): JobContext {
    const { o } = this;
    return {
      mode: o.mode,
      clock: o.clock,
      options: o.options,
      input: <T>(topic: string): Source<T> => {
        if (topic !== o.job.input) {
          throw new GraphError(`on Kafka a job reads only its main input (${o.job.input}), not ${topic}`);
        }
        const view = readerViewOf(topic);
        return partitionSource<unknown, T>({
          topic: this.topic,
          feed: task.feed,
          decoder: this.decoder!,
          map: view.map as (r: unknown) => T,
          deadLetters: task.deadLetters!,
          seek: (p, offset) => this.consumer!.seek(p, offset),
          commit: (p, offset, checkpointId) =>
            // Exactly-once, a failed commit fails the checkpoint: nothing of it was published.
            task.transaction
              ? task.transaction.commit(offset, checkpointId)
              : this.consumer!.commit(new Map([[p, offset]])).catch((error: Error) => {
                  // The checkpoint holds the offsets; a commit lost in a rebalance only delays the next.
                  this.o.log(`${topic}-${p}: offset commit failed: ${error.message}`);
                }),
        });
      },
      output: <T>(topic: string): Sink<T> =>
        kafkaSink<T>(
          () => task.transaction ?? this.producer!,
          this.physical(topic),
          () => this.encoder(this.physical(topic), topicSchema(topic)) as Promise<Encoder<T>>,
        ),
      store: <T>(table: string): Sink<T> => {
        const sink = o.stores.get(table);
        if (sink === undefined) throw new GraphError(`no table "${table}" to store into`);
        return sink as Sink<T>;
      },
      ...(o.clipper ? { clipper: o.clipper } : {}),
    };
  }

  private failed(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    void this.stop().finally(() => this.fail?.(error));
  }

  /** Leaves the group: every task is checkpointed and closed, then the clients. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const w of this.lockWaits) w();
      const all = [...this.tasks.values()];
      this.tasks.clear();
      await Promise.all(all.map((t) => this.stopTask(t)));
      await this.consumer?.close().catch(() => {});
      await this.producer?.close().catch(() => {});
      await this.admin?.close().catch(() => {});
      if (!this.failure) this.settle?.();
    })();
    return this.stopping;
  }

  /** Records the tasks running now have read (a task given away takes its count with it). */
  recordsRead(): number {
    let n = 0;
    for (const t of this.tasks.values()) n += t.runtime?.recordsRead() ?? 0;
    return n;
  }

  /** Dead letters sent by this instance (exactly-once: held for their transactions, too). */
  get deadLettersWritten(): number {
    let n = this.deadLettersOfStopped;
    for (const t of this.tasks.values()) n += t.deadLetters?.written ?? 0;
    return n;
  }
}

/** Whether opening a store failed because another process holds its LevelDB lock. */
function isLocked(error: unknown): boolean {
  for (
    let e = error as { code?: string; message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === 'LEVEL_LOCKED' || /\block\b/i.test(e.message ?? '')) return true;
  }
  return false;
}
