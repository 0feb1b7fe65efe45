/**
 * Writes records as JSON Lines to a file or to stdout. A batch becomes one write of its lines; the
 * write returns a promise only when the stream's buffer is full, so a slow disk or a slow reader of
 * stdout pauses the pipeline instead of filling memory.
 */
import { once } from 'node:events';
import { createWriteStream, fsync } from 'node:fs';
import { mkdir, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import type { Awaitable, Sink, SinkWriter } from '../../pipeline/types.ts';

export interface JsonlFileSinkOptions<T> {
  /** Turns a record into one line (without the newline; it must contain none). Default: `JSON.stringify`. */
  readonly serialize?: (record: T) => string;
}

/**
 * A sink writing one JSON line per record to `path` (parent folders are created, an existing file
 * is replaced), or to stdout for `'-'`.
 *
 * @example
 * pipeline('export').from(source).to(jsonlFileSink('out/chat.jsonl'));
 * pipeline('peek').from(source).to(jsonlFileSink('-', { serialize: (m) => JSON.stringify([m.ts, m.text]) }));
 */
export function jsonlFileSink<T>(path: string, options: JsonlFileSinkOptions<T> = {}): Sink<T> {
  const serialize = options.serialize ?? ((record: T) => JSON.stringify(record));
  return {
    describe: () => `jsonl-file ${path === '-' ? 'stdout' : path}`,
    async open(ctx) {
      if (path === '-') return new JsonlWriter(process.stdout, serialize, undefined, 0);
      try {
        await mkdir(dirname(path), { recursive: true });
        // Resuming from a checkpoint: keep the lines it covers, drop what was written after it
        // (the job writes those again), and append from there.
        // (A device such as /dev/null has no length to go back to.)
        const device = await stat(path).then(
          (st) => !st.isFile(),
          () => false,
        );
        const resume = device ? undefined : resumedBytes(ctx.resumeState);
        if (resume !== undefined) await truncate(path, resume).catch(missingIsEmpty(resume, path));
        const file =
          resume === undefined
            ? createWriteStream(path)
            : createWriteStream(path, { flags: 'r+', start: resume });
        const [fd] = (await once(file, 'open')) as [number];
        return new JsonlWriter(file, serialize, fd, resume ?? 0);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`cannot write ${path}: ${reason}`, { cause: error });
      }
    },
  };
}

/** The byte length a checkpoint recorded, if `state` is one. */
function resumedBytes(state: unknown): number | undefined {
  const bytes = (state as { bytes?: unknown } | undefined)?.bytes;
  return typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

/** A checkpoint of an empty output may find no file yet; anything else is an error. */
function missingIsEmpty(bytes: number, path: string) {
  return async (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && bytes === 0) return writeFile(path, '');
    throw error;
  };
}

class JsonlWriter<T> implements SinkWriter<T> {
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly stream: Writable,
    private readonly serialize: (record: T) => string,
    /** The file's descriptor when the sink opened the stream (and so closes it); stdout is only flushed. */
    private readonly fd: number | undefined,
    /** Bytes in the file before this writer's first write. */
    private bytes: number,
  ) {
    stream.on('error', this.onError);
  }

  write(records: readonly T[]): Awaitable<void> {
    if (this.failure) throw this.failure;
    if (records.length === 0) return;
    let text = '';
    for (const record of records) text += this.serialize(record) + '\n';
    this.bytes += Buffer.byteLength(text);
    if (this.stream.write(text)) return;
    return this.drained();
  }

  /** The file's length once flushed: a checkpoint's place in the output (stdout has none). */
  checkpointState(): { bytes: number } | undefined {
    return this.fd === undefined ? undefined : { bytes: this.bytes };
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.written();
    const { fd } = this;
    if (fd !== undefined) {
      await new Promise<void>((resolve, reject) =>
        // EINVAL: the target cannot be synced (/dev/null, a pipe or a terminal); nothing to make durable.
        fsync(fd, (error) => (error && error.code !== 'EINVAL' ? reject(error) : resolve())),
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fd === undefined) {
      await this.written();
      this.stream.off('error', this.onError);
      return;
    }
    if (this.failure) throw this.failure;
    const finished = once(this.stream, 'close');
    this.stream.end();
    await finished;
  }

  private readonly onError = (error: Error): void => {
    this.failure ??= error;
  };

  /** Resolves on 'drain'; rejects if the stream fails first. */
  private async drained(): Promise<void> {
    // `once` rejects when 'error' is emitted while waiting.
    await once(this.stream, 'drain');
  }

  /** Resolves once everything written so far has left the stream's buffer. */
  private written(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Chunks are written in order, so the callback of an empty write runs after all before it.
      this.stream.write('', (error) => (error ? reject(error) : resolve()));
    });
  }
}
