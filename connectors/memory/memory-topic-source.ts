/**
 * Reads a `MemoryTopic` as a consumer group. Positions are offsets (the next offset to read), by
 * partition id (`'0'`, `'1'`, …). A poll returns records of one partition, taking the partitions in
 * turn so that a busy partition cannot starve the others; when every partition is drained the
 * reader idles until the next append, without polling or timers.
 */
import type { Poll, Source, SourceContext, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import type { MemoryTopic } from './memory-topic.ts';

export interface MemoryTopicSourceOptions {
  /** Consumer group: its committed offsets decide what retention may drop. Default `'default'`. */
  readonly group?: string;
}

/**
 * A source reading `topic` as consumer group `group`.
 *
 * @example
 * const topic = new MemoryTopic<ChatLine>('chat-messages');
 * pipeline('activity').from(memoryTopicSource(topic, { group: 'activity' }), { timestamp: (m) => m.ts });
 */
export function memoryTopicSource<T>(
  topic: MemoryTopic<T>,
  options: MemoryTopicSourceOptions = {},
): Source<T> {
  const group = options.group ?? 'default';
  return {
    describe: () => topic.describe(),
    open: (ctx) => new MemoryTopicReader(topic, group, ctx),
  };
}

class MemoryTopicReader<T> implements SourceReader<T> {
  private readonly ids: string[];
  private readonly ended: boolean[];
  /** The partition the next poll looks at first. */
  private cursor = 0;
  private closed = false;

  constructor(
    private readonly topic: MemoryTopic<T>,
    private readonly group: string,
    ctx: SourceContext,
  ) {
    this.ids = topic.partitionIds();
    this.ended = this.ids.map(() => false);
    topic.attach(group, this.startOffsets(ctx.startPositions));
  }

  partitions(): readonly string[] {
    return this.ids;
  }

  poll(maxRecords: number): Poll<T> {
    const { topic } = this;
    const count = this.ids.length;
    let open = 0;
    for (let step = 0; step < count; step++) {
      const partition = (this.cursor + step) % count;
      if (this.ended[partition]) continue;
      if (topic.position(this.group, partition) < topic.endOffset(partition)) {
        const { records, next } = topic.read(this.group, partition, maxRecords);
        this.cursor = (partition + 1) % count;
        return { kind: 'records', partition: this.ids[partition]!, records, position: next };
      }
      if (topic.closed) {
        this.ended[partition] = true;
        return { kind: 'partition-end', partition: this.ids[partition]! };
      }
      open++;
    }
    if (open === 0) return { kind: 'end' };
    return { kind: 'idle', ready: topic.nextAppend() };
  }

  commit(positions: ReadonlyMap<string, SourcePosition>): void {
    for (const [id, position] of positions) {
      this.topic.commit(this.group, this.partitionIndex(id), toOffset(this.topic.describe(), id, position));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.topic.detach(this.group);
  }

  private startOffsets(positions: ReadonlyMap<string, SourcePosition> | undefined): Map<number, number> {
    const offsets = new Map<number, number>();
    for (const [id, position] of positions ?? []) {
      offsets.set(this.partitionIndex(id), toOffset(this.topic.describe(), id, position));
    }
    return offsets;
  }

  private partitionIndex(id: string): number {
    const index = this.ids.indexOf(id);
    if (index < 0) throw new Error(`${this.topic.describe()} has no partition ${JSON.stringify(id)}`);
    return index;
  }
}

/** Positions come back from checkpoints, possibly as strings; an offset is a non-negative integer. */
function toOffset(topic: string, id: string, position: SourcePosition): number {
  const offset =
    typeof position === 'number' ? position : /^\d+$/.test(position) ? Number(position) : Number.NaN;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new Error(`${topic}: partition ${id} position ${JSON.stringify(position)} is not an offset`);
  }
  return offset;
}
