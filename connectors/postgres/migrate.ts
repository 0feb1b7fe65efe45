/**
 * Schema migrations: plain SQL files in `db/migrations/`, named `NNN_description.sql`, applied in
 * order, each in its own transaction, and recorded in `schema_migrations` with a checksum. A file
 * that was applied and has changed since is refused: migrations are history, new changes go in a
 * new file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, type OpenOptions, openDatabase } from './database.ts';
import { errorText, isTransientError } from './errors.ts';

/** The migrations shipped with streamscout. */
export const MIGRATIONS_DIR = new URL('../../db/migrations/', import.meta.url).pathname;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads `dir`'s `NNN_name.sql` files, ordered by version. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = /^(\d+)_[\w-]+\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} is not named NNN_description.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  const seen = new Set<number>();
  for (const m of migrations) {
    if (seen.has(m.version)) throw new MigrationError(`two migrations have version ${m.version}`);
    seen.add(m.version);
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Applies the migrations of `dir` that `db` has not seen yet. */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT NOW()
  )`);
  const rows = await db.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations',
  );
  const done = new Map(rows.map((r) => [r.version, r]));
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const m of migrations) {
    const previous = done.get(m.version);
    if (previous) {
      if (previous.checksum !== m.checksum) {
        throw new MigrationError(
          `migration ${m.name} changed after it was applied (as ${previous.name}); put changes in a new file`,
        );
      }
      alreadyApplied.push(m.name);
      continue;
    }
    await db.transaction(async (tx) => {
      // Each statement separately: the pg driver's extended protocol takes one statement at a time.
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
    });
    applied.push(m.name);
  }
  return { applied, alreadyApplied };
}

/**
 * Splits a migration script at the semicolons that end statements. Migrations are plain DDL: no
 * function bodies or string literals holding semicolons (a file that needs them is refused rather
 * than split wrongly).
 */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql.replace(/--[^\n]*/g, '');
  if (/\$\$|'[^']*;[^']*'/.test(withoutComments)) {
    throw new MigrationError('migration holds a $$ body or a quoted semicolon; split it by hand');
  }
  return withoutComments
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Opens the database `options` name and brings its schema up to date — what every command that
 * reads or writes the tables does first. If migrating fails the database is closed again, and the
 * error is one line saying whether the server was unreachable or a migration failed.
 *
 * @example
 * const { db } = await openMigratedDatabase({ url: process.env.DATABASE_URL });
 */
export async function openMigratedDatabase(
  options: OpenOptions & { readonly migrationsDir?: string },
): Promise<{ db: Database; migrations: MigrateResult }> {
  const db = await openDatabase(options);
  try {
    return { db, migrations: await migrate(db, options.migrationsDir) };
  } catch (error) {
    await db.close().catch(() => {});
    if (error instanceof MigrationError) throw error;
    // The pool connects lazily, so an unreachable server shows up as the first statement failing.
    if (isTransientError(error)) {
      throw new Error(`cannot reach the database at ${db.describe()}: ${errorText(error)}`, { cause: error });
    }
    throw new Error(`migrating ${db.describe()} failed: ${errorText(error)}`, { cause: error });
  }
}
