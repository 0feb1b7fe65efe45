import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../../connectors/postgres/database.ts';
import { MIGRATIONS_DIR, readMigrations } from '../../connectors/postgres/migrate.ts';
import { createTestDatabase } from '../../test/services.ts';
import { migrateCommand } from './migrate.ts';

function output(): { out: (s: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { out: (s) => chunks.push(s), text: () => chunks.join('') };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('migrateCommand', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scout-migrate-cli-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('migrates the embedded PGlite, then finds nothing left to do', async () => {
    const dataDir = join(scratch, 'pglite');
    const first = output();
    await migrateCommand({ dataDir }, first.out);
    assert.equal(
      first.text(),
      `applied 001_highlights.sql\nmigrations: 1 applied, 0 already applied (PGlite at ${dataDir})\n`,
    );
    const second = output();
    await migrateCommand({ dataDir }, second.out);
    assert.equal(second.text(), `migrations: 0 applied, 1 already applied (PGlite at ${dataDir})\n`);
  });

  test('migrates the server of a URL, naming it without credentials', async () => {
    const testDb = await createTestDatabase();
    try {
      const withPassword = new URL(testDb.url);
      withPassword.password = 'not-needed-with-trust-auth';
      const printed = output();
      await migrateCommand({ databaseUrl: withPassword.toString() }, printed.out);
      const { host, pathname } = new URL(testDb.url);
      assert.equal(
        printed.text(),
        `applied 001_highlights.sql\nmigrations: 1 applied, 0 already applied (postgres://${host}${pathname})\n`,
      );
      const db = await openDatabase({ url: testDb.url });
      try {
        assert.deepEqual(await db.query('SELECT COUNT(*)::int AS n FROM clips'), [{ n: 0 }]);
      } finally {
        await db.close();
      }
    } finally {
      await testDb.drop();
    }
  });

  test('says in one line that a server cannot be reached, without its password', async () => {
    const port = await closedPort();
    await assert.rejects(
      migrateCommand({ databaseUrl: `postgres://scout:hunter2@127.0.0.1:${port}/streamscout` }, () => {}),
      (error: Error) => {
        assert.equal(
          error.message,
          `cannot reach the database at postgres://127.0.0.1:${port}/streamscout: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
        return true;
      },
    );
  });

  test('refuses a migration changed after it was applied', async () => {
    const migrations = mkdtempSync(join(scratch, 'migrations-'));
    for (const m of readMigrations()) copyFileSync(join(MIGRATIONS_DIR, m.name), join(migrations, m.name));
    const dataDir = join(scratch, 'pglite-changed');
    await migrateCommand({ dataDir, migrationsDir: migrations }, () => {});
    appendFileSync(join(migrations, '001_highlights.sql'), '-- an edit\n');
    await assert.rejects(
      migrateCommand({ dataDir, migrationsDir: migrations }, () => {}),
      {
        name: 'MigrationError',
        message: /001_highlights\.sql changed after it was applied/,
      },
    );
  });
});
