/**
 * `scout bench kafka`: N generated chat messages are produced once to a fresh topic
 * `bench-<random>.chat-messages` (8 partitions, with rdkafka when it loads), and then, per driver,
 * read raw (decode and map only) and through the highlights job, each measurement in a process of
 * its own (bench/kafka-bench.ts) so that its peak RSS is its own. The run's topics, consumer groups
 * and registry subjects are removed afterwards.
 *
 * The measuring processes run the benchmark bundled to JavaScript with esbuild, the npm packages
 * left as imports (a link to node_modules sits beside the bundle): under tsx the loader thread
 * would add ~30 MB of RSS that belongs to the TypeScript loader, not to the driver measured (as in
 * `scout bench engine`). The code is the same either way.
 *
 * Targets (for 1,000,000 messages on this project's 2-core machine): the highlights job reads
 * ≥ 250,000 messages/s with the better driver, and at least 0.8 of the raw rate with each.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KafkaPhaseOptions, KafkaPhaseResult } from '../../bench/kafka-bench.ts';
import {
  DRIVER_NAMES,
  type DriverName,
  type KafkaDriver,
  loadDriver,
} from '../../connectors/kafka/driver.ts';
import { median } from './bench.ts';
import { UsageError } from './errors.ts';
import { progressBar } from './progress.ts';

export const KAFKA_TARGETS = {
  /** Through the highlights job, with the better driver. */
  job_messages_per_s: 250_000,
  /** Job rate / raw rate, per driver. */
  ratio: 0.8,
} as const;

/** The message count the targets are set for. */
export const KAFKA_TARGET_MESSAGES = 1_000_000;

export interface BenchKafkaOptions {
  readonly brokers: readonly string[];
  readonly registry: string;
  readonly messages: number;
  readonly drivers: readonly DriverName[];
  /** Repetitions of every measurement on the same topic; medians are reported. Default 1. */
  readonly runs?: number;
  readonly json: boolean;
}

/** A driver's medians; null where every run of that measurement failed (`error` says why). */
export interface KafkaDriverResult {
  readonly driver: DriverName;
  readonly raw_messages_per_s: number | null;
  readonly job_messages_per_s: number | null;
  /** job / raw. */
  readonly ratio: number | null;
  /** The larger of the two measuring processes' peak RSS. */
  readonly peak_rss_mb: number | null;
  readonly raw_peak_rss_mb: number | null;
  readonly job_peak_rss_mb: number | null;
  /** The first failed measurement of the driver, if any. */
  readonly error?: string;
}

export interface KafkaBenchReport {
  readonly benchmark: 'kafka';
  readonly messages: number;
  readonly partitions: number;
  readonly runs: number;
  /** The driver the topic was filled with, and how fast. */
  readonly producer: DriverName;
  readonly produce_messages_per_s: number;
  readonly results: readonly KafkaDriverResult[];
  /** Drivers asked for that could not be loaded, with why. */
  readonly skipped: ReadonlyArray<{ readonly driver: DriverName; readonly reason: string }>;
}

/** `--drivers kafkajs,rdkafka`: known names, each once. */
export function parseDrivers(value: string): DriverName[] {
  const names = value
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  if (names.length === 0) throw new UsageError(`--drivers takes ${DRIVER_NAMES.join(',')} or one of them`);
  for (const name of names) {
    if (!(DRIVER_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`--drivers: unknown Kafka driver "${name}" (drivers: ${DRIVER_NAMES.join(', ')})`);
    }
  }
  return [...new Set(names)] as DriverName[];
}

/** Medians over the runs of one driver's raw and job measurements (the failed ones left out). */
export function driverResult(
  driver: DriverName,
  raw: readonly KafkaPhaseResult[],
  job: readonly KafkaPhaseResult[],
  error?: string,
): KafkaDriverResult {
  const of = (list: readonly KafkaPhaseResult[], field: 'messages_per_s' | 'peak_rss_mb') =>
    list.length > 0 ? median(list.map((r) => r[field])) : null;
  const rawRate = of(raw, 'messages_per_s');
  const jobRate = of(job, 'messages_per_s');
  const rawRss = of(raw, 'peak_rss_mb');
  const jobRss = of(job, 'peak_rss_mb');
  const rss = [rawRss, jobRss].filter((x) => x !== null);
  return {
    driver,
    raw_messages_per_s: rawRate === null ? null : Math.round(rawRate),
    job_messages_per_s: jobRate === null ? null : Math.round(jobRate),
    ratio:
      rawRate !== null && jobRate !== null && rawRate > 0
        ? Math.round((jobRate / rawRate) * 1000) / 1000
        : null,
    peak_rss_mb: rss.length > 0 ? Math.max(...rss) : null,
    raw_peak_rss_mb: rawRss,
    job_peak_rss_mb: jobRss,
    ...(error !== undefined ? { error } : {}),
  };
}

