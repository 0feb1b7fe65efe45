/**
 * Replays recorded JSON Lines files as a source, one partition per file, merged in event-time
 * order and optionally paced at the recorded speed.
 *
 * - Merge: each poll takes records from the file whose next record is earliest, and only while
 *   they are no later than the next record of every other unfinished file, so several files (each
 *   sorted by time) come out as one stream sorted by time.
 * - Positions: a partition's position is the number of lines of the file consumed (blank and
 *   malformed lines included), i.e. the line number of the last record emitted. Resuming skips
 *   that many lines, counting newlines without parsing; a line number is the same in the plain
 *   and the gzipped copy of a file, and is what a person looks for in the file.
 * - Bad lines: a line that is not JSON, fails validation or has no finite timestamp is counted
 *   and skipped, never thrown; `stats()` reports the counts, the first such line, and the bytes
 *   read against the total for a progress bar. Blank lines are passed over without counting.
 */
import type { Poll, Source, SourceContext, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { parseChatRecord } from './chat-record.ts';
import { LineReader } from './line-reader.ts';
import { partitionIds } from './partition-ids.ts';

export interface JsonlReplayOptions<T> {
  /** Event time of a record, epoch ms. Default: its `ts` field. */
  readonly timestamp?: (record: T) => number;
  /** Turns a line into a record, throwing if it cannot. Default: chat lines of either shape (`parseChatRecord`). */
  readonly parse?: (line: string) => T;
  /**
   * Checks a parsed value. With neither `parse` nor `validate`, lines are read as chat: either the
   * recorded format or a `chat-messages` record (`parseChatRecord`).
   */
  readonly validate?: (value: unknown) => value is T;
  /**
   * Pace as a multiple of the recorded pace: 1 = as recorded, 10 = ten times faster. Undefined or
   * 0 = as fast as possible.
   */
  readonly speed?: number;
}

/** Options for a replay of records other than `ChatLine`: something must check what a line holds. */
export type JsonlReplayOptionsFor<T> = JsonlReplayOptions<T> &
  ({ readonly validate: (value: unknown) => value is T } | { readonly parse: (line: string) => T }) &
  (T extends { readonly ts: number } ? unknown : { readonly timestamp: (record: T) => number });

export interface MalformedLine {
  readonly file: string;
  /** 1-based line number in the file. */
  readonly line: number;
  readonly error: string;
}

export interface JsonlReplayStats {
  /** Lines read in this run; lines skipped when resuming are not read and not counted. */
  readonly linesRead: number;
  /** Lines counted and skipped: not JSON, failed validation, or no finite timestamp. */
  readonly malformed: number;
  readonly firstMalformed?: MalformedLine;
  /** Bytes read from disk (compressed bytes for gzipped files), skipped lines included. */
  readonly bytesRead: number;
  /** Sum of the files' sizes on disk. */
  readonly totalBytes: number;
}

export interface JsonlReplaySource<T> extends Source<T> {
  /** Counts of the reader opened last (zeros before the first open). */
  stats(): JsonlReplayStats;
}

/**
 * Replays JSON Lines files (plain or gzipped) of chat lines, one partition per file.
 *
 * @example
 * const source = jsonlReplaySource(['data/xqc.jsonl.gz', 'data/shroud.jsonl'], { speed: 10 });
 * pipeline('replay').from(source, { timestamp: (m) => m.ts });
 * // after the run:
 * const { malformed, firstMalformed } = source.stats();
 */
export function jsonlReplaySource(
  files: readonly string[],
  options?: JsonlReplayOptions<ChatLine>,
): JsonlReplaySource<ChatLine>;
/**
 * Replays JSON Lines files of any record type; `validate` or `parse` must say what a line holds,
 * and `timestamp` where its time is unless it has a numeric `ts`.
 *
 * @example
 * const isView = (v: unknown): v is { at: number; viewers: number } =>
 *   typeof v === 'object' && v !== null && typeof (v as { at?: unknown }).at === 'number';
 * jsonlReplaySource<{ at: number; viewers: number }>(['views.jsonl'], { validate: isView, timestamp: (v) => v.at });
 */
export function jsonlReplaySource<T>(
  files: readonly string[],
  options: JsonlReplayOptionsFor<T>,
): JsonlReplaySource<T>;
export function jsonlReplaySource<T>(
  files: readonly string[],
  options: JsonlReplayOptions<T> = {},
): JsonlReplaySource<T> {
  const ids = partitionIds(files);
  const speed = options.speed ?? 0;
  if (!Number.isFinite(speed) || speed < 0) {
    throw new RangeError(`jsonl-replay: speed must be ≥ 0, got ${speed}`);
  }
  const config: ReplayConfig<T> = {
    files: [...files],
    ids,
    speed,
    // With neither given, lines are chat in either of its two shapes (see chat-record.ts).
    parse:
      options.parse ?? (options.validate ? JSON.parse : (parseChatRecord as unknown as (line: string) => T)),
    validate: options.validate,
    timestamp: options.timestamp ?? ((record: T) => (record as { ts?: unknown }).ts as number),
  };
  let current: ReplayReader<T> | undefined;
  return {
    describe() {
      const what = files.length === 1 ? files[0] : `${files.length} files`;
      return `jsonl-replay ${what}${speed > 0 ? ` at ${speed}× recorded pace` : ''}`;
    },
    async open(ctx) {
      const reader = await ReplayReader.open(config, ctx);
      current = reader;
      return reader;
    },
    stats() {
      return current?.stats() ?? { linesRead: 0, malformed: 0, bytesRead: 0, totalBytes: 0 };
    },
  };
}

interface ReplayConfig<T> {
  readonly files: readonly string[];
  readonly ids: readonly string[];
  readonly speed: number;
  readonly parse: (line: string) => T;
  readonly validate: ((value: unknown) => value is T) | undefined;
  readonly timestamp: (record: T) => number;
}

interface Head<T> {
  readonly record: T;
  readonly ts: number;
  /** Line number of the record, its partition's position once emitted. */
  readonly line: number;
}

interface Partition<T> {
  readonly id: string;
  readonly lines: LineReader;
  /** The next record, parsed ahead so that its time can be compared with the other files'. */
  head: Head<T> | undefined;
  /** `partition-end` has been returned. */
  ended: boolean;
}

/** Where the pace is measured from: the clock time of the first poll, the time of the first record. */
interface Anchor {
  readonly now: number;
  firstTs: number | undefined;
}

class ReplayReader<T> implements SourceReader<T> {
  private linesRead = 0;
  private malformed = 0;
  private firstMalformed: MalformedLine | undefined;
  private anchor: Anchor | undefined;
  private closed = false;

  private constructor(
    private readonly config: ReplayConfig<T>,
    private readonly ctx: SourceContext,
    private readonly parts: Partition<T>[],
  ) {}

  static async open<T>(config: ReplayConfig<T>, ctx: SourceContext): Promise<ReplayReader<T>> {
    const skips = config.ids.map(() => 0);
    for (const [id, position] of ctx.startPositions ?? []) {
      const index = config.ids.indexOf(id);
      if (index < 0) {
        throw new Error(`jsonl-replay: the checkpoint has a position for ${id}, which is not replayed`);
      }
      skips[index] = toLineCount(id, position);
    }
    const opened = await Promise.allSettled(
      config.files.map((file, i) => LineReader.open(file, { skipLines: skips[i]! })),
    );
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed !== undefined) {
      for (const o of opened) if (o.status === 'fulfilled') o.value.close();
      throw failed.reason;
    }
    const parts = opened.map((o, i) => ({
      id: config.ids[i]!,
      lines: (o as PromiseFulfilledResult<LineReader>).value,
      head: undefined,
      ended: false,
    }));
    return new ReplayReader(config, ctx, parts);
  }

  partitions(): readonly string[] {
    return this.config.ids;
  }

  poll(maxRecords: number): Poll<T> {
    const { clock } = this.ctx;
    this.anchor ??= { now: clock.now(), firstTs: undefined };

    // Every unfinished file needs its next record known before any file may emit.
    const reads: Promise<void>[] = [];
    for (const part of this.parts) {
      if (part.ended || part.head !== undefined) continue;
      this.advance(part);
      if (part.head === undefined && !part.lines.done) reads.push(part.lines.fill());
    }
    if (reads.length > 0) return { kind: 'idle', ready: Promise.all(reads).then(() => {}) };

    let first: Partition<T> | undefined;
    let others = Number.POSITIVE_INFINITY;
    for (const part of this.parts) {
      if (part.ended) continue;
      if (part.head === undefined) {
        part.ended = true;
        return { kind: 'partition-end', partition: part.id };
      }
      if (first === undefined || part.head.ts < first.head!.ts) {
        if (first !== undefined) others = Math.min(others, first.head!.ts);
        first = part;
      } else {
        others = Math.min(others, part.head.ts);
      }
    }
    if (first === undefined) return { kind: 'end' };

    this.anchor.firstTs ??= first.head!.ts;
    const wait = this.untilDue(first.head!.ts);
    if (wait > 0) return { kind: 'idle', ready: clock.sleep(wait) };

    const records: T[] = [];
    let position = 0;
    while (records.length < maxRecords || records.length === 0) {
      const head = first.head;
      if (head === undefined || head.ts > others || this.untilDue(head.ts) > 0) break;
      records.push(head.record);
      position = head.line;
      first.head = undefined;
      // Only what is already buffered: a batch never waits for the disk.
      this.advance(first);
    }
    return { kind: 'records', partition: first.id, records, position };
  }

  stats(): JsonlReplayStats {
    let bytesRead = 0;
    let totalBytes = 0;
    for (const part of this.parts) {
      bytesRead += part.lines.bytesRead;
      totalBytes += part.lines.size;
    }
    return {
      linesRead: this.linesRead,
      malformed: this.malformed,
      ...(this.firstMalformed ? { firstMalformed: this.firstMalformed } : {}),
      bytesRead,
      totalBytes,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const part of this.parts) part.lines.close();
  }

  /** Parses buffered lines of `part` until it has a head or the buffer is empty; throws a read error. */
  private advance(part: Partition<T>): void {
    const { lines } = part;
    while (part.head === undefined) {
      if (lines.failure !== undefined) throw lines.failure;
      const line = lines.take();
      if (line === undefined) return;
      this.linesRead++;
      if (line.trim() === '') continue;
      part.head = this.parseLine(line, lines.path, lines.lineNumber);
    }
  }

  private parseLine(line: string, file: string, lineNumber: number): Head<T> | undefined {
    const { parse, validate, timestamp } = this.config;
    let record: T;
    try {
      record = parse(line);
    } catch (error) {
      return this.reject(file, lineNumber, error instanceof Error ? error.message : String(error));
    }
    if (validate !== undefined && !validate(record)) {
      return this.reject(file, lineNumber, 'failed validation');
    }
    let ts: number;
    try {
      ts = timestamp(record);
    } catch (error) {
      return this.reject(file, lineNumber, error instanceof Error ? error.message : String(error));
    }
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      return this.reject(file, lineNumber, 'timestamp is not a finite number');
    }
    return { record, ts, line: lineNumber };
  }

  private reject(file: string, line: number, error: string): undefined {
    this.malformed++;
    this.firstMalformed ??= { file, line, error };
    return undefined;
  }

  /** Clock ms until a record at `ts` is due (0 when due or unpaced), rounded up so waking means due. */
  private untilDue(ts: number): number {
    const { speed } = this.config;
    const anchor = this.anchor!;
    if (speed === 0 || anchor.firstTs === undefined) return 0;
    const dueAt = anchor.now + (ts - anchor.firstTs) / speed;
    return Math.max(0, Math.ceil(dueAt - this.ctx.clock.now()));
  }
}

/** Positions come back from checkpoints, possibly as strings; a position is a line count. */
function toLineCount(id: string, position: SourcePosition): number {
  const count =
    typeof position === 'number' ? position : /^\d+$/.test(position) ? Number(position) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new Error(`jsonl-replay: position ${JSON.stringify(position)} of ${id} is not a line count`);
  }
  return count;
}
