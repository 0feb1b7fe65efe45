/**
 * `scout bench checkpoint`: runs the checkpoint benchmark (bench/checkpoint-bench.ts) in a
 * temporary directory, removed afterwards, and prints the medians next to the targets
 * (which are for 1,000,000 keys on this project's 2-core machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCheckpoint, type CheckpointBenchResult } from '../../bench/checkpoint-bench.ts';

export interface BenchCheckpointOptions {
  readonly keys: number;
  readonly json: boolean;
  /** Repetitions; medians are reported. Default 3. */
  readonly runs?: number;
  readonly seed?: number;
}

/** The targets, ms. */
export const CHECKPOINT_TARGETS = {
  full_ms: 2_000,
  incremental_ms: 100,
  restore_ms: 3_000,
  pause_ms: 50,
} as const;

/**
 * @example
 * await benchCheckpointCommand({ keys: 1_000_000, json: false }, (s) => process.stdout.write(s));
 */
export async function benchCheckpointCommand(
  options: BenchCheckpointOptions,
  out: (s: string) => void,
): Promise<CheckpointBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'scout-bench-checkpoint-'));
  let result: CheckpointBenchResult;
  try {
    result = await benchCheckpoint({
      keys: options.keys,
      dir,
      ...(options.runs !== undefined ? { runs: options.runs } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.json) {
    out(`${JSON.stringify({ benchmark: 'checkpoint', ...result })}\n`);
    return result;
  }
  const ms = (x: number) => `${Math.round(x).toLocaleString('en')} ms`.padStart(9);
  const mb = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} MB`.padStart(9);
  const target = (x: number, limit: number) =>
    `(target ≤ ${limit.toLocaleString('en')} ms${x <= limit ? '' : ', missed'})`;
  out(
    [
      `checkpoint store, ${result.keys.toLocaleString('en')} keys, median of ${result.runs} runs:`,
      `  full         ${ms(result.full_ms)} ${mb(result.full_mb)}  ${target(result.full_ms, CHECKPOINT_TARGETS.full_ms)}`,
      `  incremental  ${ms(result.incremental_ms)} ${mb(result.incremental_mb)}  ${target(result.incremental_ms, CHECKPOINT_TARGETS.incremental_ms)}`,
      `  restore      ${ms(result.restore_ms)} ${' '.repeat(9)}  ${target(result.restore_ms, CHECKPOINT_TARGETS.restore_ms)}`,
      'processing paused by a checkpoint (the write runs in the background):',
      `  full capture ${ms(result.pause_full_ms)} ${' '.repeat(9)}  ${target(result.pause_full_ms, CHECKPOINT_TARGETS.pause_ms)}`,
      `  incremental  ${ms(result.pause_incremental_ms)} ${' '.repeat(9)}  ${target(result.pause_incremental_ms, CHECKPOINT_TARGETS.pause_ms)}`,
      `  during write ${ms(result.write_block_ms)} ${' '.repeat(9)}  ${target(result.write_block_ms, CHECKPOINT_TARGETS.pause_ms)}  (longest event-loop block)`,
      result.keys === 1_000_000 ? '' : '  (the targets are for 1,000,000 keys)',
    ]
      .filter((line) => line !== '')
      .join('\n') + '\n',
  );
  return result;
}
