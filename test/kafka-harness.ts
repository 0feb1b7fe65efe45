/**
 * What the Kafka integration tests share: the broker and registry of `scripts/services`, topics of
 * their own (a random prefix per test), polling for conditions of external systems with a
 * deadline, `scout` as a child process whose stderr lines can be waited for, and Confluent's own
 * Python client — a Kafka consumer no one here wrote — to read our Avro topics back.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { type KafkaDriver, loadDriver } from '../connectors/kafka/driver.ts';
import { AvroSerde, connectRegistry } from '../schemas/serde.ts';
import { avroConsumerCommand, kafkaBrokers, registryUrl, type TestDatabase } from './services.ts';

const execFileAsync = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

export interface KafkaTestEnv {
  readonly brokers: string[];
  readonly registry: string;
  /** A fresh topic prefix, e.g. `t3f9a1c.` */
  readonly prefix: string;
  readonly driver: KafkaDriver;
  readonly serde: AvroSerde;
}

export async function kafkaTestEnv(driverName = 'kafkajs'): Promise<KafkaTestEnv> {
  const brokers = kafkaBrokers();
  const registry = registryUrl();
  return {
    brokers,
    registry,
    prefix: `t${randomBytes(4).toString('hex')}.`,
    driver: await loadDriver(driverName),
    serde: new AvroSerde(await connectRegistry(registry)),
  };
}

/**
 * What a test file of `scout run … --kafka` instances shares: its env (set in a `before` hook), a
 * scratch folder, and the databases and processes it made, dropped and killed after its tests.
 */
export function kafkaRunSuite(name: string) {
  const suite = {
    env: undefined as unknown as KafkaTestEnv,
    work: mkdtempSync(join(tmpdir(), `${name}-`)),
    databases: [] as TestDatabase[],
    processes: [] as ScoutProcess[],
  };
  before(async () => {
    suite.env = await kafkaTestEnv();
  });
  after(async () => {
    for (const p of suite.processes) p.kill('SIGKILL');
    await Promise.all(suite.databases.map((d) => d.drop()));
  });
  return suite;
}

/** Polls `check` every 50 ms until it returns true; fails after `timeoutMs` naming `what`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when the group has committed every partition of the topic up to its end. */
export async function caughtUp(env: KafkaTestEnv, group: string, topic: string): Promise<boolean> {
  const admin = env.driver.admin({ brokers: env.brokers });
  try {
    const [ends, committed] = await Promise.all([admin.endOffsets(topic), admin.committed(group, topic)]);
    for (const [p, end] of ends) if ((committed.get(p)?.offset ?? 0) < end) return false;
    return true;
  } finally {
    await admin.close();
  }
}

/**
 * `scout run highlights --kafka` in replay mode as one test's instance: its topics under `prefix`,
 * its group `<prefix>highlights`, its clips into `databaseUrl`, checkpoints every 100 ms into
 * `stateDir`, and a short session timeout so that a killed instance's partitions move quickly.
 */
export function highlightsInstance(
  env: KafkaTestEnv,
  o: {
    prefix: string;
    databaseUrl: string;
    stateDir: string;
    extra?: readonly string[];
    env?: Readonly<Record<string, string | undefined>>;
  },
): ScoutProcess {
  return new ScoutProcess(
    [
      'run',
      'highlights',
      '--kafka',
      env.brokers.join(','),
      '--registry',
      env.registry,
      '--topic-prefix',
      o.prefix,
      '--group',
      `${o.prefix}highlights`,
      '--mode',
      'replay',
      '--state-dir',
      o.stateDir,
      '--checkpoint-interval',
      '100ms',
      '--session-timeout',
      '6s',
      ...(o.extra ?? []),
    ],
    { ...o.env, DATABASE_URL: o.databaseUrl },
  );
}

/** The clip ids in a database's `clips` table, sorted. */
export async function clipIdsIn(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ clip_id: string }>('SELECT clip_id FROM clips ORDER BY clip_id');
    return rows.map((r) => r.clip_id);
  } finally {
    await client.end();
  }
}

/** A detection on the `highlights` topic as one comparable string. */
export const detectionKey = (r: unknown): string => {
  const d = r as { broadcaster_login: string; detected_at: number; count: number; z: number };
  return `${d.broadcaster_login}@${d.detected_at}:${d.count}:${d.z}`;
};

/** A running `scout` process: its stderr as lines, and ways to wait for it. */
export class ScoutProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}) {
    this.child = spawn(process.execPath, [`${root}bin/scout.mjs`, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let partial = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits for a stderr line matching `pattern`; fails early if the process exits. */
  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    let found: string | undefined;
    try {
      await waitFor(
        `a line matching ${pattern} from scout`,
        () => {
          found = this.lines.find((l) => pattern.test(l));
          if (found === undefined && exited) throw new Error('scout exited first');
          return found !== undefined;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; its stderr:\n${this.lines.join('\n')}`);
    }
    return found!;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/**
 * Reads a topic's Avro records from the beginning to its current end with Confluent's own Python
 * client (its AvroDeserializer and the registry), as parsed JSON: a consumer no one here wrote.
 * `isolation` is read_committed by default, as for any Kafka consumer: records of aborted or still
 * open transactions are skipped; `uncommitted` shows them too.
 */
export async function readTopicAvro(
  env: KafkaTestEnv,
  topic: string,
  isolation: 'committed' | 'uncommitted' = 'committed',
): Promise<unknown[]> {
  const [command, ...args] = avroConsumerCommand();
  const { stdout } = await execFileAsync(
    command!,
    [...args, env.brokers.join(','), env.registry, topic, isolation],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);
}
