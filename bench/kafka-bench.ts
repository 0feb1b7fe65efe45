/**
 * The Kafka benchmark: how fast chat comes off a Kafka topic, per driver, read raw and read
 * through the highlights job. `scout bench kafka` (pipeline/cli/bench-kafka.ts) fills a fresh
 * topic once (`produceBenchTopic`), then runs every measurement in a process of its own — this
 * file, bundled, with `<phase> <driver> <brokers> <registry> <prefix> <group> <messages>` — which
 * prints one JSON line (`KafkaPhaseResult`) on stdout, so that each peak RSS is that measurement's.
 *
 * - raw: one consumer in a fresh group reads the topic from its beginning, decodes every value with
 *   the `chat-messages` projection and maps it to a ChatLine, and does nothing else;
 * - job: the highlights job as a `KafkaJob` (replay mode, a fresh group, a temporary state folder,
 *   the default checkpoint interval, what it stores in tables discarded) reads the topic and writes
 *   its outputs to topics of the same prefix.
 *
 * Either way the rate is the topic's N records over the time from the first record read to the
 * Nth, both seen by the same 20 ms poll of a counter (the job's is `recordsRead()`; see `timeUntil`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DRIVER_NAMES, type DriverName, type KafkaDriver, loadDriver } from '../connectors/kafka/driver.ts';
import { produceChat } from '../connectors/kafka/produce.ts';
import { KafkaJob } from '../connectors/kafka/tasks.ts';
import { readerViewOf } from '../connectors/kafka/views.ts';
import { generateChat } from '../connectors/synthetic/generate.ts';
import { discardSink } from '../pipeline/jobs/contexts.ts';
import { loadJob } from '../pipeline/jobs/registry.ts';
import { SystemClock } from '../pipeline/time/clock.ts';
import type { ChatLine } from '../schemas/chat-line.ts';
import { AvroSerde, connectRegistry } from '../schemas/serde.ts';

/** The input topic, without the run's prefix. */
export const BENCH_INPUT = 'chat-messages';
export const BENCH_PARTITIONS = 8;
/** Generated channels: many keys, spread over every partition. */
export const BENCH_CHANNELS = 500;
export const BENCH_SEED = 1;
/** The tables the highlights job stores into; the job phase discards what reaches them. */
export const BENCH_TABLES: readonly string[] = ['clips', 'streamers'];
/** How often the counters are looked at. */
export const POLL_MS = 20;
/** A measurement that reads nothing new for this long fails (a topic shorter than N, a broker gone). */
export const STALL_MS = 30_000;

export type KafkaBenchPhase = 'raw' | 'job';

export interface KafkaPhaseOptions {
  readonly phase: KafkaBenchPhase;
  readonly driver: DriverName;
  readonly brokers: readonly string[];
  readonly registry: string;
  /** The run's topic prefix, `bench-<random>.`; the input topic is `<prefix>chat-messages`. */
  readonly prefix: string;
  /** A consumer group no one has used. */
  readonly group: string;
  /** Records in the topic: the measurement ends when this many are read. */
  readonly messages: number;
}

/** What one measurement process prints. */
export interface KafkaPhaseResult {
  readonly phase: KafkaBenchPhase;
  readonly driver: DriverName;
  readonly messages: number;
  /** From the first record read to the Nth. */
  readonly seconds: number;
  readonly messages_per_s: number;
  /** `process.resourceUsage().maxRSS` of the measuring process. */
  readonly peak_rss_mb: number;
}

/** A fresh topic prefix, `bench-<8 hex>.` */
export function benchPrefix(): string {
  return `bench-${randomBytes(4).toString('hex')}.`;
}

export interface ProduceBenchOptions {
  readonly driver: KafkaDriver;
  readonly brokers: readonly string[];
  readonly registry: string;
  readonly prefix: string;
  readonly messages: number;
  readonly progress?: (sent: number) => void;
}

/** The first `n` of an iterable. */
export function* take<T>(items: Iterable<T>, n: number): Generator<T, void, undefined> {
  if (n <= 0) return;
  let i = 0;
  for (const item of items) {
    yield item;
    if (++i >= n) return;
  }
}

