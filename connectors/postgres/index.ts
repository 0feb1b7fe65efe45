/**
 * The Postgres client side: one `Database` interface over a Postgres server (a `pg` pool, when
 * `DATABASE_URL` is set) and the embedded PGlite, the SQL migrations of `db/migrations`, which
 * errors are worth retrying, and the read-side clip query. The sinks that write through it live in
 * `sinks/postgres`.
 *
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * await migrate(db);
 * const clips = await listClips(db, { start: Date.now() - 86_400_000, end: Date.now(), limit: 50 });
 */
export { type ClipRange, listClips, type StoredClip } from './clips-query.ts';
export {
  type Database,
  DEFAULT_PGLITE_DIR,
  type OpenOptions,
  openDatabase,
  type Queryable,
} from './database.ts';
export { errorText, isTransientError, sqlState } from './errors.ts';
export {
  MIGRATIONS_DIR,
  type MigrateResult,
  type Migration,
  MigrationError,
  migrate,
  readMigrations,
  splitStatements,
} from './migrate.ts';
