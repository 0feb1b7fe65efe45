import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BURST_GUARD_MS,
  BURST_MAX_MS,
  BURST_MIN_MS,
  BURST_QUIET_MS,
  type Burst,
  BurstSchedule,
  burstLabel,
  burstShape,
} from './bursts.ts';
import { resolveOptions, type SyntheticChatOptions } from './options.ts';
import { createProfiles } from './profile.ts';

function allBursts(options: SyntheticChatOptions): Burst[][] {
  const resolved = resolveOptions(options);
  return createProfiles(resolved).map((p) => new BurstSchedule(p, resolved).until(resolved.endMs));
}

describe('BurstSchedule', () => {
  const options = { channels: 40, hours: 10, seed: 5 };
  const resolved = resolveOptions(options);
  const schedules = allBursts(options);

  it('draws about burstsPerHour bursts per channel and hour', () => {
    const total = schedules.reduce((n, s) => n + s.length, 0);
    const perHour = total / (40 * 10);
    assert.ok(Math.abs(perHour - 3) < 0.35, `${perHour} bursts per hour`);
  });

  it('keeps bursts out of the first 6 minutes, inside the run, 8–60 s long and apart', () => {
    for (const bursts of schedules) {
      let previousEnd = Number.NEGATIVE_INFINITY;
      for (const b of bursts) {
        assert.ok(b.startMs >= resolved.startMs + BURST_GUARD_MS);
        assert.ok(b.endMs <= resolved.endMs);
        assert.ok(b.endMs - b.startMs >= BURST_MIN_MS - 1 && b.endMs - b.startMs <= BURST_MAX_MS + 1);
        assert.ok(
          b.startMs - previousEnd >= BURST_QUIET_MS,
          'a 5-minute quiet baseline precedes every burst',
        );
        assert.ok(b.factor >= 4 && b.peakExtraPerSec > 0);
        previousEnd = b.endMs;
      }
    }
  });

  it('draws the same bursts however far ahead it is asked', () => {
    const profile = createProfiles(resolved)[3]!;
    const short = new BurstSchedule(profile, resolved).until(resolved.startMs + 3 * 3_600_000);
    assert.deepEqual(short, schedules[3]?.slice(0, short.length));
    const endless = resolveOptions({ ...options, hours: Number.POSITIVE_INFINITY });
    const fitting = new BurstSchedule(profile, endless)
      .until(resolved.endMs)
      .filter((b) => b.endMs <= resolved.endMs);
    assert.deepEqual(fitting, schedules[3]);
  });

  it('draws none at zero bursts per hour and more at a higher rate', () => {
    assert.equal(allBursts({ ...options, burstsPerHour: 0 }).flat().length, 0);
    const busy = allBursts({ ...options, burstsPerHour: 12 }).flat().length / 400;
    assert.ok(busy > 9 && busy < 13, `${busy} bursts per hour`);
  });
});

describe('burstShape', () => {
  const burst = allBursts({ channels: 1, hours: 2, seed: 1 })[0]![0]!;

  it('is zero outside, rises to 1, and decays to 0.3 at the end', () => {
    assert.equal(burstShape(burst, burst.startMs - 1), 0);
    assert.equal(burstShape(burst, burst.endMs), 0);
    assert.ok(Math.abs(burstShape(burst, burst.startMs + burst.riseMs) - 1) < 1e-9);
    assert.ok(Math.abs(burstShape(burst, burst.endMs - 1) - 0.3) < 2e-3);
    assert.ok(burstShape(burst, burst.startMs + burst.riseMs / 2) < 0.6);
  });
});

describe('burstLabel', () => {
  it('names the factor and focal emote', () => {
    const burst = allBursts({ channels: 1, hours: 2, seed: 1 })[0]![0]!;
    const label = burstLabel(burst);
    assert.deepEqual(Object.keys(label), ['start_ms', 'end_ms', 'note']);
    assert.equal(label.start_ms, burst.startMs);
    assert.equal(label.end_ms, burst.endMs);
    assert.match(label.note, /^emote burst ×\d+\.\d \(\S+\)$/);
    assert.ok(label.note.includes(burst.focalEmote));
  });
});
