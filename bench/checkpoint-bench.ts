/**
 * The checkpoint benchmark: highlights-like keyed state for `keys` channels goes through the
 * LevelDB checkpoint store — a full checkpoint, an incremental one after 1% of the channels
 * changed, and a restore of that incremental (which reads its whole chain) — and we report the
 * median time and size of each over `runs` repetitions, each in a fresh directory.
 *
 * Per channel the state is what the highlights job holds: the bucket counter's value state
 * (`bucket-counts/channel`: a small object with the bucket counts not yet emitted) and the
 * baseline's history (`baseline/history`: the next bucket's start and the last 60 bucket counts).
 * Building the snapshots is not timed; `write()` and `open()` + `load()` are.
 *
 * Issue targets for 1,000,000 keys on this 2-core machine: full ≤ 2 s, incremental ≤ 100 ms,
 * restore ≤ 3 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { LevelCheckpointStore } from '../pipeline/checkpoint/level-store.ts';
import type { JobSnapshot } from '../pipeline/runtime/runtime.ts';
import type { KeyType } from '../pipeline/state/api.ts';
import { MemoryStateBackend } from '../pipeline/state/backend.ts';

export interface CheckpointBenchOptions {
  readonly keys: number;
  readonly seed?: number;
  /** A directory to make each run's store in; it is left as found. */
  readonly dir: string;
  /** Repetitions; medians are reported. Default 3. */
  readonly runs?: number;
}

export interface CheckpointBenchResult {
  readonly keys: number;
  readonly runs: number;
  readonly full_ms: number;
  readonly full_mb: number;
  readonly incremental_ms: number;
  readonly incremental_mb: number;
  readonly restore_ms: number;
  /** Processing stands still for the capture of keyed state: all keys (a fresh chain) … */
  readonly pause_full_ms: number;
  /** … or the 1% changed. */
  readonly pause_incremental_ms: number;
  /** The longest the event loop was held up while the full capture was written in the background. */
  readonly write_block_ms: number;
}

const CHANNEL_TABLE = 'bucket-counts/channel';
const HISTORY_TABLE = 'baseline/history';
/** The highlights baseline: 5 minutes of 5 s buckets. */
const HISTORY_LENGTH = 60;
const BUCKET_MS = 5_000;
const START_MS = Date.UTC(2026, 10, 20, 18);
/** Share of channels changed between the full and the incremental checkpoint (the 1%). */
const CHANGED_SHARE = 0.01;

type Entry = [KeyType, unknown, number];

/** One channel's state, from its own little generator so a change can redraw it. */
function channelState(rand: (max: number) => number, bucket: number): [unknown, unknown] {
  const next = START_MS + bucket * BUCKET_MS;
  // Chat per 5 s bucket: mostly a few messages, now and then a burst.
  const count = () => (rand(20) === 0 ? rand(250) : rand(12));
  const history: number[] = [];
  for (let i = 0; i < HISTORY_LENGTH; i++) history.push(count());
  return [
    {
      since: next - rand(3_600_000),
      last: next - rand(BUCKET_MS),
      next,
      counts: [count(), count(), count()],
    },
    { next, counts: history },
  ];
}

export function fullSnapshot(keys: number, seed: number): { snapshot: JobSnapshot; logins: string[] } {
  const rng = xoroshiro128plus(seed);
  const rand = (max: number) => uniformInt(rng, 0, max - 1);
  const logins: string[] = [];
  const channels: Entry[] = [];
  const histories: Entry[] = [];
  for (let i = 0; i < keys; i++) {
    const login = `channel_${i.toString(36)}_${rand(1_000_000).toString(36)}`;
    const [channel, history] = channelState(rand, 720);
    logins.push(login);
    channels.push([login, channel, 0]);
    histories.push([login, history, 0]);
  }
  return { snapshot: jobSnapshot(false, channels, histories), logins };
}

export function incrementalSnapshot(logins: readonly string[], seed: number): JobSnapshot {
  const rng = xoroshiro128plus(seed + 1);
  const rand = (max: number) => uniformInt(rng, 0, max - 1);
  const changed = new Set<string>();
  const target = Math.max(1, Math.round(logins.length * CHANGED_SHARE));
  while (changed.size < target) changed.add(logins[rand(logins.length)]!);
  const channels: Entry[] = [];
  const histories: Entry[] = [];
  for (const login of changed) {
    const [channel, history] = channelState(rand, 721);
    channels.push([login, channel, 0]);
    histories.push([login, history, 0]);
  }
  return jobSnapshot(true, channels, histories);
}

function jobSnapshot(incremental: boolean, channels: Entry[], histories: Entry[]): JobSnapshot {
  return {
    job: 'highlights',
    operators: {
      'bucket-counts': { watermark: START_MS + 720 * BUCKET_MS, state: { timers: [] } },
      baseline: { watermark: START_MS + 720 * BUCKET_MS, state: { timers: [] } },
    },
    keyed: {
      incremental,
      tables: {
        [CHANNEL_TABLE]: { entries: channels, deleted: [] },
        [HISTORY_TABLE]: { entries: histories, deleted: [] },
      },
    },
    positions: { chat: { '0': 12_345_678 } },
  };
}

