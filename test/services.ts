/**
 * The real services integration tests run against, found or started by `scripts/services`: a test
 * file calls `postgresUrl()`, `chromiumPath()` or `s3Service()` and works both standalone and under
 * `make test` (which starts the services once and passes them in TEST_DATABASE_URL, CHROMIUM_PATH
 * and TEST_S3_*). Test files run in parallel, so each one works in a database of its own from
 * `createTestDatabase` and in a bucket of its own from `createTestBucket`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Client } from 'minio';
import pg from 'pg';
import { type Database, openDatabase, type Queryable } from '../connectors/postgres/database.ts';
import { createS3Client } from '../pipeline/checkpoint/object-mirror.ts';

const SERVICES_SCRIPT = new URL('../scripts/services', import.meta.url).pathname;

/** What `scripts/services up <service>` printed, by service. */
const started = new Map<string, string>();

/** Runs `scripts/services up <service>` (once per process) and returns the value it exports as `variable`. */
function servicesUp(service: string, variable: string): string {
  let output = started.get(service);
  if (output === undefined) {
    try {
      output = execFileSync(SERVICES_SCRIPT, ['up', service], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`scripts/services up ${service} failed${stderr ? `: ${stderr}` : ''}`, {
        cause: error,
      });
    }
    started.set(service, output);
  }
  const match = new RegExp(`^export ${variable}=(.+)$`, 'm').exec(output);
  if (!match) throw new Error(`scripts/services up ${service} printed no ${variable}: ${output.trim()}`);
  return unquote(match[1]!);
}

/** Undoes bash's `printf %q` for what it prints plainly or with backslashes (`$'…'` is not expected). */
function unquote(value: string): string {
  if (value === "''") return '';
  if (value.startsWith("$'")) throw new Error(`cannot read the shell-quoted value ${value}`);
  return value.replace(/\\(.)/g, '$1');
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

/** The test Kafka broker(s): TEST_KAFKA_BROKERS (comma separated) when set, else `scripts/services up kafka`. */
export function kafkaBrokers(): string[] {
  const list = process.env.TEST_KAFKA_BROKERS || servicesUp('kafka', 'TEST_KAFKA_BROKERS');
  return list.split(',').filter((b) => b.length > 0);
}

/** The test schema registry's base URL: TEST_REGISTRY_URL when set, else `scripts/services up registry`. */
export function registryUrl(): string {
  return process.env.TEST_REGISTRY_URL || servicesUp('registry', 'TEST_REGISTRY_URL');
}

/**
 * The command line of Confluent's Python client reading a topic (infra/avro-consumer/consume.py):
 * TEST_AVRO_CONSUMER when set, else what `scripts/services up avro-consumer` installs.
 */
export function avroConsumerCommand(): string[] {
  const command = process.env.TEST_AVRO_CONSUMER || servicesUp('avro-consumer', 'TEST_AVRO_CONSUMER');
  return command.split(' ').filter((part) => part.length > 0);
}

/** Where the test S3 server is and its credentials. */
export interface S3Service {
  /** `http://127.0.0.1:59000` for the MinIO `scripts/services` starts. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/**
 * The test S3 server: TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY when set, else the
 * MinIO `scripts/services up minio` starts (building it with `go install` the first time, which
 * takes minutes).
 */
export function s3Service(): S3Service {
  const { TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY } = process.env;
  if (TEST_S3_ENDPOINT) {
    if (!TEST_S3_ACCESS_KEY || !TEST_S3_SECRET_KEY) {
      throw new Error('TEST_S3_ENDPOINT is set but TEST_S3_ACCESS_KEY or TEST_S3_SECRET_KEY is not');
    }
    return { endpoint: TEST_S3_ENDPOINT, accessKey: TEST_S3_ACCESS_KEY, secretKey: TEST_S3_SECRET_KEY };
  }
  return {
    endpoint: servicesUp('minio', 'TEST_S3_ENDPOINT'),
    accessKey: servicesUp('minio', 'TEST_S3_ACCESS_KEY'),
    secretKey: servicesUp('minio', 'TEST_S3_SECRET_KEY'),
  };
}

export interface TestBucket {
  readonly name: string;
  /** SCOUT_S3_ENDPOINT, SCOUT_S3_ACCESS_KEY and SCOUT_S3_SECRET_KEY of the test server. */
  readonly env: NodeJS.ProcessEnv;
  /** A client of the test server, to look at objects (or damage them) behind the code's back. */
  readonly client: Client;
  /** Deletes every object in it, then it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty bucket `scout-test-<random>` on the test S3 server, for one test file.
 *
 * @example
 * const bucket = await createTestBucket();
 * after(() => bucket.drop());
 * const mirror = await S3CheckpointMirror.open(`s3://${bucket.name}/job`, { env: bucket.env });
 */
export async function createTestBucket(): Promise<TestBucket> {
  const service = s3Service();
  const client = await createS3Client({ ...service, region: 'us-east-1' });
  const name = `scout-test-${randomBytes(6).toString('hex')}`;
  await client.makeBucket(name);
  return {
    name,
    env: {
      SCOUT_S3_ENDPOINT: service.endpoint,
      SCOUT_S3_ACCESS_KEY: service.accessKey,
      SCOUT_S3_SECRET_KEY: service.secretKey,
    },
    client,
    drop: async () => {
      const names: string[] = [];
      for await (const item of client.listObjectsV2(name, '', true)) {
        const objectName = (item as { name?: string }).name;
        if (objectName !== undefined) names.push(objectName);
      }
      if (names.length > 0) await client.removeObjects(name, names);
      await client.removeBucket(name);
    },
  };
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
