import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Spike } from '../highlights/detector.ts';
import { activitySvg } from './activity-svg.ts';
import { localBroadcasterId, localClipper } from './local-clipper.ts';

const spike: Spike = {
  broadcaster_login: 'a<b>&c',
  detected_at: 1_700_000_005_000,
  bucket_start: 1_700_000_000_000,
  bucket_end: 1_700_000_005_000,
  count: 30,
  baseline_mean: 3,
  baseline_stddev: 1,
  z: 27,
  history: [2, 3, 4],
};

describe('local clipper', () => {
  it('derives the clip id and a stable broadcaster id from the detection, so a replayed spike is one clip', async () => {
    const clipper = localClipper();
    const signal = new AbortController().signal;
    const a = await clipper.fetchClip(await clipper.createClip(spike, signal), signal);
    const b = await clipper.fetchClip(await clipper.createClip(spike, signal), signal);
    assert.deepEqual(a, b);
    assert.equal(a?.clip_id, `local-a<b>&c-${spike.detected_at}`);
    assert.equal(a?.broadcaster_id, localBroadcasterId('a<b>&c'));
    assert.ok(Number.isSafeInteger(a!.broadcaster_id) && a!.broadcaster_id > 0);
    assert.notEqual(localBroadcasterId('ann'), localBroadcasterId('bob'));
  });

  it('uses the broadcaster id the chat carried when there is one', async () => {
    const signal = new AbortController().signal;
    const handle = await localClipper().createClip({ ...spike, broadcaster_id: 99 }, signal);
    assert.equal(handle.broadcasterId, 99);
  });
});

describe('activitySvg', () => {
  it('draws the counts with the last one marked and escapes the title', () => {
    const svg = activitySvg({ counts: [0, 5, 10], title: '<script>&"' });
    assert.match(svg, /<title>&#60;script&#62;&#38;&#34;<\/title>/);
    assert.doesNotMatch(svg, /<script>/);
    assert.match(svg, />10 msgs\/5s</);
    // Three points, the highest (10) at the top of the plot area.
    const points = /<polyline points="([^"]+)"/.exec(svg)![1]!.split(' ');
    assert.equal(points.length, 3);
    assert.equal(points[2], '312.0,28.0');
  });

  it('draws an empty series without dividing by zero', () => {
    assert.doesNotMatch(activitySvg({ counts: [], title: 'x' }), /NaN|Infinity/);
  });
});