/** The report as printed: one JSON line, or a table next to the targets. */
export function formatKafkaBench(report: KafkaBenchReport, json: boolean): string {
  if (json) return `${JSON.stringify(report)}\n`;
  const n = (x: number) => x.toLocaleString('en');
  const rate = (x: number | null) => (x === null ? 'failed' : `${n(x)}/s`).padStart(11);
  const lines = [
    `kafka, ${n(report.messages)} messages on ${report.partitions} partitions (produced with ${report.producer} at ${n(report.produce_messages_per_s)} messages/s), ` +
      (report.runs === 1 ? '1 run:' : `median of ${report.runs} runs:`),
    `  driver    ${'raw'.padStart(11)}  ${'job'.padStart(11)}  ratio  peak RSS`,
  ];
  for (const r of report.results) {
    const ratioMissed = r.ratio === null || r.ratio < KAFKA_TARGETS.ratio ? ', missed' : '';
    const ratio = r.ratio === null ? '-' : r.ratio.toFixed(2);
    const rss = r.peak_rss_mb === null ? '-' : `${r.peak_rss_mb.toFixed(1)} MB`;
    lines.push(
      `  ${r.driver.padEnd(8)}  ${rate(r.raw_messages_per_s)}  ${rate(r.job_messages_per_s)}  ${ratio.padStart(5)}  ${rss.padStart(8)}` +
        `  (target ratio ≥ ${KAFKA_TARGETS.ratio}${ratioMissed})`,
    );
  }
  let best: { driver: DriverName; rate: number } | undefined;
  for (const r of report.results) {
    if (r.job_messages_per_s !== null && (best === undefined || r.job_messages_per_s > best.rate)) {
      best = { driver: r.driver, rate: r.job_messages_per_s };
    }
  }
  const target = `target ≥ ${n(KAFKA_TARGETS.job_messages_per_s)} messages/s`;
  if (best === undefined) {
    lines.push(`  no driver got through the job  (${target}, missed)`);
  } else {
    const missed = best.rate < KAFKA_TARGETS.job_messages_per_s ? ', missed' : '';
    lines.push(
      `  better driver: ${best.driver}, ${n(best.rate)} messages/s through the job  (${target}${missed})`,
    );
  }
  for (const r of report.results) if (r.error !== undefined) lines.push(`  ${r.driver} failed: ${r.error}`);
  for (const s of report.skipped) lines.push(`  ${s.driver}: not measured (${s.reason})`);
  if (report.messages !== KAFKA_TARGET_MESSAGES)
    lines.push(`  (the targets are for ${n(KAFKA_TARGET_MESSAGES)} messages)`);
  return `${lines.join('\n')}\n`;
}

/** The drivers asked for that load; the others with the first line of why not. */
export async function availableDrivers(
  names: readonly DriverName[],
): Promise<{ loaded: Map<DriverName, KafkaDriver>; skipped: Array<{ driver: DriverName; reason: string }> }> {
  const loaded = new Map<DriverName, KafkaDriver>();
  const skipped: Array<{ driver: DriverName; reason: string }> = [];
  for (const name of names) {
    try {
      loaded.set(name, await loadDriver(name));
    } catch (error) {
      skipped.push({ driver: name, reason: (error as Error).message.split('\n')[0]! });
    }
  }
  return { loaded, skipped };
}

/**
 * @example
 * await benchKafkaCommand(
 *   { brokers: ['127.0.0.1:9092'], registry: 'http://127.0.0.1:8081', messages: 1_000_000, drivers: ['kafkajs', 'rdkafka'], json: false },
 *   (s) => process.stdout.write(s),
 *   (s) => process.stderr.write(s),
 * );
 */
