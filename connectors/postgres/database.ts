/**
 * One small interface over the two databases streamscout runs on: PGlite (Postgres compiled to
 * WebAssembly, in-process, persisted under `./data`) for the embedded default, and a Postgres
 * server through a `pg` pool when `DATABASE_URL` is set. Both return timestamps as epoch
 * milliseconds (the columns are `TIMESTAMP` without zone and hold UTC) and BIGINT as numbers
 * (Twitch ids fit in 2^53), so callers see the same rows either way.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Queryable {
  /** Runs one statement with `$1…` parameters and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, without credentials: `PGlite at data/pglite`, `postgres://host:5432/db`. */
  describe(): string;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A `postgres://` URL; when absent, PGlite is used. */
  readonly url?: string;
  /** PGlite's data folder (default `data/pglite`); `memory://` keeps it in memory. */
  readonly dataDir?: string;
}

/** Default PGlite folder of the embedded default. */
export const DEFAULT_PGLITE_DIR = 'data/pglite';

const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

/** `2026-11-20 10:00:00.123` (a UTC wall time) → epoch ms. */
function parseUtcTimestamp(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** Opens the database `options` name: a Postgres server when `url` is given, else PGlite. */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir ?? DEFAULT_PGLITE_DIR);
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dataDir.startsWith('memory://')) mkdirSync(dirname(dataDir), { recursive: true });
  const parsers = {
    [TIMESTAMP_OID]: parseUtcTimestamp,
    [TIMESTAMPTZ_OID]: (text: string) => Date.parse(text),
    [INT8_OID]: (text: string) => Number(text),
  };
  const db = new PGlite(dataDir, { parsers });
  await db.waitReady;
  // PGlite's session time zone follows nothing outside it; NOW() must give UTC wall time.
  await db.exec(`SET TIME ZONE 'UTC'`);
  const queryable = (q: Pick<typeof db, 'query'>): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await q.query<R>(sql, [...params])).rows;
    },
  });
  return {
    kind: 'pglite',
    describe: () => `PGlite at ${dataDir}`,
    ...queryable(db),
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) => db.transaction((tx) => fn(queryable(tx))),
    close: () => db.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pg = (await import('pg')).default;
  const parsers: Record<number, (text: string) => unknown> = {
    [TIMESTAMP_OID]: parseUtcTimestamp,
    [TIMESTAMPTZ_OID]: (text: string) => Date.parse(text),
    [INT8_OID]: (text: string) => Number(text),
  };
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      parsers[oid] ?? pg.types.getTypeParser(oid, format as 'text'),
  };
  const pool = new pg.Pool({
    connectionString: url,
    types,
    // A connection attempt to a database that is down fails after this long instead of hanging;
    // the caller's retry loop decides what happens next.
    connectionTimeoutMillis: 5_000,
    // Every session writes and reads UTC wall times in the TIMESTAMP columns.
    options: '-c TimeZone=UTC',
  });
  // An idle client losing its server emits 'error' on the pool; without a listener Node would exit.
  pool.on('error', () => {});
  const redacted = (() => {
    try {
      const u = new URL(url);
      return `postgres://${u.host}${u.pathname}`;
    } catch {
      return 'postgres (unparsable URL)';
    }
  })();
  return {
    kind: 'postgres',
    describe: () => redacted,
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, [...params])).rows as R[];
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client whose connection dies emits 'error' besides failing its query; the
      // pool listens only while the client is idle, so without this listener Node would exit.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(sql: string, params: readonly unknown[] = []) =>
            (await client.query(sql, [...params])).rows as R[],
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.off('error', onError);
        // Releasing with the error makes the pool discard the broken connection.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
