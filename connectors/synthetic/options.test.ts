import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_BURSTS_PER_HOUR,
  DEFAULT_CHATTER_SIGMA,
  DEFAULT_COMMAND_FRACTION,
  DEFAULT_START_MS,
  resolveOptions,
} from './options.ts';

describe('resolveOptions', () => {
  it('fills in defaults from a fixed epoch', () => {
    const r = resolveOptions({ channels: 2, hours: 1.5, seed: 4 });
    assert.equal(r.startMs, DEFAULT_START_MS);
    assert.equal(r.durationMs, 5_400_000);
    assert.equal(r.endMs, DEFAULT_START_MS + 5_400_000);
    assert.equal(r.burstsPerHour, DEFAULT_BURSTS_PER_HOUR);
    assert.equal(r.commandFraction, DEFAULT_COMMAND_FRACTION);
    assert.equal(r.chatterSigma, DEFAULT_CHATTER_SIGMA);
    assert.equal(r.rateScale, 1);
  });

  it('prefers durationMs and accepts an endless run', () => {
    assert.equal(
      resolveOptions({ channels: 1, hours: 9, durationMs: 1234, seed: 0 }).endMs,
      DEFAULT_START_MS + 1234,
    );
    const endless = resolveOptions({ channels: 1, hours: Number.POSITIVE_INFINITY, seed: 0, startMs: 5 });
    assert.equal(endless.endMs, Number.POSITIVE_INFINITY);
    assert.equal(endless.startMs, 5);
  });

  it('rejects options that cannot make a run', () => {
    const base = { channels: 1, hours: 1, seed: 1 };
    assert.throws(() => resolveOptions({ ...base, channels: 0 }), RangeError);
    assert.throws(() => resolveOptions({ ...base, channels: 1.5 }), RangeError);
    assert.throws(() => resolveOptions({ channels: 1, seed: 1 }), /hours or durationMs/);
    assert.throws(() => resolveOptions({ ...base, hours: -1 }), RangeError);
    assert.throws(() => resolveOptions({ ...base, seed: 0.5 }), RangeError);
    assert.throws(() => resolveOptions({ ...base, commandFraction: 1.5 }), RangeError);
    assert.throws(() => resolveOptions({ ...base, burstsPerHour: -1 }), RangeError);
    assert.throws(() => resolveOptions({ ...base, rateScale: 0 }), RangeError);
  });
});
