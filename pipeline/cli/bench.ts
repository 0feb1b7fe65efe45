/**
 * `scout bench engine`: runs the engine benchmark (bench/engine.ts) `--runs` times, each in a
 * fresh process so peak RSS belongs to that run, and reports every run and the median.
 *
 * The child runs the benchmark bundled to plain JavaScript (esbuild, the compiler tsx uses): under
 * tsx a loader thread of its own adds ~35 MB of RSS that belongs to the TypeScript loader, not to
 * the engine being measured. The code is the same either way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
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
  const entry = fileURLToPath(new URL('../../bench/engine-child.ts', import.meta.url));
  const child = join(mkdtempSync(join(tmpdir(), 'scout-bench-')), 'engine-child.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    logLevel: 'error',
  });
  const runs: EngineBenchResult[] = [];
  for (let i = 0; i < options.runs; i++) {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', child, String(options.messages), String(options.keys), String(options.seed)],
      { maxBuffer: 1 << 20 },
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
