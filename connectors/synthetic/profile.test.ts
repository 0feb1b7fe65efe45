import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOptions } from './options.ts';
import { BASE_RATE_MAX, BASE_RATE_MIN, createProfiles, driftAt } from './profile.ts';

const LOGIN = /^[a-z0-9][a-z0-9_]{3,24}$/;

describe('createProfiles', () => {
  const profiles = createProfiles(resolveOptions({ channels: 200, hours: 1, seed: 11 }));

  it('gives every channel a unique, valid login', () => {
    assert.equal(new Set(profiles.map((p) => p.login)).size, 200);
    for (const p of profiles) assert.match(p.login, LOGIN);
  });

  it('spreads base rates log-normally from quiet to a few big channels', () => {
    const rates = profiles.map((p) => p.baseRatePerSec).sort((a, b) => a - b);
    assert.ok(rates.every((r) => r >= BASE_RATE_MIN && r <= BASE_RATE_MAX));
    const median = rates[100] as number;
    assert.ok(median > 0.3 && median < 0.9, `median ${median}`);
    assert.ok((rates[0] as number) < 0.1, `quietest ${rates[0]}`);
    const big = rates.filter((r) => r > 5).length;
    assert.ok(big >= 3 && big <= 25, `${big} channels above 5 msg/s`);
  });

  it('covers quiet to busy even with ten channels', () => {
    const rates = createProfiles(resolveOptions({ channels: 10, hours: 1, seed: 3 })).map(
      (p) => p.baseRatePerSec,
    );
    assert.ok(Math.min(...rates) < 0.2 && Math.max(...rates) > 2, rates.join(' '));
  });

  it('keeps drift within ×0.3..×3 over a day', () => {
    for (const p of profiles.slice(0, 20)) {
      for (let t = 0; t < 24 * 3_600_000; t += 60_000) {
        const d = driftAt(p, t);
        assert.ok(d >= 0.3 && d <= 3, `${p.login} drift ${d} at ${t}`);
      }
    }
  });

  it('sizes the user pool with the rate', () => {
    const byRate = [...profiles].sort((a, b) => a.baseRatePerSec - b.baseRatePerSec);
    assert.ok((byRate[0]?.userPoolSize ?? 0) >= 100);
    assert.ok((byRate[199]?.userPoolSize ?? 0) > 20 * (byRate[0]?.userPoolSize ?? 0));
  });

  it('gives each channel emotes under its prefix and bots', () => {
    for (const p of profiles) {
      assert.ok(
        p.channelEmotes.includes(p.emotePrefix + 'Hype') && p.channelEmotes.includes(p.emotePrefix + 'LUL'),
      );
      assert.ok(p.channelEmotes.length >= 6);
      assert.ok(p.sharedBots.length >= 1);
      assert.equal(p.channelBot, p.login.slice(0, 22) + 'bot');
      assert.ok(p.timers.length >= 2);
    }
  });

  it('is a function of the seed', () => {
    const again = createProfiles(resolveOptions({ channels: 200, hours: 1, seed: 11 }));
    assert.deepEqual(again, profiles);
    const other = createProfiles(resolveOptions({ channels: 200, hours: 1, seed: 12 }));
    assert.notDeepEqual(
      other.map((p) => p.login),
      profiles.map((p) => p.login),
    );
  });

  it('scales rates but not pools with rateScale', () => {
    const scaled = createProfiles(resolveOptions({ channels: 200, hours: 1, seed: 11, rateScale: 3 }));
    assert.ok(Math.abs((scaled[0]?.baseRatePerSec ?? 0) - 3 * (profiles[0]?.baseRatePerSec ?? 0)) < 1e-9);
    assert.equal(scaled[0]?.userPoolSize, profiles[0]?.userPoolSize);
  });
});
