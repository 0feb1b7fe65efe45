/**
 * `scout migrate`: applies the SQL files of `db/migrations` that the database has not seen yet —
 * on the Postgres server of `DATABASE_URL`, or else on the embedded PGlite in `data/pglite`.
 */
import { type Database, DEFAULT_PGLITE_DIR, openDatabase } from '../../connectors/postgres/database.ts';
import { errorText, isTransientError } from '../../connectors/postgres/errors.ts';
import { type MigrateResult, MigrationError, migrate } from '../../connectors/postgres/migrate.ts';

export interface MigrateCommandOptions {
  /** A `postgres://` URL; without it the embedded PGlite is migrated. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's folder when there is no URL (default `data/pglite`). */
  readonly dataDir?: string | undefined;
  /** The migrations folder (default: the ones shipped in `db/migrations`). */
  readonly migrationsDir?: string | undefined;
}

/**
 * Migrates and prints one line per applied file, then a summary:
 * `migrations: 1 applied, 0 already applied (PGlite at data/pglite)`. Throws a one-line Error when
 * the database cannot be reached or a migration fails.
 *
 * @example
 * await migrateCommand({ databaseUrl: process.env.DATABASE_URL }, (s) => process.stdout.write(s));
 */
export async function migrateCommand(
  options: MigrateCommandOptions,
  out: (s: string) => void,
): Promise<MigrateResult> {
  const db = options.databaseUrl
    ? await openDatabase({ url: options.databaseUrl })
    : await openDatabase({ dataDir: options.dataDir ?? DEFAULT_PGLITE_DIR });
  try {
    const result = await migrateOrExplain(db, options.migrationsDir);
    for (const name of result.applied) out(`applied ${name}\n`);
    out(
      `migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied (${db.describe()})\n`,
    );
    return result;
  } finally {
    await db.close().catch(() => {});
  }
}

async function migrateOrExplain(db: Database, dir: string | undefined): Promise<MigrateResult> {
  try {
    return await (dir === undefined ? migrate(db) : migrate(db, dir));
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    // The pool connects lazily, so an unreachable server shows up as the first statement failing.
    if (isTransientError(error)) {
      throw new Error(`cannot reach the database at ${db.describe()}: ${errorText(error)}`, { cause: error });
    }
    throw new Error(`migrating ${db.describe()} failed: ${errorText(error)}`, { cause: error });
  }
}
