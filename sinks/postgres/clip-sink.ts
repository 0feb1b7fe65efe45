/**
 * Writes the highlights job's clips to Postgres (or PGlite). Each batch is one transaction: the
 * streamers' logins are upserted, then the clips are inserted a few hundred rows per statement with
 * `ON CONFLICT (clip_id) DO NOTHING`, so writing the same clips again (a replay after a crash, a
 * retry after a commit whose answer was lost) stores each clip once.
 *
 * While the database is unreachable the write retries with capped exponential backoff and its
 * promise stays pending: the runtime then holds a bounded number of records and pauses the
 * sources, so an outage slows the job down instead of losing clips or filling memory. Errors that
 * retrying cannot fix (bad data, a missing table) fail the write with one line.
 */

import type { Database, Queryable } from '../../connectors/postgres/database.ts';
import { errorText, isTransientError, sqlState } from '../../connectors/postgres/errors.ts';
import type { Sink, SinkContext, SinkWriter } from '../../pipeline/types.ts';
import type { Clip } from '../../schemas/clip.ts';

/**
 * Clips per INSERT statement. One statement per few hundred rows keeps round trips rare (a
 * 1024-record batch is three statements); Postgres caps a statement at 65535 parameters (13107
 * clips of five columns), and a much larger statement takes longer to plan and holds its locks
 * longer for no gain.
 */
export const DEFAULT_ROWS_PER_STATEMENT = 500;

/**
 * First retry delay after a transient error. Short, because the common case is a blip (a server
 * restart, a pool connection cut by a proxy) that has passed by then; much shorter would hammer a
 * server that is starting up.
 */
export const DEFAULT_RETRY_INITIAL_MS = 100;

/**
 * Longest retry delay; delays double up to it. A longer cap makes the job notice a recovered
 * database later (clips reach the table that much later); a shorter one sends a down server a
 * connection attempt that often, for as long as it stays down.
 */
export const DEFAULT_RETRY_MAX_MS = 10_000;

export interface PostgresClipSinkOptions {
  /** Clips per INSERT statement (default 500). */
  readonly rowsPerStatement?: number;
  /** First retry delay after a transient error, ms (default 100). */
  readonly retryInitialMs?: number;
  /** Cap of the doubling retry delay, ms (default 10 s). */
  readonly retryMaxMs?: number;
  /** Where the clips go, for `describe()` when `db` is a factory (an opened database says it itself). */
  readonly where?: string;
  /**
   * Whether each writer closes the database `db` gives it when it closes (default true). False
   * for a database shared by many writers — the partition tasks of a Kafka job — closed by its owner.
   */
  readonly closesDatabase?: boolean;
}

/** What the sink has done so far, for metrics and the CLI. */
export interface ClipSinkStats {
  /** Clip rows inserted. */
  readonly rowsWritten: number;
  /** Clips written that were already stored (replays and retries), skipped by `ON CONFLICT`. */
  readonly duplicatesSkipped: number;
  /** Transactions committed. */
  readonly transactions: number;
  /** Failed attempts that were retried. */
  readonly retries: number;
  /** The last error, transient or not, in one line. */
  readonly lastError?: string;
  /** True while a write is waiting to retry. */
  readonly retrying: boolean;
}

export interface PostgresClipSink extends Sink<Clip> {
  stats(): ClipSinkStats;
}

/**
 * A sink storing clips in the `streamers` and `clips` tables (run `scout migrate` first). Given a
 * `Database` the caller keeps owning it; given a factory, each opened writer opens its own and
 * closes it when the writer closes.
 *
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * const sink = postgresClipSink(db);
 * pipeline('store-clips').from(clipSource, { timestamp: (c) => c.detected_at }).to(sink);
 * const { rowsWritten, retries } = sink.stats();
 */
export function postgresClipSink(
  db: Database | (() => Promise<Database>),
  options: PostgresClipSinkOptions = {},
): PostgresClipSink {
  const settings: Settings = {
    rowsPerStatement: options.rowsPerStatement ?? DEFAULT_ROWS_PER_STATEMENT,
    retryInitialMs: options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS,
    retryMaxMs: options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
  };
  if (!Number.isInteger(settings.rowsPerStatement) || settings.rowsPerStatement < 1) {
    throw new RangeError(`rowsPerStatement must be a positive integer, got ${settings.rowsPerStatement}`);
  }
  const counters: Counters = {
    rowsWritten: 0,
    duplicatesSkipped: 0,
    transactions: 0,
    retries: 0,
    lastError: undefined,
    retrying: false,
  };
  let where = typeof db === 'function' ? options.where : db.describe();
  return {
    describe: () => (where ? `postgres clips (${where})` : 'postgres clips'),
    stats: () => ({ ...counters }),
    async open(ctx: SinkContext): Promise<SinkWriter<Clip>> {
      if (typeof db !== 'function') return new ClipWriter(db, false, ctx, settings, counters);
      const opened = await db();
      where ??= opened.describe();
      return new ClipWriter(opened, options.closesDatabase ?? true, ctx, settings, counters);
    },
  };
}

interface Settings {
  readonly rowsPerStatement: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

interface Counters {
  rowsWritten: number;
  duplicatesSkipped: number;
  transactions: number;
  retries: number;
  lastError: string | undefined;
  retrying: boolean;
}

class ClipWriter implements SinkWriter<Clip> {
  /** The last write still in progress; later writes queue behind it so batches commit in order. */
  private pending: Promise<void> | undefined;
  private closed = false;
  /** Resolves when `close()` is called, to cut a retry wait short. */
  private readonly closing: Promise<void>;
  private signalClosing: () => void = () => {};