export async function benchKafkaCommand(
  options: BenchKafkaOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<KafkaBenchReport> {
  const bench = await import('../../bench/kafka-bench.ts');
  const runs = options.runs ?? 1;
  const { loaded, skipped } = await availableDrivers(options.drivers);
  for (const s of skipped) err(`scout: ${s.driver} is not available, measuring without it: ${s.reason}\n`);
  if (loaded.size === 0) throw new Error('no Kafka driver to measure');
  // The producer: rdkafka when it loads (it is the faster), whichever drivers are measured.
  let producer = loaded.get('rdkafka');
  if (producer === undefined && !options.drivers.includes('rdkafka')) {
    producer = await loadDriver('rdkafka').catch(() => undefined);
  }
  producer ??= await loadDriver('kafkajs');

  const prefix = bench.benchPrefix();
  const groups: string[] = [];
  const child = await bundleChild();
  try {
    const bar = options.json
      ? undefined
      : progressBar(options.messages, `producing ${prefix}${bench.BENCH_INPUT}`);
    let produced: { seconds: number };
    try {
      produced = await bench.produceBenchTopic({
        driver: producer,
        brokers: options.brokers,
        registry: options.registry,
        prefix,
        messages: options.messages,
        ...(bar ? { progress: (sent) => bar.update(sent) } : {}),
      });
    } finally {
      bar?.stop();
    }
    const measured = new Map<
      DriverName,
      { raw: KafkaPhaseResult[]; job: KafkaPhaseResult[]; errors: string[] }
    >();
    for (let run = 0; run < runs; run++) {
      for (const driver of loaded.keys()) {
        const results = measured.get(driver) ?? { raw: [], job: [], errors: [] };
        measured.set(driver, results);
        for (const phase of ['raw', 'job'] as const) {
          const group = `${prefix}${phase}-${driver}-${run}`;
          groups.push(group);
          const phaseOptions: KafkaPhaseOptions = {
            phase,
            driver,
            brokers: options.brokers,
            registry: options.registry,
            prefix,
            group,
            messages: options.messages,
          };
          let result: KafkaPhaseResult;
          try {
            result = await runChild(child.file, bench.phaseArgs(phaseOptions), `${driver} ${phase}`, err);
          } catch (error) {
            // One measurement failing leaves the others standing: the report says which and why.
            const message = (error as Error).message;
            results.errors.push(message);
            err(`scout: run ${run + 1}, ${message}\n`);
            continue;
          }
          results[phase].push(result);
          if (!options.json) {
            err(
              `scout: run ${run + 1}, ${driver} ${phase}: ${result.messages_per_s.toLocaleString('en')} messages/s in ${result.seconds} s, peak RSS ${result.peak_rss_mb} MB\n`,
            );
          }
        }
      }
    }
    const report: KafkaBenchReport = {
      benchmark: 'kafka',
      messages: options.messages,
      partitions: bench.BENCH_PARTITIONS,
      runs,
      producer: producer.name,
      produce_messages_per_s: produced.seconds > 0 ? Math.round(options.messages / produced.seconds) : 0,
      results: [...measured].map(([driver, r]) => driverResult(driver, r.raw, r.job, r.errors[0])),
      skipped,
    };
    out(formatKafkaBench(report, options.json));
    const failures = [...measured.values()].reduce((sum, r) => sum + r.errors.length, 0);
    if (failures > 0) throw new Error(`${failures} of ${runs * loaded.size * 2} measurements failed`);
    return report;
  } finally {
    child.remove();
    for (const problem of [
      await bench.deleteBenchTopics(options.brokers, prefix, groups),
      await bench.deleteBenchSubjects(options.registry, prefix),
    ]) {
      if (problem !== undefined) err(`scout: ${problem}\n`);
    }
  }
}

/**
 * bench/kafka-bench.ts bundled into a temporary folder, npm packages left as imports and found
 * through a link to node_modules. Project files that locate files beside themselves with
 * `import.meta.url` (the Avro schemas, node-rdkafka's `createRequire`) get their own file's URL.
 */
async function bundleChild(): Promise<{ file: string; remove: () => void }> {
  const { build } = await import('esbuild');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const entry = join(root, 'bench', 'kafka-bench.ts');
  const dir = mkdtempSync(join(tmpdir(), 'scout-bench-kafka-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const file = join(dir, 'kafka-bench.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: file,
      logLevel: 'error',
      plugins: [
        {
          name: 'import-meta-url',
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, (args) => {
              const source = readFileSync(args.path, 'utf8');
              // The entry keeps its own: it compares it with the file node runs.
              if (args.path === entry) return { contents: source, loader: 'ts' };
              const url = JSON.stringify(pathToFileURL(args.path).href);
              return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
            });
          },
        },
      ],
    });
    return { file, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** Runs one measurement process; its result line, or an error with its last line of stderr. */
function runChild(
  file: string,
  args: readonly string[],
  what: string,
  err: (s: string) => void,
): Promise<KafkaPhaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      if (code !== 0) {
        reject(new Error(`the ${what} measurement failed: ${lines.at(-1) ?? `exit code ${code}`}`));
        return;
      }
      // Warnings of the drivers (a broker reconnect, …), passed on.
      for (const line of lines) err(`scout: ${what}: ${line}\n`);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as KafkaPhaseResult);
      } catch {
        reject(new Error(`the ${what} measurement printed no result`));
      }
    });
  });
}
