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
import { jsonlFileSink } from '../../connectors/jsonl/file-sink.ts';
import { jsonlReplaySource } from '../../connectors/jsonl/replay-source.ts';
import { replayCommand } from '../../pipeline/cli/replay.ts';
import { openJobState } from '../../pipeline/cli/state.ts';
import { EmbeddedBroker, embeddedContext } from '../../pipeline/jobs/contexts.ts';
import { loadJob } from '../../pipeline/jobs/registry.ts';
import { JobRuntime } from '../../pipeline/runtime/runtime.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import type { Sink, Source } from '../../pipeline/types.ts';

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
    const job = await loadJob(join(dir, 'job.ts'));
    const clock = new ManualClock(0);
    const ctx = embeddedContext(new EmbeddedBroker(), {
      clock,
      mode: 'replay',
      inputs: new Map([[job.input, jsonlReplaySource(inputs) as Source<unknown>]]),
      outputs: new Map([[job.output, jsonlFileSink(out) as Sink<unknown>]]),
    });
    const graph = job.build(ctx).graph();
    const state = await openJobState({
      stateDir,
      job: graph.name,
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
        if (boundaries === crashAt) {
          await state.checkpointer.checkpoint(rt);
          checkpointed = true;
        }
        if (boundaries === crashAt + 3) throw new Crash('killed');
      },
    });
    await assert.rejects(runtime.run(), Crash);
    await state.close();
    assert.ok(checkpointed, 'the run ended before its checkpoint');

    const summary = await replayCommand(inputs, { job: join(dir, 'job.ts'), out, set: {}, stateDir });
    assert.ok(summary.records < total, 'the restored run replayed everything: it did not resume');
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(dir, 'expected.jsonl'), 'utf8'));
  });
}
