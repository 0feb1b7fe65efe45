/**
 * Reads a text file line by line, plain or gzipped, a chunk at a time: the replay source pulls a
 * chunk only when it has used the lines of the previous one, so a file of any size costs a few
 * stream buffers of memory. Lines are split on `\n` bytes (safe in UTF-8) and a trailing `\r` is
 * dropped. Errors never escape as rejections: they are kept in `failure`, worded
 * `cannot read <path>: <reason>` for the CLI to print as they are.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Bytes read from disk per chunk. Larger means fewer, bigger chunks and more memory per open file
 * (a replay keeps every file open at once); smaller means more awaits per megabyte.
 */
const READ_CHUNK_BYTES = 64 * 1024;

export interface LineReaderOptions {
  /** Lines to pass over unread at the start (resuming a replay); they are counted in `lineNumber`. */
  readonly skipLines?: number;
}

export class LineReader {
  /** Lines consumed so far, skipped ones included: the number of the last line taken. */
  lineNumber = 0;
  /** Set when reading failed; no more lines follow. */
  failure: Error | undefined;

  private readonly iterator: AsyncIterator<Buffer>;
  private readonly lines: string[] = [];
  private next = 0;
  /** Bytes of an unfinished line from previous chunks. */
  private partial: Buffer[] = [];
  private skip: number;
  /** True while bytes of a line being skipped have been seen without its newline. */
  private skippingPartial = false;
  private exhausted = false;
  private closed = false;
  private reading: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    /** Size of the file on disk, compressed if it is gzipped. */
    readonly size: number,
    readonly gzipped: boolean,
    private readonly file: ReadStream,
    stream: Readable,
    skipLines: number,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
    this.skip = skipLines;
  }

  /**
   * Opens `path`, gzipped or not by its first two bytes (the name is not trusted). Rejects with
   * `cannot read <path>: no such file` (or another one-line reason) when it cannot be read.
   */
  static async open(path: string, options: LineReaderOptions = {}): Promise<LineReader> {
    let size: number;
    let gzipped: boolean;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      size = info.size;
      const handle = await open(path, 'r');
      try {
        const head = Buffer.alloc(2);
        const { bytesRead } = await handle.read(head, 0, 2, 0);
        gzipped = bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw readError(path, error);
    }
    const file = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
    // `pipeline` forwards a file error to the gunzip stream, whose iterator then rejects with it.
    const stream = gzipped ? pipeline(file, createGunzip(), () => {}) : file;
    return new LineReader(path, size, gzipped, file, stream, options.skipLines ?? 0);
  }

  /** Bytes read from disk so far (compressed bytes for a gzipped file), for progress against `size`. */
  get bytesRead(): number {
    return this.file.bytesRead;
  }

  /** True once every line has been taken (or reading failed). */
  get done(): boolean {
    return this.next === this.lines.length && (this.exhausted || this.failure !== undefined);
  }

  /** The next line if one is buffered; undefined when `fill()` is needed first, or when `done`. */
  take(): string | undefined {
    if (this.next === this.lines.length) return undefined;
    const line = this.lines[this.next++]!;
    if (this.next === this.lines.length) {
      this.lines.length = 0;
      this.next = 0;
    }
    this.lineNumber++;
    return line;
  }

  /** Reads the next chunk into lines. Never rejects; concurrent calls share one read. */
  fill(): Promise<void> {
    if (this.exhausted || this.failure !== undefined || this.closed) return Promise.resolve();
    this.reading ??= this.readChunk().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.destroy();
    void this.iterator.return?.().catch(() => {});
  }

  private async readChunk(): Promise<void> {
    try {
      const { value, done } = await this.iterator.next();
      if (this.closed) return;
      if (done) this.finish();
      else this.split(value);
    } catch (error) {
      if (!this.closed) this.failure = readError(this.path, error);
    }
  }

  private split(chunk: Buffer): void {
    let start = 0;
    while (this.skip > 0) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) {
        this.skippingPartial = start < chunk.length || this.skippingPartial;
        return;
      }
      this.skip--;
      this.lineNumber++;
      this.skippingPartial = false;
      start = end + 1;
    }
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      if (this.partial.length === 0) {
        this.lines.push(decode(chunk, start, end));
      } else {
        this.partial.push(chunk.subarray(start, end));
        const joined = Buffer.concat(this.partial);
        this.partial = [];
        this.lines.push(decode(joined, 0, joined.length));
      }
      start = end + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  private finish(): void {
    this.exhausted = true;
    if (this.skip > 0 && this.skippingPartial) {
      // The last line had no newline and was one of those to skip.
      this.skip--;
      this.lineNumber++;
    }
    if (this.partial.length > 0) {
      const joined = Buffer.concat(this.partial);
      this.partial = [];
      this.lines.push(decode(joined, 0, joined.length));
    }
  }
}

function decode(bytes: Buffer, start: number, end: number): string {
  const last = end > start && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
  return bytes.toString('utf8', start, last);
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTFILE: 'not a regular file',
};

/** One line for the CLI: `cannot read <path>: <reason>`. */
function readError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const reason =
    (typeof code === 'string' ? REASONS[code] : undefined) ??
    (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new Error(`cannot read ${path}: ${reason}`, { cause: error });
}
