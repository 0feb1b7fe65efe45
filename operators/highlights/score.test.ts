import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Label } from '../../schemas/chat-line.ts';
import { MATCH_AFTER_MS, MATCH_BEFORE_MS, scoreOverall, scoreStream } from './score.ts';

const label = (start: number, end: number): Label => ({ start_ms: start, end_ms: end, note: '' });

describe('scoreStream', () => {
  it('finds a label with a detection from 10 s before its start to 30 s after its end, inclusive', () => {
    const labels = [label(100_000, 110_000)];
    for (const at of [100_000 - MATCH_BEFORE_MS, 105_000, 110_000 + MATCH_AFTER_MS]) {
      assert.equal(scoreStream([at], 1, labels).found, 1, `at ${at}`);
    }
    for (const at of [100_000 - MATCH_BEFORE_MS - 1, 110_000 + MATCH_AFTER_MS + 1]) {
      assert.equal(scoreStream([at], 1, labels).found, 0, `at ${at}`);
    }
  });

  it('computes precision over detections and recall over labels', () => {
    const labels = [label(100_000, 110_000), label(500_000, 510_000), label(900_000, 905_000)];
    // Two detections on the first label, one on the second, two false alarms.
    const s = scoreStream([101_000, 120_000, 505_000, 300_000, 700_000], 2, labels);
    assert.equal(s.truePositives, 3);
    assert.equal(s.found, 2);
    assert.equal(s.precision, 3 / 5);
    assert.equal(s.recall, 2 / 3);
    assert.ok(Math.abs(s.f1! - (2 * 0.6 * (2 / 3)) / (0.6 + 2 / 3)) < 1e-12);
    assert.equal(s.detectionsPerHour, 2.5);
  });

  it('reports only detections per hour for a stream without labels', () => {
    const s = scoreStream([1, 2, 3], 1.5, undefined);
    assert.equal(s.detectionsPerHour, 2);
    assert.equal(s.precision, undefined);
    assert.equal(s.labels, undefined);
  });

  it('gives a silent detector precision 0 rather than a perfect score', () => {
    const s = scoreStream([], 1, [label(0, 1)]);
    assert.equal(s.precision, 0);
    assert.equal(s.f1, 0);
  });
});

describe('scoreOverall', () => {
  it('pools the counts of labelled streams and the hours of all streams', () => {
    const a = scoreStream([101_000, 300_000], 1, [label(100_000, 110_000), label(500_000, 510_000)]);
    const b = scoreStream([5, 6, 7, 8], 3, undefined);
    const o = scoreOverall([a, b]);
    assert.equal(o.detections, 6);
    assert.equal(o.detectionsPerHour, 1.5);
    assert.equal(o.labels, 2);
    assert.equal(o.precision, 1 / 2, 'precision only over the labelled stream');
    assert.equal(o.recall, 1 / 2);
  });
});
