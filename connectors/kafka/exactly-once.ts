/**
 * Exactly-once output of one partition task (`scout run --kafka --exactly-once`): the task's Kafka
 * outputs, its dead letters and its consumer group offset are committed in one Kafka transaction
 * per checkpoint, after the checkpoint's state is durable, with the checkpoint's id in the offset's
 * metadata. A reader in read_committed isolation (the default of Kafka's clients) sees each
 * checkpoint's records once, or not at all.
 *
 * Where a crash can land, and what the partition's next owner does:
 * - before the state is durable: the group still names checkpoint N−1, the outputs of N were never
 *   sent; N−1 is restored and the records after it are processed again;
 * - after the state is durable, before the transaction commits: the store's newest checkpoint is
 *   N, but the group names N−1, and N−1 is what is restored (stores keep 3 checkpoints); the open
 *   transaction is aborted when the next owner's producer of the same transactional id starts;
 * - after the commit: the group names N, and N is restored.
 *
 * The transactional id is the group, topic and partition: a partition has one at a time, and a
 * previous owner that is still alive (a zombie, or one whose shared store has no lock) is fenced —
 * its next commit fails — as soon as the new owner starts.
 */
import type { CommittedCheckpoint } from '../../pipeline/cli/state.ts';
import type { AdminDriver, KafkaDriver, OutgoingRecord, ProducerDriver } from './driver.ts';
import { sendInBatches } from './sink.ts';

const METADATA_PREFIX = 'scout-checkpoint:';

/** The offset metadata that names checkpoint `id`. */
export function checkpointMetadata(id: number): string {
  return `${METADATA_PREFIX}${id}`;
}

/** The checkpoint id in an offset's metadata, if it holds one. */
export function checkpointOfMetadata(metadata: string | null | undefined): number | undefined {
  if (!metadata?.startsWith(METADATA_PREFIX)) return undefined;
  const id = Number(metadata.slice(METADATA_PREFIX.length));
  return Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** The transactional id of a partition's task: stable across restarts and owners. */
export function transactionalIdOf(groupId: string, topic: string, partition: number): string {
  return `${groupId}.${topic}.${partition}`;
}

export interface TaskTransactionOptions {
  readonly driver: KafkaDriver;
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly groupId: string;
  /** The input topic (its name on the broker). */
  readonly topic: string;
  readonly partition: number;
}

/** One dead letter waiting for the checkpoint that covers the offset it was read at. */
interface HeldDeadLetter {
  readonly topic: string;
  readonly offset: number;
  readonly record: OutgoingRecord;
}

export class TaskTransaction {
  private staged = new Map<string, OutgoingRecord[]>();
  private deadLetters: HeldDeadLetter[] = [];

  private constructor(
    private readonly producer: ProducerDriver,
    private readonly o: TaskTransactionOptions,
  ) {}

  /** Starts the task's transactional producer, fencing any earlier one of the partition. */
  static async open(o: TaskTransactionOptions): Promise<TaskTransaction> {
    const producer = o.driver.producer({
      brokers: o.brokers,
      clientId: o.clientId,
      transactionalId: transactionalIdOf(o.groupId, o.topic, o.partition),
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.close().catch(() => {});
      throw new Error(
        `cannot start the transactional producer of ${o.topic}[${o.partition}]: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new TaskTransaction(producer, o);
  }

  /** A checkpoint's records of one output topic: sent with the commit of that checkpoint. */
  stage(topic: string, records: readonly OutgoingRecord[]): void {
    if (records.length === 0) return;
    const list = this.staged.get(topic);
    if (list === undefined) this.staged.set(topic, [...records]);
    else for (const r of records) list.push(r);
  }

  /** Dead letters of records read at `offset`s: each goes with the commit of the first checkpoint past it. */
  holdDeadLetters(topic: string, letters: ReadonlyArray<{ offset: number; record: OutgoingRecord }>): void {
    for (const l of letters) this.deadLetters.push({ topic, offset: l.offset, record: l.record });
  }

  /**
   * Commits checkpoint `checkpointId`, whose position in the input partition is `offset`: its
   * staged records, the dead letters below `offset`, and the group's offset, in one transaction.
   * Rejects if the transaction fails (a newer owner fenced this one, the broker is gone); the job
   * then fails, and the partition's next owner restores the previous committed checkpoint.
   */
  async commit(offset: number, checkpointId: number): Promise<void> {
    const held = this.deadLetters;
    this.deadLetters = [];
    for (const d of held) {
      if (d.offset < offset) this.stage(d.topic, [d.record]);
      else this.deadLetters.push(d);
    }
    const staged = this.staged;
    this.staged = new Map();
    const { groupId, topic, partition } = this.o;
    await this.producer.transaction!(async (tx) => {
      const send = (t: string, records: readonly OutgoingRecord[]) => tx.send(t, records);
      for (const [t, records] of staged) await sendInBatches(send, t, records);
      await tx.sendOffsets(
        groupId,
        topic,
        new Map([[partition, { offset, metadata: checkpointMetadata(checkpointId) }]]),
      );
    });
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}

/**
 * The checkpoint the group committed for `topic[partition]`, from its offset's metadata: none when
 * the group has no offset there. An offset without a checkpoint id was committed by a run without
 * `--exactly-once`, whose state cannot be matched to it: that is a one-line error.
 */
export async function committedCheckpointOf(
  admin: AdminDriver,
  groupId: string,
  topic: string,
  partition: number,
): Promise<CommittedCheckpoint> {
  const what = `the offsets of group ${groupId}`;
  const committed = (await admin.committed(groupId, topic)).get(partition);
  if (committed === undefined) return { id: undefined, what };
  const id = checkpointOfMetadata(committed.metadata);
  if (id === undefined) {
    throw new Error(
      `group ${groupId} committed offset ${committed.offset} of ${topic}[${partition}] without a checkpoint id (a run without --exactly-once); use another --group for --exactly-once`,
    );
  }
  return { id, what };
}
