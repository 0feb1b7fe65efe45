/**
 * `scout migrate`: applies the SQL files of `db/migrations` that the database has not seen yet —
 * on the Postgres server of `DATABASE_URL`, or else on the embedded PGlite in `data/pglite`.
 */
import { DEFAULT_PGLITE_DIR } from '../../connectors/postgres/database.ts';
import { type MigrateResult, openMigratedDatabase } from '../../connectors/postgres/migrate.ts';

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
  const { db, migrations } = await openMigratedDatabase({
    ...(options.databaseUrl
      ? { url: options.databaseUrl }
      : { dataDir: options.dataDir ?? DEFAULT_PGLITE_DIR }),
    ...(options.migrationsDir !== undefined ? { migrationsDir: options.migrationsDir } : {}),
  });
  try {
    for (const name of migrations.applied) out(`applied ${name}\n`);
    out(
      `migrations: ${migrations.applied.length} applied, ${migrations.alreadyApplied.length} already applied (${db.describe()})\n`,
    );
    return migrations;
  } finally {
    await db.close().catch(() => {});
  }
}