export async function benchCheckpoint(options: CheckpointBenchOptions): Promise<CheckpointBenchResult> {
  const runs = options.runs ?? 3;
  const seed = options.seed ?? 1;
  const dirs = Array.from({ length: runs }, () => mkdtempSync(join(options.dir, 'checkpoint-bench-')));
  try {
    const writes = await writeAll(dirs, options.keys, seed);
    // The restores run once the snapshots written above are garbage, as after a restart: with a
    // million channels of state still live, each collection during the restore has twice the
    // heap to go through, and the restore measured ~3× slower.
    const restores: number[] = [];
    for (const dir of dirs) {
      const t = performance.now();
      const store = await LevelCheckpointStore.open(dir, { keep: 3 });
      const loaded = await store.load();
      restores.push(performance.now() - t);
      await store.close();
      const channels = loaded?.snapshot.keyed.tables[CHANNEL_TABLE]?.entries.length;
      if (loaded?.id !== 2 || channels !== options.keys) {
        throw new Error(`the benchmark restored checkpoint ${loaded?.id} with ${channels} channels`);
      }
    }
    const pauses: PauseFigures[] = [];
    for (const dir of dirs) pauses.push(await measurePause(join(dir, 'pause'), options.keys, seed));
    const ms = (values: readonly number[]) => Math.round(median(values) * 10) / 10;
    const mb = (values: readonly number[]) => Math.round(median(values) * 1000) / 1000;
    return {
      keys: options.keys,
      runs,
      full_ms: ms(writes.map((w) => w.full_ms)),
      full_mb: mb(writes.map((w) => w.full_mb)),
      incremental_ms: ms(writes.map((w) => w.incremental_ms)),
      incremental_mb: mb(writes.map((w) => w.incremental_mb)),
      restore_ms: ms(restores),
      pause_full_ms: ms(pauses.map((p) => p.full)),
      pause_incremental_ms: ms(pauses.map((p) => p.incremental)),
      write_block_ms: ms(pauses.map((p) => p.block)),
    };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** A full then an incremental checkpoint into each directory; the snapshots die with this call. */
async function writeAll(dirs: readonly string[], keys: number, seed: number) {
  const { snapshot: full, logins } = fullSnapshot(keys, seed);
  const incremental = incrementalSnapshot(logins, seed);
  const out: Array<{ full_ms: number; full_mb: number; incremental_ms: number; incremental_mb: number }> = [];
  for (const dir of dirs) {
    const store = await LevelCheckpointStore.open(dir, { keep: 3 });
    let t = performance.now();
    const a = await store.write(1, full, START_MS);
    const full_ms = performance.now() - t;
    t = performance.now();
    const b = await store.write(2, incremental, START_MS + BUCKET_MS);
    const incremental_ms = performance.now() - t;
    await store.close();
    out.push({ full_ms, full_mb: a.bytes / 1e6, incremental_ms, incremental_mb: b.bytes / 1e6 });
  }
  return out;
}

interface PauseFigures {
  readonly full: number;
  readonly incremental: number;
  readonly block: number;
}

/**
 * The pause a checkpoint causes, as the coordinator takes it: the state lives in a
 * MemoryStateBackend; a full capture is timed, then written while a 1 ms timer notes the longest
 * gap between its ticks (the event loop held up); then 1% of the channels change and an
 * incremental capture is timed.
 */
async function measurePause(dir: string, keys: number, seed: number): Promise<PauseFigures> {
  const { snapshot, logins } = fullSnapshot(keys, seed);
  const backend = new MemoryStateBackend({ processingTime: () => 0, eventTime: () => 0 });
  const channels = backend.table<unknown>('bucket-counts', 'channel');
  const histories = backend.table<unknown>('baseline', 'history');
  backend.restore(snapshot.keyed, { adopt: true });
  const store = await LevelCheckpointStore.open(dir, { keep: 3 });
  try {
    let t = performance.now();
    const full = backend.capture();
    const fullMs = performance.now() - t;
    let last = performance.now();
    let block = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      block = Math.max(block, now - last);
      last = now;
    }, 1);
    await store.write(1, { ...snapshot, keyed: full }, START_MS);
    clearInterval(timer);
    full.release();
    const changed = incrementalSnapshot(logins, seed).keyed.tables;
    for (const [key, value] of changed[CHANNEL_TABLE]!.entries) channels.put(key, value);
    for (const [key, value] of changed[HISTORY_TABLE]!.entries) histories.put(key, value);
    t = performance.now();
    const incremental = backend.capture({ incremental: true });
    const incrementalMs = performance.now() - t;
    incremental.release();
    return { full: fullMs, incremental: incrementalMs, block };
  } finally {
    await store.close();
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
