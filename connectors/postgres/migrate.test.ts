import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DATABASE_TARGETS } from '../../test/services.ts';
import type { Database } from './database.ts';
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations, splitStatements } from './migrate.ts';

/** A scratch copy of the shipped migrations, which a test may then change. */
function scratchMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scout-migrations-'));
  for (const m of readMigrations()) copyFileSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name));
  return dir;
}

async function columns(db: Database, table: string): Promise<string[]> {
  const rows = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

describe('splitStatements', () => {
  test('splits at semicolons and drops comments and blank statements', () => {
    const sql = `-- header; with a semicolon in a comment
CREATE TABLE a (x INT); -- trailing
;
CREATE INDEX i ON a(x);
`;
    assert.deepEqual(splitStatements(sql), ['CREATE TABLE a (x INT)', 'CREATE INDEX i ON a(x)']);
  });

  test('refuses what it would split wrongly', () => {
    assert.throws(() => splitStatements(`CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;`), {
      name: 'MigrationError',
    });
    assert.throws(() => splitStatements(`INSERT INTO t VALUES ('a;b');`), MigrationError);
  });

  test('splits the shipped highlights migration into its five statements', () => {
    const [highlights] = readMigrations();
    assert.equal(highlights?.name, '001_highlights.sql');
    const statements = splitStatements(highlights.sql);
    assert.equal(statements.length, 5);
    assert.match(statements[0]!, /^CREATE TABLE streamers/);
    assert.match(statements[4]!, /^CREATE INDEX idx_clips_broadcaster_id/);
  });
});

describe('readMigrations', () => {
  test('refuses a file not named NNN_description.sql and two files of one version', () => {
    const dir = scratchMigrations();
    try {
      writeFileSync(join(dir, 'oops.sql'), 'SELECT 1;');
      assert.throws(() => readMigrations(dir), /oops\.sql is not named NNN_description\.sql/);
      rmSync(join(dir, 'oops.sql'));
      writeFileSync(join(dir, '001_again.sql'), 'SELECT 1;');
      assert.throws(() => readMigrations(dir), /two migrations have version 1/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

/** The same behaviour on PGlite and on the real server. */
function migrateSuite(name: string, open: () => Promise<{ db: Database; dispose: () => Promise<void> }>) {
  describe(`migrate on ${name}`, () => {
    let db: Database;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ db, dispose } = await open());
    });
    after(() => dispose());
    // Each test starts from an empty schema (cheaper than a new database: PGlite takes seconds to start).
    beforeEach(() => db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public'));

    test('applies the highlights tables once, then nothing', async () => {
      const first = await migrate(db);
      assert.deepEqual(first, { applied: ['001_highlights.sql'], alreadyApplied: [] });
      assert.deepEqual(await columns(db, 'streamers'), [
        'broadcaster_id',
        'streamer_login',
        'allows_clipping',
        'first_seen_at',
        'last_seen_at',
      ]);
      assert.deepEqual(await columns(db, 'clips'), [
        'id',
        'broadcaster_id',
        'clip_id',
        'embed_url',
        'thumbnail_url',
        'detected_at',
        'created_at',
      ]);
      const indexes = await db.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename IN ('streamers', 'clips') ORDER BY indexname`,
      );
      assert.deepEqual(
        indexes.map((r) => r.indexname),
        [
          'clips_clip_id_key',
          'clips_pkey',
          'idx_clips_broadcaster_id',
          'idx_clips_detected_at',
          'idx_streamers_last_seen',
          'streamers_pkey',
        ],
      );

      const second = await migrate(db);
      assert.deepEqual(second, { applied: [], alreadyApplied: ['001_highlights.sql'] });
      const recorded = await db.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(recorded, [{ version: 1, name: '001_highlights.sql' }]);
    });

    test('refuses a migration that changed after it was applied, and applies a new file', async () => {
      const dir = scratchMigrations();
      try {
        await migrate(db, dir);
        writeFileSync(
          join(dir, '002_more.sql'),
          'CREATE TABLE more_a (x INT);\nCREATE TABLE more_b (y INT);\n',
        );
        assert.deepEqual(await migrate(db, dir), {
          applied: ['002_more.sql'],
          alreadyApplied: ['001_highlights.sql'],
        });
        assert.deepEqual(await columns(db, 'more_b'), ['y']);

        writeFileSync(join(dir, '002_more.sql'), 'CREATE TABLE more_a (x BIGINT);\n');
        await assert.rejects(migrate(db, dir), {
          name: 'MigrationError',
          message: /002_more\.sql changed after it was applied/,
        });
      } finally {
        rmSync(dir, { recursive: true });
      }
    });

    test('a failing migration leaves nothing behind and is not recorded', async () => {
      const dir = scratchMigrations();
      try {
        writeFileSync(
          join(dir, '002_broken.sql'),
          'CREATE TABLE half (x INT);\nCREATE TABLE nope (x NOTATYPE);\n',
        );
        await assert.rejects(migrate(db, dir), /notatype/);
        const tables = await db.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_name IN ('half', 'clips')`,
        );
        assert.deepEqual(
          tables.map((t) => t.table_name),
          ['clips'],
          '001 committed before, 002 rolled back whole',
        );
        const recorded = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
        assert.deepEqual(
          recorded.map((r) => r.name),
          ['001_highlights.sql'],
        );
      } finally {
        rmSync(dir, { recursive: true });
      }
    });
  });
}

for (const [name, open] of DATABASE_TARGETS) migrateSuite(name, open);
