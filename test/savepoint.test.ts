/**
 * Savepoints end to end: a savepoint asked for through the control socket of a running job (the
 * way `scout savepoint` asks), listed and removed with `scout savepoints`, and a run started from
 * it that finishes with exactly the output of an uninterrupted run. Inputs are the golden
 * highlights case's generated chat.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requestSavepoint } from '../pipeline/cli/control.ts';
import { replayCommand } from '../pipeline/cli/replay.ts';
import { openJobState } from '../pipeline/cli/state.ts';
import { JobRuntime } from '../pipeline/runtime/runtime.ts';
import { ManualClock } from '../pipeline/time/clock.ts';
import { cli } from './cli.ts';
import { replayGraph } from './replay-graph.ts';

const golden = new URL('./golden/highlights/', import.meta.url).pathname;
const inputs = readdirSync(golden)
  .filter((f) => f.endsWith('.jsonl') && !f.startsWith('expected'))
  .sort()
  .map((f) => join(golden, f));
const expected = readFileSync(join(golden, 'expected.jsonl'), 'utf8');
const jobFile = join(golden, 'job.ts');

/** Runs the highlights job over the golden input with `--state-dir`, asking for a savepoint half-way. */
async function runWithSavepoint(stateDir: string, out: string, name: string) {
  const clock = new ManualClock(0);
  const graph = await replayGraph(jobFile, inputs, out, clock);
  const notices: string[] = [];
  const state = await openJobState({
    stateDir,
    graph,
    ignoreState: false,
    clock,
    log: (line) => notices.push(line),
  });
  let boundaries = 0;
  let asked: ReturnType<typeof requestSavepoint> | undefined;
  const runtime = new JobRuntime(graph, {
    clock,
    batchSize: 64,
    onBoundary: async (rt) => {
      boundaries++;
      // The request travels over the socket; the checkpointer takes it at a later boundary.
      if (boundaries === 40) {
        asked = requestSavepoint(stateDir, graph.name, name);
        asked.catch(() => {}); // awaited after the run
      }
      await state.checkpointer.onBoundary(rt);
    },
  });
  await runtime.run().finally(() => state.close());
  assert.ok(asked, 'the run ended before the savepoint was asked for');
  return { made: await asked, notices, boundaries };
}

describe('savepoints', () => {
  it('are taken from a running job, listed, restored to the uninterrupted output, and removed', async () => {
    const work = mkdtempSync(join(tmpdir(), 'savepoint-'));
    const stateDir = join(work, 'state');
    const out = join(work, 'out.jsonl');
    const { made, notices, boundaries } = await runWithSavepoint(stateDir, out, 'mid');
    assert.ok(boundaries > 60, `only ${boundaries} boundaries: the savepoint was not taken mid-run`);
    assert.equal(made.name, 'mid');
    assert.equal(made.job, 'highlights');
    assert.ok(made.keys > 0, 'the savepoint holds no keyed state');
    assert.ok(
      notices.some((n) => /^savepoint "mid" written to .*savepoints\/mid/.test(n)),
      notices.join('\n'),
    );
    assert.equal(readFileSync(out, 'utf8'), expected);

    const listed = await cli('savepoints', 'list', '--state-dir', stateDir);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^mid {2}highlights {2}\d{4}-\d\d-\d\dT.* \d+ keys {2}[\d.]+ KB\n$/);

    // A run from the savepoint replays only what came after it, and rewrites the output from there.
    const resumed: string[] = [];
    const summary = await replayCommand(inputs, {
      job: jobFile,
      out,
      set: {},
      stateDir,
      fromSavepoint: 'mid',
      log: (line) => resumed.push(line),
    });
    assert.match(resumed[0]!, /^restoring savepoint .*savepoints\/mid of highlights$/);
    const total = inputs.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length - 1, 0);
    assert.ok(summary.records > 0 && summary.records < total, `${summary.records} of ${total} replayed`);
    assert.equal(readFileSync(out, 'utf8'), expected);

    const removed = await cli('savepoints', 'rm', 'mid', '--state-dir', stateDir);
    assert.equal(removed.code, 0, removed.err);
    const again = await cli('savepoints', 'rm', 'mid', '--state-dir', stateDir);
    assert.equal(again.code, 1);
    assert.equal(again.err, `scout: no savepoint "mid" in ${stateDir}\n`);
    assert.equal(
      (await cli('savepoints', 'list', '--state-dir', stateDir)).out,
      `no savepoints in ${stateDir}\n`,
    );
  });

  it('refuses a savepoint of another job, a taken name, and asking when no job runs', async () => {
    const work = mkdtempSync(join(tmpdir(), 'savepoint-'));
    const stateDir = join(work, 'state');
    await runWithSavepoint(stateDir, join(work, 'out.jsonl'), 'first');

    const other = await cli(
      'replay',
      ...inputs,
      '--job',
      'chat-activity',
      '--state-dir',
      stateDir,
      '--from-savepoint',
      'first',
    );
    assert.equal(other.code, 1);
    assert.match(other.err, /^scout: savepoint .*first is of job "highlights", not "chat-activity"\n$/);

    await assert.rejects(
      runWithSavepoint(stateDir, join(work, 'out2.jsonl'), 'first'),
      /savepoint "first" already exists/,
    );

    const none = await cli('savepoint', 'highlights', '--state-dir', join(work, 'nothing-runs-here'));
    assert.equal(none.code, 1);
    assert.match(
      none.err,
      /^scout: no job is running with --state-dir .*nothing-runs-here \(start one with: /,
    );

    const bad = await cli('replay', ...inputs, '--job', 'highlights', '--from-savepoint', 'x');
    assert.equal(bad.code, 2);
    assert.equal(bad.err, 'scout: --from-savepoint needs --state-dir\n');
  });
});
