/**
 * End to end on the embedded default: generated chat with injected bursts → the highlights job in
 * a replay → detections and, through the local clipper, clips stored in PGlite and served by the
 * query API. The bursts the generator labels must be found; the rule and the robust detector are
 * both held to it, and the robust one must not be noisier.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonlReplaySource } from '../connectors/jsonl/replay-source.ts';
import { type Database, openDatabase } from '../connectors/postgres/database.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { writeGeneratedChat } from '../connectors/synthetic/write.ts';
import { scoreStream } from '../operators/highlights/score.ts';
import { readLabels } from '../pipeline/cli/detect-stream.ts';
import { evalCommand } from '../pipeline/cli/eval.ts';
import { EmbeddedBroker, embeddedContext } from '../pipeline/jobs/contexts.ts';
import highlights from '../pipeline/jobs/highlights.ts';
import { JobRuntime } from '../pipeline/runtime/runtime.ts';
import { collect } from '../pipeline/testing/sources.ts';
import { ManualClock } from '../pipeline/time/clock.ts';
import type { Sink } from '../pipeline/types.ts';
import { createApp } from '../query-api/app.ts';
import type { Detection } from '../schemas/detection.ts';
import { postgresClipSink } from '../sinks/postgres/clip-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'highlights-e2e-'));
let files: string[] = [];
let db: Database;

before(async () => {
  const summary = await writeGeneratedChat({ channels: 6, hours: 1, seed: 2024, outDir: dir });
  files = summary.files.filter((f) => f.endsWith('.jsonl'));
  assert.ok(summary.labels >= 10, `only ${summary.labels} bursts generated`);
  db = await openDatabase({ dataDir: 'memory://' });
  await migrate(db);
});

after(async () => {
  await db.close();
});

describe('highlights job end to end', () => {
  it('finds the injected bursts, stores one clip per detection, and serves them', async () => {
    const detections = collect<Detection>();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const ctx = embeddedContext(new EmbeddedBroker(), {
      clock,
      mode: 'replay',
      inputs: new Map([['chat-messages', jsonlReplaySource(files)]]),
      outputs: new Map([['highlights', detections as Sink<unknown>]]),
      stores: new Map([['clips', postgresClipSink(db) as Sink<unknown>]]),
    });
    await new JobRuntime(highlights.build(ctx).graph(), { clock }).run();

    let found = 0;
    let labels = 0;
    for (const file of files) {
      const login = file.split('/').pop()!.replace('.jsonl', '');
      const mine = detections.records.filter((d) => d.broadcaster_login === login).map((d) => d.detected_at);
      const score = scoreStream(mine, 1, readLabels(file));
      found += score.found ?? 0;
      labels += score.labels ?? 0;
    }
    assert.ok(found / labels >= 0.9, `found ${found} of ${labels} bursts`);

    const rows = await db.query<{ clip_id: string; detected_at: number }>(
      'SELECT clip_id, detected_at FROM clips ORDER BY detected_at',
    );
    assert.equal(rows.length, detections.records.length, 'one clip per detection');
    assert.deepEqual(
      rows.map((r) => r.detected_at),
      detections.records.map((d) => d.detected_at).sort((a, b) => a - b),
    );

    const first = new Date(rows[0]!.detected_at).toISOString();
    const res = await createApp({ db, clock: new ManualClock(rows.at(-1)!.detected_at + 1) }).request(
      `/v1.0/clip?start=${first}&limit=1000`,
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as { clips: Array<{ clip_id: string; embed_url: string }> };
    assert.equal(body.clips.length, rows.length);
    assert.match(body.clips[0]!.embed_url, /^data:image\/svg\+xml/);
  });

  it('scores both detectors with scout eval; robust is at least as precise as the rule', async () => {
    const report = await evalCommand([dir], { detectors: ['rule', 'robust'], set: {} });
    const [rule, robust] = report.results;
    assert.ok(rule!.overall.recall! >= 0.9, `rule recall ${rule!.overall.recall}`);
    assert.ok(robust!.overall.recall! >= 0.85, `robust recall ${robust!.overall.recall}`);
    assert.ok(robust!.overall.precision! >= rule!.overall.precision!);
    assert.ok(
      robust!.overall.f1! > rule!.overall.f1!,
      `F1 robust ${robust!.overall.f1} vs rule ${rule!.overall.f1}`,
    );
  });
});
