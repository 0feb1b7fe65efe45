import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { describe, test } from 'node:test';
import pg from 'pg';
import { chromiumPath, createTestDatabase, postgresUrl } from './services.ts';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length === 1;
  } finally {
    await client.end();
  }
}

const localServer = `127.0.0.1:${process.env.SCOUT_PG_PORT || 55432}`;
const externalServer =
  process.env.TEST_DATABASE_URL && new URL(process.env.TEST_DATABASE_URL).host !== localServer;

describe('test services', () => {
  test('postgresUrl starts or reuses the local server when TEST_DATABASE_URL is unset', {
    skip: externalServer ? 'TEST_DATABASE_URL names another server' : false,
  }, () => {
    const saved = process.env.TEST_DATABASE_URL;
    delete process.env.TEST_DATABASE_URL;
    try {
      assert.equal(postgresUrl(), `postgres://postgres@${localServer}/streamscout`);
    } finally {
      if (saved !== undefined) process.env.TEST_DATABASE_URL = saved;
    }
  });

  test('createTestDatabase gives each caller an empty database of its own and drops it', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      assert.notEqual(a.name, b.name);
      assert.match(a.name, /^scout_test_[0-9a-f]{12}$/);
      assert.equal(new URL(a.url).pathname, `/${a.name}`);
      const client = new pg.Client({ connectionString: a.url });
      await client.connect();
      const { rows } = await client.query(
        `SELECT current_database() AS db, COUNT(*)::int AS tables
           FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      assert.deepEqual(rows, [{ db: a.name, tables: 0 }]);
      // Left open on purpose: drop() must end it rather than fail.
      client.on('error', () => {});
      await a.drop();
      assert.equal(await databaseExists(a.name), false);
      assert.equal(await databaseExists(b.name), true);
    } finally {
      await b.drop();
    }
    assert.equal(await databaseExists(b.name), false);
  });

  test('chromiumPath names an executable', () => {
    const path = chromiumPath();
    assert.doesNotThrow(() => accessSync(path, constants.X_OK), path);
  });
});
