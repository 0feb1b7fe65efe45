/**
 * The crash test: `scout replay` of a multi-hour stream through the highlights job, with
 * `--state-dir`, killed with SIGKILL at 20 random moments and restarted each time, must end with
 * an `--out` file identical to an uninterrupted run's, and the Postgres clips table must hold each
 * detection's clip exactly once. A kill can land anywhere — mid-batch, mid-checkpoint, mid-write —
 * which is the point; what is asserted does not depend on where.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { openDatabase } from '../connectors/postgres/database.ts';
import { writeGeneratedChat } from '../connectors/synthetic/write.ts';
import { replayCommand } from '../pipeline/cli/replay.ts';
import { createTestDatabase, type TestDatabase } from './services.ts';

const root = new URL('..', import.meta.url).pathname;
const KILLS = 20;

let files: string[] = [];
let database: TestDatabase;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  files = (
    await writeGeneratedChat({ channels: 40, hours: 3, seed: 77, outDir: dir, gzip: true })
  ).files.filter((f) => f.endsWith('.jsonl.gz'));
  database = await createTestDatabase();
});

after(async () => {
  await database.drop();
});

/** Runs `scout replay` in a child; kills it with SIGKILL after `killAfterMs` unless it ends first. */
function replayChild(
  args: string[],
  killAfterMs: number | undefined,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/scout.mjs'), 'replay', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('crash test', () => {
  it(`survives ${KILLS} SIGKILLs with output and clips identical to an uninterrupted run`, {
    timeout: 600_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'crash-run-'));
    const reference = join(work, 'reference.jsonl');
    await replayCommand(files, { job: 'highlights', out: reference, set: {} });
    const expected = readFileSync(reference, 'utf8');
    assert.ok(expected.split('\n').length > 20, 'the reference run found too few detections to compare');

    const out = join(work, 'crashed.jsonl');
    const stateDir = join(work, 'state');
    const args = [
      ...files,
      '--job',
      'highlights',
      '--out',
      out,
      '--state-dir',
      stateDir,
      '--checkpoint-interval',
      '100ms',
      '--store',
    ];
    const rng = xoroshiro128plus(20261121);
    let killed = 0;
    for (let i = 0; i < KILLS; i++) {
      // Node with tsx takes about a second to start; kills land from start-up to well into the run.
      const delay = uniformInt(rng, 300, 2_500);
      const r = await replayChild(args, delay);
      if (r.signal === 'SIGKILL') killed++;
      else assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /holds checkpoints but none can be restored/);
    }
    const final = await replayChild(args, undefined);
    assert.equal(final.code, 0, final.stderr);

    assert.equal(readFileSync(out, 'utf8'), expected, 'the output differs from the uninterrupted run');

    // Where a kill lands is up to the machine; a quarter landing mid-run still exercises recovery.
    assert.ok(killed >= KILLS / 4, `only ${killed} of ${KILLS} kills landed while the job ran`);

    const detections = expected.trim().split('\n').length;
    const db = await openDatabase({ url: database.url });
    try {
      const [row] = await db.query<{ n: number; distinct_ids: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT clip_id)::int AS distinct_ids FROM clips',
      );
      assert.equal(row!.n, detections, 'clips lost or doubled');
      assert.equal(row!.distinct_ids, detections);
    } finally {
      await db.close();
    }
  });
});
