import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../builder.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { fromArray } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import { JobMetrics, startMetricsServer } from './job-metrics.ts';

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('JobMetrics', () => {
  it('exports checkpoint duration, pause, size and the age of the last success on the injected clock', async () => {
    const clock = new ManualClock(1_000);
    const metrics = new JobMetrics('highlights', clock, { processMetrics: false });
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'scout_checkpoint_age_seconds'), -1);

    metrics.checkpointSucceeded({
      id: 4,
      incremental: true,
      bytes: 2048,
      keys: 17,
      durationMs: 200,
      pauseMs: 3,
      takenAt: 1_000,
    });
    metrics.checkpointFailed();
    metrics.checkpointCopied(true);
    await clock.advance(4_000);
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'scout_checkpoint_age_seconds'), 3.8);
    assert.equal(sample(text, 'scout_checkpoint_size_bytes'), 2048);
    assert.equal(sample(text, 'scout_checkpoint_keys'), 17);
    assert.equal(sample(text, 'scout_checkpoint_last_success_timestamp_seconds'), 1.2);
    assert.match(text, /scout_checkpoints_total\{job="highlights",outcome="success"\} 1/);
    assert.match(text, /scout_checkpoints_total\{job="highlights",outcome="failure"\} 1/);
    assert.match(text, /scout_checkpoint_pause_seconds_bucket\{le="0.005",job="highlights"\} 1/);
    assert.match(text, /scout_checkpoint_pause_seconds_bucket\{le="0.001",job="highlights"\} 0/);
    assert.match(text, /scout_checkpoint_duration_seconds_sum\{job="highlights"\} 0.2/);
    assert.match(text, /scout_checkpoint_copies_total\{job="highlights",outcome="success"\} 1/);
  });

  it("counts each step's records from the runtime, also across scrapes", async () => {
    const p = pipeline('numbers');
    p.from(fromArray([1, 2, 3, 4, 5]), { id: 'in' })
      .filter((n) => n % 2 === 1, 'odd')
      .to({ describe: () => 'x', open: () => ({ write: () => {}, close: () => {} }) }, 'out');
    const clock = new ManualClock(0);
    const runtime = new JobRuntime(p.graph(), { clock });
    const metrics = new JobMetrics('numbers', clock, { processMetrics: false });
    metrics.watch(runtime);
    await runtime.run();
    await metrics.registry.metrics();
    const text = await metrics.registry.metrics();
    assert.match(text, /scout_step_records_in_total\{job="numbers",step="odd"\} 5\n/);
    assert.match(text, /scout_step_records_out_total\{job="numbers",step="odd"\} 3\n/);
    assert.match(text, /scout_step_records_in_total\{job="numbers",step="out"\} 3\n/);
  });

  it('serves /metrics in the Prometheus text format, /health, and 404 / 405 otherwise', async () => {
    const metrics = new JobMetrics('j', new ManualClock(0));
    const served = await startMetricsServer(metrics, 0);
    try {
      const res = await fetch(served.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
      const body = await res.text();
      assert.match(body, /# TYPE scout_checkpoint_age_seconds gauge/);
      assert.match(body, /process_resident_memory_bytes /);
      const base = served.url.replace(/\/metrics$/, '');
      assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok', job: 'j' });
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(served.url, { method: 'POST' })).status, 405);
      await assert.rejects(
        startMetricsServer(metrics, Number(new URL(served.url).port)),
        /--metrics-port \d+ is in use on 127.0.0.1/,
      );
    } finally {
      await served.close();
    }
  });
});
