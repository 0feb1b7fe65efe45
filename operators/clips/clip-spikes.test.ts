import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import type { Clip } from '../../schemas/clip.ts';
import type { Spike } from '../highlights/detector.ts';
import { type ClipFailure, clipSpikes } from './clip-spikes.ts';
import type { Clipper } from './clipper.ts';
import { type FakeOutcome, fakeClipper } from './fake-clipper.ts';
import { localClipper } from './local-clipper.ts';

type Out = { clip: Clip } | { failure: ClipFailure };

const spike: Spike = {
  broadcaster_login: 'ann',
  broadcaster_id: 77,
  detected_at: 1_000_000,
  bucket_start: 995_000,
  bucket_end: 1_000_000,
  count: 40,
  baseline_mean: 10,
  baseline_stddev: 2,
  z: 15,
  history: [8, 12, 10],
};

function harness(clipper: Clipper, time: 'processing' | 'event' = 'processing', clock = new ManualClock(0)) {
  return new OperatorHarness<Spike, Out>(
    (s) => {
      const { clips, failures } = clipSpikes(s, clipper, { time });
      return clips
        .map((clip): Out => ({ clip }), 'as-clip')
        .union([failures.map((failure): Out => ({ failure }), 'as-failure')], 'out');
    },
    { clock },
  );
}

/** Pushes the spike at clock time 0 and advances the clock a second at a time for `seconds`. */
async function runFor(
  script: { create?: FakeOutcome[]; fetch?: FakeOutcome[] },
  seconds: number,
): Promise<{ calls: Array<[string, number, FakeOutcome]>; out: Out[] }> {
  const clock = new ManualClock(0);
  const clipper = fakeClipper(clock, script);
  const hh = harness(clipper, 'processing', clock);
  hh.push(spike, spike.detected_at);
  for (let i = 0; i < seconds; i++) await hh.advance(1_000);
  await hh.settle();
  return { calls: clipper.calls.map((c) => [c.kind, c.at / 1000, c.outcome]), out: hh.values() };
}

describe('clip schedule (virtual clock, processing time)', () => {
  it('creates 10 s after the detection and fetches 15 s after the creation', async () => {
    const { calls, out } = await runFor({}, 40);
    assert.deepEqual(calls, [
      ['create', 10, 'ok'],
      ['fetch', 25, 'ok'],
    ]);
    assert.equal(out.length, 1);
    const clip = (out[0] as { clip: Clip }).clip;
    assert.equal(clip.broadcaster_id, 77);
    assert.equal(clip.detected_at, spike.detected_at);
  });

  it('retries Create Clip at +2 s and +4 s after the first attempt on 503, 429 and network errors', async () => {
    const { calls, out } = await runFor({ create: [503, 429, 'network'] }, 40);
    assert.deepEqual(calls, [
      ['create', 10, 503],
      ['create', 12, 429],
      ['create', 14, 'network'],
    ]);
    const failure = (out[0] as { failure: ClipFailure }).failure;
    assert.equal(failure.stage, 'create');
    assert.equal(failure.attempts, 3);
    assert.equal(failure.detection.broadcaster_login, 'ann');
    assert.equal('history' in failure.detection, false);
  });

  it('succeeds on a retry and goes on to fetch 15 s after that success', async () => {
    const { calls, out } = await runFor({ create: [500, 'ok'] }, 40);
    assert.deepEqual(calls, [
      ['create', 10, 500],
      ['create', 12, 'ok'],
      ['fetch', 27, 'ok'],
    ]);
    assert.ok('clip' in out[0]!);
  });

  for (const status of [400, 401, 403, 404]) {
    it(`never retries a ${status}`, async () => {
      const { calls, out } = await runFor({ create: [status] }, 40);
      assert.deepEqual(calls, [['create', 10, status]]);
      assert.equal((out[0] as { failure: ClipFailure }).failure.stage, 'create');
    });
  }

  it('keeps fetching a clip that is not ready yet with backoff, at +5, +15, +35 and +60 s', async () => {
    const { calls, out } = await runFor({ fetch: ['not-ready', 'not-ready', 'not-ready', 'ok'] }, 80);
    assert.deepEqual(
      calls.map(([k, at]) => [k, at]),
      [
        ['create', 10],
        ['fetch', 25],
        ['fetch', 30],
        ['fetch', 40],
        ['fetch', 60],
      ],
    );
    assert.ok('clip' in out[0]!);
  });

  it('records the attempt as failed when the clip has not appeared 60 s after the first fetch', async () => {
    const notReady: FakeOutcome[] = ['not-ready', 'not-ready', 'not-ready', 'not-ready', 'not-ready'];
    const { calls, out } = await runFor({ fetch: notReady }, 120);
    assert.deepEqual(
      calls.filter(([k]) => k === 'fetch').map(([, at]) => at),
      [25, 30, 40, 60, 85],
    );
    const failure = (out[0] as { failure: ClipFailure }).failure;
    assert.equal(failure.stage, 'fetch');
    assert.equal(failure.attempts, 5);
    assert.match(failure.error, /not available yet/);
  });
});

describe('clip schedule in a replay (event time)', () => {
  it('waits on the watermark, not the clock', async () => {
    const h = harness(localClipper(), 'event');
    h.push(spike, spike.detected_at);
    h.watermark(spike.detected_at + 9_999);
    await h.settle();
    assert.deepEqual(h.values(), []);
    h.watermark(spike.detected_at + 10_000 + 15_000);
    await h.settle();
    const out = h.values();
    assert.equal(out.length, 1);
    const clip = (out[0] as { clip: Clip }).clip;
    assert.equal(clip.clip_id, `local-ann-${spike.detected_at}`);
    assert.match(clip.thumbnail_url, /^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(clip.thumbnail_url.split(',')[1]!, 'base64').toString('utf8');
    assert.match(svg, /40 msgs\/5s/);
    assert.match(svg, /ann/);
  });
});
