/**
 * The real services integration tests run against, found or started by `scripts/services`: a test
 * file calls `postgresUrl()` or `chromiumPath()` and works both standalone and under `make test`
 * (which starts the services once and passes them in TEST_DATABASE_URL and CHROMIUM_PATH).
 * Test files run in parallel, so each one works in a database of its own from `createTestDatabase`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase, type Queryable } from '../connectors/postgres/database.ts';

const SERVICES_SCRIPT = new URL('../scripts/services', import.meta.url).pathname;

const started = new Map<string, string>();

/** Runs `scripts/services up <service>` (once per process) and returns the value it exports as `variable`. */
function servicesUp(service: string, variable: string): string {
  const known = started.get(variable);
  if (known !== undefined) return known;
  let output: string;
  try {
    output = execFileSync(SERVICES_SCRIPT, ['up', service], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`scripts/services up ${service} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
  const match = new RegExp(`^export ${variable}=(.+)$`, 'm').exec(output);
  if (!match) throw new Error(`scripts/services up ${service} printed no ${variable}: ${output.trim()}`);
  started.set(variable, match[1]!);
  return match[1]!;
}

/**
 * The URL of the test Postgres server: TEST_DATABASE_URL when set, else the one
 * `scripts/services up postgres` starts (`postgres://postgres@127.0.0.1:55432/streamscout`).
 */
export function postgresUrl(): string {
  return process.env.TEST_DATABASE_URL || servicesUp('postgres', 'TEST_DATABASE_URL');
}

/** The Chromium for browser tests: CHROMIUM_PATH when set, else Debian's, installed if need be. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || servicesUp('browser', 'CHROMIUM_PATH');
}

export interface TestDatabase {
  /** The database's own URL. */
  readonly url: string;
  readonly name: string;
  /** Drops it, ending any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database `scout_test_<random>` on the test server, for one test file.
 *
 * @example
 * const testDb = await createTestDatabase();
 * after(() => testDb.drop());
 * const db = await openDatabase({ url: testDb.url });
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = postgresUrl();
  const name = `scout_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    // WITH (FORCE) (Postgres 13+): a test that forgot to close a pool must not leave databases behind.
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Runs one statement on its own connection (CREATE/DROP DATABASE cannot run in a transaction). */
async function onServer(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database a suite runs against, and how to get rid of it afterwards. */
export interface OpenedTestDatabase {
  readonly db: Database;
  dispose(): Promise<void>;
}

/**
 * The two databases streamscout runs on, for suites that must behave the same on both: an
 * in-memory PGlite, and a fresh database of its own on the real Postgres server.
 *
 * @example
 * for (const [name, open] of DATABASE_TARGETS) describe(name, () => { … await open() … });
 */
export const DATABASE_TARGETS: ReadonlyArray<readonly [string, () => Promise<OpenedTestDatabase>]> = [
  [
    'PGlite',
    async () => {
      const db = await openDatabase({ dataDir: 'memory://' });
      return { db, dispose: () => db.close() };
    },
  ],
  [
    'the Postgres server',
    async () => {
      const testDb = await createTestDatabase();
      const db = await openDatabase({ url: testDb.url });
      return {
        db,
        dispose: async () => {
          await db.close();
          await testDb.drop();
        },
      };
    },
  ],
];

/** A row for the clips table as a test states it; `created_at` defaults to the table's NOW(). */
export interface ClipRow {
  readonly clip_id: string;
  readonly broadcaster_id: number;
  readonly embed_url: string;
  readonly thumbnail_url: string;
  readonly detected_at: number;
  readonly created_at?: number;
}

/** Inserts `row` directly (epoch ms stored as UTC wall times, as the clip sink stores them). */
export async function insertClipRow(db: Queryable, row: ClipRow): Promise<void> {
  await db.query(
    `INSERT INTO clips (broadcaster_id, clip_id, embed_url, thumbnail_url, detected_at, created_at)
     VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0) AT TIME ZONE 'UTC',
             COALESCE(to_timestamp($6 / 1000.0) AT TIME ZONE 'UTC', NOW()))`,
    [
      row.broadcaster_id,
      row.clip_id,
      row.embed_url,
      row.thumbnail_url,
      row.detected_at,
      row.created_at ?? null,
    ],
  );
}
