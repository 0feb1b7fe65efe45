/**
 * Golden pipelines: each folder holds input files, a job and the expected output. The job runs
 * through `scout replay` and must reproduce expected.jsonl byte for byte — twice in a row, so any
 * nondeterminism (iteration order, timing) fails too — and once more crashed in the middle: it
 * checkpoints at every batch boundary, dies a few batches after the checkpoint half-way through
 * (its output file already holds lines past that checkpoint), and `scout replay --state-dir`
 * restores and finishes it. `UPDATE_GOLDEN=1` rewrites the expectations.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { replayCommand } from '../../pipeline/cli/replay.ts';
import { openJobState } from '../../pipeline/cli/state.ts';
import { JobRuntime } from '../../pipeline/runtime/runtime.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { replayGraph } from '../replay-graph.ts';

const here = new URL('.', import.meta.url).pathname;
const cases = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

for (const name of cases) {
  test(`golden: ${name} reproduces expected.jsonl byte for byte, twice`, async () => {
    const dir = join(here, name);
    const inputs = readdirSync(dir)
      .filter((f) => /\.jsonl(\.gz)?$/.test(f) && !f.startsWith('expected'))
      .sort()
      .map((f) => join(dir, f));
    assert.ok(inputs.length > 0, `${name} has no input files`);
    const outputs: string[] = [];
    for (let run = 0; run < 2; run++) {
      const out = join(mkdtempSync(join(tmpdir(), `golden-${name}-`)), 'out.jsonl');
      const summary = await replayCommand(inputs, { job: join(dir, 'job.ts'), out, set: {} });
      assert.equal(summary.malformed, 0);
      outputs.push(readFileSync(out, 'utf8'));
    }
    assert.ok(outputs[0]!.length > 0, 'the job produced no output');
    assert.equal(outputs[1], outputs[0], 'two runs of the same input differ');
    const expectedPath = join(dir, 'expected.jsonl');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedPath, outputs[0]!);
    assert.equal(outputs[0], readFileSync(expectedPath, 'utf8'));
  });
}

/** Thrown from the boundary hook to end a run the way a crash would: no final flush or checkpoint. */
class Crash extends Error {}

for (const name of cases) {
  test(`golden: ${name} crashed half-way and restored from its checkpoint gives the same output`, async () => {
    const dir = join(here, name);
    const inputs = readdirSync(dir)
      .filter((f) => /\.jsonl(\.gz)?$/.test(f) && !f.startsWith('expected'))
      .sort()
      .map((f) => join(dir, f));
    const work = mkdtempSync(join(tmpdir(), `golden-crash-${name}-`));
    const out = join(work, 'out.jsonl');
    const stateDir = join(work, 'state');
    const clock = new ManualClock(0);
    const graph = await replayGraph(join(dir, 'job.ts'), inputs, out, clock);
    const state = await openJobState({
      stateDir,
      graph,
      ignoreState: false,
      clock,
      log: () => {},
      intervalMs: 0,
    });
    const total = inputs.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length - 1, 0);
    const batchSize = 64;
    const crashAt = Math.floor(total / batchSize / 2);
    let boundaries = 0;
    let checkpointed = false;
    const runtime = new JobRuntime(graph, {
      clock,
      batchSize,
      onBoundary: async (rt) => {
        boundaries++;
        if (boundaries === crashAt || boundaries === crashAt + 1) {
          await state.checkpointer.checkpoint(rt);
          checkpointed = true;
        }
        if (boundaries === crashAt + 3) throw new Crash('killed');
      },
    });
    await assert.rejects(runtime.run(), Crash);
    await state.close();
    assert.ok(checkpointed, 'the run ended before its checkpoint');

    // On one case, also damage the newest checkpoint: recovery must fall back to the one before.
    const corrupt = name === 'highlights';
    if (corrupt) await corruptNewestCheckpoint(stateDir);
    const notices: string[] = [];
    const summary = await replayCommand(inputs, {
      job: join(dir, 'job.ts'),
      out,
      set: {},
      stateDir,
      log: (line) => notices.push(line),
    });
    assert.ok(summary.records < total, 'the restored run replayed everything: it did not resume');
    assert.match(notices.at(-1)!, corrupt ? /^restoring checkpoint 1 of / : /^restoring checkpoint 2 of /);
    if (corrupt)
      assert.match(
        notices[0]!,
        /^checkpoint 2 in .* is unusable \(corrupt: .*\); falling back to an older one$/,
      );
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(dir, 'expected.jsonl'), 'utf8'));
  });
}

/** Flips one bit in the newest checkpoint's stored keyed state, as a bad disk would. */
async function corruptNewestCheckpoint(stateDir: string): Promise<void> {
  const db = new ClassicLevel<string, Uint8Array>(stateDir, { valueEncoding: 'view' });
  await db.open();
  try {
    const [last] = await db.iterator({ gte: 'd!', lt: 'd"', reverse: true, limit: 1 }).all();
    assert.ok(last, 'no keyed state stored');
    const altered = Uint8Array.from(last[1]);
    altered[altered.length - 1]! ^= 1;
    await db.put(last[0], altered);
  } finally {
    await db.close();
  }
}
