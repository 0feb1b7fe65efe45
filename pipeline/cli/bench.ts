/**
 * `scout bench engine`: runs the engine benchmark (bench/engine.ts) `--runs` times, each in a
 * fresh process so peak RSS belongs to that run, and reports every run and the median.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { EngineBenchResult } from '../../bench/engine.ts';

const run = promisify(execFile);

export interface BenchEngineOptions {
  readonly messages: number;
  readonly keys: number;
  readonly runs: number;
  readonly seed: number;
}

export interface BenchEngineReport {
  readonly benchmark: 'engine';
  readonly messages: number;
  readonly keys: number;
  readonly runs: readonly EngineBenchResult[];
  /** Medians over the runs. */
  readonly messages_per_s: number;
  readonly peak_rss_mb: number;
}

export async function benchEngine(
  options: BenchEngineOptions,
  onRun?: (r: EngineBenchResult, i: number) => void,
): Promise<BenchEngineReport> {
  const child = fileURLToPath(new URL('../../bench/engine-child.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const runs: EngineBenchResult[] = [];
  for (let i = 0; i < options.runs; i++) {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', child, String(options.messages), String(options.keys), String(options.seed)],
      { cwd: root, maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as EngineBenchResult;
    runs.push(result);
    onRun?.(result, i);
  }
  return {
    benchmark: 'engine',
    messages: options.messages,
    keys: options.keys,
    runs,
    messages_per_s: median(runs.map((r) => r.messages_per_s)),
    peak_rss_mb: median(runs.map((r) => r.peak_rss_mb)),
  };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
