/**
 * Golden pipelines: each folder holds input files, a job and the expected output. The job runs
 * through `scout replay` and must reproduce expected.jsonl byte for byte — twice in a row, so any
 * nondeterminism (iteration order, timing) fails too. `UPDATE_GOLDEN=1` rewrites the expectations.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { replayCommand } from '../../pipeline/cli/replay.ts';

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