/** Fills `<prefix>chat-messages` (8 partitions) with the first N lines of endless generated chat. */
export async function produceBenchTopic(
  options: ProduceBenchOptions,
): Promise<{ topic: string; seconds: number }> {
  const topic = `${options.prefix}${BENCH_INPUT}`;
  const serde = new AvroSerde(await connectRegistry(options.registry));
  const lines = take(
    generateChat({ channels: BENCH_CHANNELS, durationMs: Number.POSITIVE_INFINITY, seed: BENCH_SEED }),
    options.messages,
  );
  const t = performance.now();
  const sent = await produceChat(lines, {
    driver: options.driver,
    serde,
    brokers: options.brokers,
    clientId: 'scout-bench-kafka',
    topic,
    partitions: BENCH_PARTITIONS,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  if (sent !== options.messages) throw new Error(`produced ${sent} messages, not ${options.messages}`);
  return { topic, seconds: (performance.now() - t) / 1000 };
}

/**
 * Waits until `count()` reaches `n`, looking every 20 ms; the time runs from the last look that
 * saw no record (the first arrived after it) to the look that sees the Nth, so it errs long by
 * less than two looks. Fails when `failed()` has an error, or when the count stands still for
 * `STALL_MS`.
 */
export async function timeUntil(
  n: number,
  count: () => number,
  failed: () => Error | undefined,
  what: string,
): Promise<number> {
  let start = performance.now();
  let last = -1;
  let lastChange = start;
  for (;;) {
    const error = failed();
    if (error) throw error;
    const read = count();
    const now = performance.now();
    if (read >= n) return (now - start) / 1000;
    if (read === 0) start = now;
    if (read !== last) {
      last = read;
      lastChange = now;
    } else if (now - lastChange > STALL_MS) {
      throw new Error(
        `${what} read nothing new for ${STALL_MS / 1000} s after ${read.toLocaleString('en')} of ${n.toLocaleString('en')} records`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The raw read: consume, decode with the projection, map to ChatLine, count. */
export async function measureRaw(o: KafkaPhaseOptions): Promise<number> {
  const driver = await loadDriver(o.driver);
  const serde = new AvroSerde(await connectRegistry(o.registry));
  const view = readerViewOf(BENCH_INPUT);
  const decoder = serde.decoder<unknown>(view.reader);
  const map = view.map ?? ((r: unknown) => r);
  const consumer = driver.consumer({
    brokers: o.brokers,
    clientId: 'scout-bench-raw',
    groupId: o.group,
    topic: `${o.prefix}${BENCH_INPUT}`,
    fromBeginning: true,
  });
  let read = 0;
  // Per partition, the offset of the next record not read yet: records handed out again (as the
  // partition feed of a job would drop them) are not counted again.
  const next = new Map<number, number>();
  // Something the decoded lines feed, so that no engine can skip the work.
  let checksum = 0;
  let failure: Error | undefined;
  try {
    await consumer.start({
      assigned: async () => {},
      revoking: async () => {},
      batch: async (partition, fetched) => {
        const from = next.get(partition) ?? -1;
        const records =
          fetched.length > 0 && fetched[0]!.offset < from ? fetched.filter((r) => r.offset >= from) : fetched;
        if (records.length === 0) return;
        next.set(partition, records[records.length - 1]!.offset + 1);
        try {
          const preparing = decoder.prepare(records.map((r) => r.value));
          if (preparing !== undefined) await preparing;
          for (const r of records) {
            const line = map(decoder.decode(r.value)) as ChatLine;
            checksum = (checksum + line.ts + line.text.length) % 1_000_003;
          }
        } catch (error) {
          // A record that does not decode ends the measurement (a driver may retry a failed batch for ever).
          failure ??= new Error(`${o.prefix}${BENCH_INPUT}[${partition}]: ${(error as Error).message}`);
          return;
        }
        read += records.length;
      },
      failed: (error) => {
        failure ??= error;
      },
    });
    return await timeUntil(
      o.messages,
      () => read,
      () => failure,
      `the ${o.driver} consumer`,
    );
  } finally {
    await consumer.close().catch(() => {});
  }
}

/** The highlights job on the topic, as `scout run highlights --kafka … --mode replay` would run it. */
export async function measureJob(o: KafkaPhaseOptions): Promise<number> {
  const driver = await loadDriver(o.driver);
  const serde = new AvroSerde(await connectRegistry(o.registry));
  const stateDir = mkdtempSync(join(tmpdir(), 'scout-bench-kafka-state-'));
  const log: string[] = [];
  const job = new KafkaJob({
    job: await loadJob('highlights'),
    driver,
    brokers: o.brokers,
    groupId: o.group,
    topicPrefix: o.prefix,
    serde,
    stateDir,
    clock: new SystemClock(),
    mode: 'replay',
    options: {},
    stores: new Map(BENCH_TABLES.map((t) => [t, discardSink<unknown>(`table ${t}`)])),
    log: (line) => {
      log.push(line);
      if (log.length > 50) log.shift();
    },
  });
  let failure: Error | undefined;
  job.done.catch((error: Error) => {
    failure = error;
  });
  try {
    await job.start();
    // Records sent to the dead-letter topic are not read by the job: they end the measurement.
    const deadLetters = () =>
      job.deadLettersWritten > 0
        ? new Error(
            `the job sent records to the dead-letter topic: ${log.findLast((l) => /dead/i.test(l)) ?? ''}`,
          )
        : undefined;
    const seconds = await timeUntil(
      o.messages,
      () => job.recordsRead(),
      () => failure ?? deadLetters(),
      `the ${o.driver} job`,
    );
    await job.stop();
    await job.done;
    const late = deadLetters();
    if (late) throw late;
    return seconds;
  } catch (error) {
    if (process.env.SCOUT_DEBUG === '1') process.stderr.write(`${log.join('\n')}\n`);
    throw error;
  } finally {
    await job.stop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** One measurement, as its process runs it. */
export async function measurePhase(o: KafkaPhaseOptions): Promise<KafkaPhaseResult> {
  const seconds = o.phase === 'raw' ? await measureRaw(o) : await measureJob(o);
  return {
    phase: o.phase,
    driver: o.driver,
    messages: o.messages,
    seconds: Math.round(seconds * 1000) / 1000,
    messages_per_s: seconds > 0 ? Math.round(o.messages / seconds) : 0,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
  };
}

/** The argument list of a measurement process, and back. */
export function phaseArgs(o: KafkaPhaseOptions): string[] {
  return [o.phase, o.driver, o.brokers.join(','), o.registry, o.prefix, o.group, String(o.messages)];
}

export function parsePhaseArgs(args: readonly string[]): KafkaPhaseOptions {
  const [phase, driver, brokers, registry, prefix, group, messages] = args;
  if (phase !== 'raw' && phase !== 'job') throw new Error(`phase must be raw or job, got "${phase}"`);
  if (!(DRIVER_NAMES as readonly string[]).includes(driver ?? ''))
    throw new Error(`unknown driver "${driver}"`);
  const n = Number(messages);
  if (!brokers || !registry || !prefix || !group || !Number.isInteger(n) || n <= 0) {
    throw new Error('usage: kafka-bench <raw|job> <driver> <brokers> <registry> <prefix> <group> <messages>');
  }
  return {
    phase,
    driver: driver as DriverName,
    brokers: brokers.split(','),
    registry,
    prefix,
    group,
    messages: n,
  };
}

/**
 * Removes what a run left on the broker: the topics of its prefix and its consumer groups (through
 * kafkajs's admin client, which every install has; the driver interface has no deletes).
 * Best effort: a failure is returned as a line to show, not thrown.
 */
export async function deleteBenchTopics(
  brokers: readonly string[],
  prefix: string,
  groups: readonly string[],
): Promise<string | undefined> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'scout-bench-kafka',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    if (groups.length > 0) await admin.deleteGroups([...groups]).catch(() => {});
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return undefined;
  } catch (error) {
    return `could not delete the topics ${prefix}*: ${(error as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Removes the registry subjects of the run's topics (soft, then permanently). Best effort, like the topics. */
export async function deleteBenchSubjects(registry: string, prefix: string): Promise<string | undefined> {
  const base = registry.replace(/\/$/, '');
  try {
    const response = await fetch(`${base}/subjects`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return `could not list the registry's subjects (HTTP ${response.status})`;
    const subjects = ((await response.json()) as string[]).filter((s) => s.startsWith(prefix));
    for (const s of subjects) {
      const url = `${base}/subjects/${encodeURIComponent(s)}`;
      await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
      await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    }
    return undefined;
  } catch (error) {
    return `could not delete the registry subjects ${prefix}*: ${(error as Error).message}`;
  }
}

/**
 * Run as a program (through tsx, or bundled by `scout bench kafka`): one measurement, one JSON line.
 * The bundler leaves this file's own `import.meta.url` alone, so it names the running file either way.
 */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    const result = await measurePhase(parsePhaseArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    // Clients that linger (kafkajs's timers, librdkafka's threads) must not keep the process alive.
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${(error as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (process.env.SCOUT_DEBUG === '1') process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  }
}