  constructor(
    private readonly db: Database,
    private readonly ownsDb: boolean,
    private readonly ctx: SinkContext,
    private readonly settings: Settings,
    private readonly counters: Counters,
  ) {
    this.closing = new Promise((resolve) => {
      this.signalClosing = resolve;
    });
  }

  write(records: readonly Clip[]): Promise<void> | undefined {
    if (this.closed) throw new Error('postgres clips: write after close');
    if (records.length === 0) return undefined;
    // The runtime hands over a batch and never changes it, but a direct caller might.
    const batch = records.slice();
    const previous = this.pending;
    const work = previous ? previous.then(() => this.writeWithRetries(batch)) : this.writeWithRetries(batch);
    const pending = work.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }

  async flush(): Promise<void> {
    await this.pending;
  }

  /**
   * Stops: a write waiting to retry gives up and rejects (its clips are not stored; the runtime
   * only closes with writes pending when the job is failing anyway). An owned database is closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosing();
    await this.pending?.catch(() => {});
    if (this.ownsDb) await this.db.close();
  }

  private async writeWithRetries(clips: readonly Clip[]): Promise<void> {
    let delay = this.settings.retryInitialMs;
    for (;;) {
      try {
        const { inserted } = await this.db.transaction((tx) => this.writeBatch(tx, clips));
        this.counters.rowsWritten += inserted;
        this.counters.duplicatesSkipped += clips.length - inserted;
        this.counters.transactions++;
        this.counters.retrying = false;
        return;
      } catch (error) {
        this.counters.lastError = errorText(error);
        if (!isTransientError(error)) {
          this.counters.retrying = false;
          throw this.permanentError(error);
        }
        if (this.closed) throw this.closedError(clips.length, error);
        this.counters.retries++;
        this.counters.retrying = true;
        await Promise.race([this.ctx.clock.sleep(delay), this.closing]);
        if (this.closed) {
          this.counters.retrying = false;
          throw this.closedError(clips.length, error);
        }
        delay = Math.min(delay * 2, this.settings.retryMaxMs);
      }
    }
  }

  private closedError(unwritten: number, error: unknown): Error {
    return new Error(`postgres clips: closed with ${unwritten} clips unwritten (${errorText(error)})`, {
      cause: error,
    });
  }

  /** Upserts the streamers, then inserts the clips; returns how many clip rows were new. */
  private async writeBatch(tx: Queryable, clips: readonly Clip[]): Promise<{ inserted: number }> {
    // One row per broadcaster (the last login in the batch wins): ON CONFLICT DO UPDATE refuses to
    // touch a row twice in one statement. Ascending ids make concurrent writers lock rows in the
    // same order, so they wait for each other instead of deadlocking.
    const logins = new Map<number, string>();
    for (const c of clips) logins.set(c.broadcaster_id, c.broadcaster_login);
    const streamers = [...logins].sort((a, b) => a[0] - b[0]);
    const size = this.settings.rowsPerStatement;
    for (let i = 0; i < streamers.length; i += size) {
      const rows = streamers.slice(i, i + size);
      await tx.query(
        `INSERT INTO streamers (broadcaster_id, streamer_login) VALUES ${placeholders(rows.length, 2)}
         ON CONFLICT (broadcaster_id) DO UPDATE SET streamer_login = EXCLUDED.streamer_login`,
        rows.flat(),
      );
    }
    let inserted = 0;
    for (let i = 0; i < clips.length; i += size) {
      const rows = clips.slice(i, i + size);
      const params: unknown[] = [];
      for (const c of rows)
        params.push(c.broadcaster_id, c.clip_id, c.embed_url, c.thumbnail_url, c.detected_at);
      const result = await tx.query(
        `INSERT INTO clips (broadcaster_id, clip_id, embed_url, thumbnail_url, detected_at)
         VALUES ${placeholders(rows.length, 5, (column, param) => (column === 4 ? detectedAt(param) : param))}
         ON CONFLICT (clip_id) DO NOTHING
         RETURNING id`,
        params,
      );
      inserted += result.length;
    }
    return { inserted };
  }

  private permanentError(error: unknown): Error {
    const where = this.db.describe();
    const message =
      sqlState(error) === '42P01'
        ? `postgres clips: ${errorText(error)} in ${where}; run \`scout migrate\` first`
        : `postgres clips: ${errorText(error)} (${where})`;
    return new Error(message, { cause: error });
  }
}

/**
 * `detected_at` is epoch ms; the column is a TIMESTAMP holding UTC wall time. Converting in SQL
 * keeps the session's time zone out of it, and the bigint cast refuses a fractional or non-numeric
 * time instead of storing something near it.
 */
function detectedAt(param: string): string {
  return `to_timestamp(${param}::bigint / 1000.0) AT TIME ZONE 'UTC'`;
}

/**
 * `($1, $2), ($3, $4)` for `rows` rows of `columns` columns; `expression` may wrap a column's
 * parameter in SQL.
 */
function placeholders(
  rows: number,
  columns: number,
  expression: (column: number, param: string) => string = (_, param) => param,
): string {
  const tuples: string[] = [];
  let n = 1;
  for (let r = 0; r < rows; r++) {
    const values: string[] = [];
    for (let c = 0; c < columns; c++) values.push(expression(c, `$${n++}`));
    tuples.push(`(${values.join(', ')})`);
  }
  return tuples.join(', ');
}
