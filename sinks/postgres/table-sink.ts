/**
 * The machinery every Postgres (or PGlite) table sink shares: each batch is one transaction whose
 * statements the table's `writeBatch` gives, written idempotently (upserts, `ON CONFLICT`), so
 * writing the same records again — a replay after a crash, a retry after a commit whose answer was
 * lost — changes nothing.
 *
 * While the database is unreachable the write retries with capped exponential backoff and its
 * promise stays pending: the runtime then holds a bounded number of records and pauses the
 * sources, so an outage slows the job down instead of losing rows or filling memory. Errors that
 * retrying cannot fix (bad data, a missing table) fail the write with one line.
 */

import type { Database, Queryable } from '../../connectors/postgres/database.ts';
import { errorText, isTransientError, sqlState } from '../../connectors/postgres/errors.ts';
import type { Sink, SinkContext, SinkWriter } from '../../pipeline/types.ts';

/**
 * Rows per INSERT statement. One statement per few hundred rows keeps round trips rare (a
 * 1024-record batch is three statements); Postgres caps a statement at 65535 parameters (13107
 * rows of five columns), and a much larger statement takes longer to plan and holds its locks
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

export interface PostgresTableSinkOptions {
  /** Rows per INSERT statement (default 500). */
  readonly rowsPerStatement?: number;
  /** First retry delay after a transient error, ms (default 100). */
  readonly retryInitialMs?: number;
  /** Cap of the doubling retry delay, ms (default 10 s). */
  readonly retryMaxMs?: number;
  /** Where the rows go, for `describe()` when `db` is a factory (an opened database says it itself). */
  readonly where?: string;
  /**
   * Whether each writer closes the database `db` gives it when it closes (default true). False
   * for a database shared by many writers — the partition tasks of a Kafka job — closed by its owner.
   */
  readonly closesDatabase?: boolean;
}

/** What the sink has done so far, for metrics and the CLI. */
export interface TableSinkStats {
  /** Rows inserted (or changed). */
  readonly rowsWritten: number;
  /** Records written that were already stored (replays and retries), skipped by `ON CONFLICT`. */
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

/** What one table sink writes and how. */
export interface TableSpec<T> {
  /** The table, for descriptions and errors. */
  readonly table: string;
  /** What its records are called in errors ("clips"). */
  readonly rows: string;
  /** Writes one batch inside a transaction; returns how many records were new to the table. */
  writeBatch(tx: Queryable, records: readonly T[], rowsPerStatement: number): Promise<{ inserted: number }>;
}

export interface PostgresTableSink<T> extends Sink<T> {
  stats(): TableSinkStats;
}

/**
 * A sink writing `spec`'s table. Given a `Database` the caller keeps owning it; given a factory,
 * each opened writer opens its own and closes it when the writer closes (unless `closesDatabase`
 * is false).
 */
export function postgresTableSink<T>(
  spec: TableSpec<T>,
  db: Database | (() => Promise<Database>),
  options: PostgresTableSinkOptions = {},
): PostgresTableSink<T> {
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
    describe: () => (where ? `postgres ${spec.table} (${where})` : `postgres ${spec.table}`),
    stats: () => ({ ...counters }),
    async open(ctx: SinkContext): Promise<SinkWriter<T>> {
      if (typeof db !== 'function') return new TableWriter(db, false, ctx, settings, counters, spec);
      const opened = await db();
      where ??= opened.describe();
      return new TableWriter(opened, options.closesDatabase ?? true, ctx, settings, counters, spec);
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

class TableWriter<T> implements SinkWriter<T> {
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
    private readonly spec: TableSpec<T>,
  ) {
    this.closing = new Promise((resolve) => {
      this.signalClosing = resolve;
    });
  }

  write(records: readonly T[]): Promise<void> | undefined {
    if (this.closed) throw new Error(`postgres ${this.spec.table}: write after close`);
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
   * Stops: a write waiting to retry gives up and rejects (its rows are not stored; the runtime
   * only closes with writes pending when the job is failing anyway). An owned database is closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosing();
    await this.pending?.catch(() => {});
    if (this.ownsDb) await this.db.close();
  }

  private async writeWithRetries(records: readonly T[]): Promise<void> {
    let delay = this.settings.retryInitialMs;
    for (;;) {
      try {
        const { inserted } = await this.db.transaction((tx) =>
          this.spec.writeBatch(tx, records, this.settings.rowsPerStatement),
        );
        this.counters.rowsWritten += inserted;
        this.counters.duplicatesSkipped += records.length - inserted;
        this.counters.transactions++;
        this.counters.retrying = false;
        return;
      } catch (error) {
        this.counters.lastError = errorText(error);
        if (!isTransientError(error)) {
          this.counters.retrying = false;
          throw this.permanentError(error);
        }
        if (this.closed) throw this.closedError(records.length, error);
        this.counters.retries++;
        this.counters.retrying = true;
        await Promise.race([this.ctx.clock.sleep(delay), this.closing]);
        if (this.closed) {
          this.counters.retrying = false;
          throw this.closedError(records.length, error);
        }
        delay = Math.min(delay * 2, this.settings.retryMaxMs);
      }
    }
  }

  private closedError(unwritten: number, error: unknown): Error {
    return new Error(
      `postgres ${this.spec.table}: closed with ${unwritten} ${this.spec.rows} unwritten (${errorText(error)})`,
      {
        cause: error,
      },
    );
  }

  private permanentError(error: unknown): Error {
    const where = this.db.describe();
    const message =
      sqlState(error) === '42P01'
        ? `postgres ${this.spec.table}: ${errorText(error)} in ${where}; run \`scout migrate\` first`
        : `postgres ${this.spec.table}: ${errorText(error)} (${where})`;
    return new Error(message, { cause: error });
  }
}

/**
 * `($1, $2), ($3, $4)` for `rows` rows of `columns` columns; `expression` may wrap a column's
 * parameter in SQL.
 */
export function placeholders(
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
