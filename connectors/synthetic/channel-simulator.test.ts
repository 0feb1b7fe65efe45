import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { type Burst, BurstSchedule, burstShape } from './bursts.ts';
import { ChannelSimulator } from './channel-simulator.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { type ChannelProfile, createProfiles, driftAt } from './profile.ts';

function simulate(profile: ChannelProfile, options: ResolvedOptions): ChatLine[] {
  const simulator = new ChannelSimulator(profile, options);
  const out: ChatLine[] = [];
  while (simulator.fillNextSecond(out)) {}
  return out;
}

/** Expected viewer messages in [fromMs, toMs) from the rate model, integrated per 250 ms. */
function expectedCount(
  profile: ChannelProfile,
  bursts: readonly Burst[],
  options: ResolvedOptions,
  fromMs: number,
  toMs: number,
): number {
  let sum = 0;
  for (let t = fromMs; t < toMs; t += 250) {
    const mid = t + 125;
    let rate = profile.baseRatePerSec * driftAt(profile, mid - options.startMs);
    for (const b of bursts) rate += b.peakExtraPerSec * burstShape(b, mid);
    sum += rate / 4;
  }
  return sum;
}

const options = resolveOptions({ channels: 12, hours: 2, seed: 2024 });
const profiles = createProfiles(options);
const outputs = profiles.map((p) => simulate(p, options));

function botsOf(profile: ChannelProfile): Set<string> {
  return new Set([...profile.sharedBots, profile.channelBot]);
}

describe('ChannelSimulator', () => {
  it('emits records in format key order, sorted, inside the run', () => {
    for (const [i, lines] of outputs.entries()) {
      assert.ok(lines.length > 0);
      let last = options.startMs;
      for (const line of lines) {
        assert.equal(line.broadcaster_login, profiles[i]?.login);
        assert.ok(line.ts >= last && line.ts < options.endMs && Number.isInteger(line.ts));
        last = line.ts;
      }
      assert.deepEqual(Object.keys(lines[0] as ChatLine), ['broadcaster_login', 'ts', 'user', 'text']);
    }
  });

  it('follows each channel profile: total count and, for busy channels, every half hour', () => {
    for (const [i, profile] of profiles.entries()) {
      const bursts = new BurstSchedule(profile, options).until(options.endMs);
      const bots = botsOf(profile);
      const viewer = (outputs[i] as ChatLine[]).filter((l) => !bots.has(l.user));
      const expected = expectedCount(profile, bursts, options, options.startMs, options.endMs);
      // Poisson noise plus the correlated chatter wobble (about 2 % of a 2-hour total).
      const tolerance = 4 * Math.sqrt(expected) + 0.04 * expected;
      assert.ok(
        Math.abs(viewer.length - expected) < tolerance,
        `${profile.login}: ${viewer.length} vs ${expected}`,
      );
      if (profile.baseRatePerSec < 1) continue;
      for (let from = options.startMs; from < options.endMs; from += 1_800_000) {
        const inWindow = viewer.filter((l) => l.ts >= from && l.ts < from + 1_800_000).length;
        const want = expectedCount(profile, bursts, options, from, from + 1_800_000);
        assert.ok(
          Math.abs(inWindow / want - 1) < 0.12,
          `${profile.login} at ${from}: ${inWindow} vs ${want}`,
        );
      }
    }
  });

  it('puts the extra burst messages inside the labelled intervals', () => {
    let spamTotal = 0;
    let extraTotal = 0;
    for (const [i, profile] of profiles.entries()) {
      for (const burst of new BurstSchedule(profile, options).until(options.endMs)) {
        const lines = outputs[i] as ChatLine[];
        const inside = lines.filter((l) => l.ts >= burst.startMs && l.ts < burst.endMs);
        const spam = inside.filter((l) => l.text.split(' ').includes(burst.focalEmote)).length;
        const extra =
          expectedCount(profile, [burst], options, burst.startMs, burst.endMs) -
          expectedCount(profile, [], options, burst.startMs, burst.endMs);
        spamTotal += spam;
        extraTotal += extra;
        // About 3 in 4 burst messages carry the focal emote; allow 4σ of Poisson noise.
        const floor = 0.7 * extra - 4 * Math.sqrt(extra);
        assert.ok(spam > floor, `${profile.login} ${burst.focalEmote}: ${spam} of ~${extra}`);
      }
    }
    assert.ok(
      spamTotal > 0.65 * extraTotal && spamTotal < 1.2 * extraTotal,
      `${spamTotal} of ~${extraTotal}`,
    );
  });

  it('draws chatters Zipf-like: the top tenth sends about half or more', () => {
    const busiest = profiles.reduce((a, b) => (b.baseRatePerSec > a.baseRatePerSec ? b : a));
    const bots = botsOf(busiest);
    const counts = new Map<string, number>();
    for (const line of outputs[busiest.index] as ChatLine[]) {
      if (!bots.has(line.user)) counts.set(line.user, (counts.get(line.user) ?? 0) + 1);
    }
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const top = sorted.slice(0, Math.ceil(sorted.length / 10)).reduce((a, b) => a + b, 0);
    assert.ok(top / total > 0.4 && top / total < 0.85, `top 10% send ${top / total}`);
    assert.ok(
      sorted.length <= busiest.userPoolSize && sorted.length > busiest.userPoolSize / 4,
      `${sorted.length} users`,
    );
  });

  it('lets bots answer commands a moment later and post timers', () => {
    for (const [i, profile] of profiles.entries()) {
      const lines = outputs[i] as ChatLine[];
      const bots = botsOf(profile);
      const timerTexts = new Set(profile.timers.map((t) => t.text));
      const commands = lines.filter((l) => l.text.startsWith('!') && !bots.has(l.user));
      for (const line of lines) {
        if (!bots.has(line.user) || timerTexts.has(line.text)) continue;
        const command = commands.find((c) => c.ts < line.ts && c.ts >= line.ts - 2_000);
        assert.ok(command !== undefined, `${line.user} said '${line.text}' with no command before it`);
      }
      const timers = lines.filter((l) => bots.has(l.user) && timerTexts.has(l.text)).length;
      assert.ok(timers >= 4, `${profile.login}: ${timers} timer messages in 2 h`);
    }
  });

  it('honours a duration that is not a whole number of seconds', () => {
    const short = resolveOptions({ channels: 1, durationMs: 61_500, seed: 1, rateScale: 20 });
    const lines = simulate(createProfiles(short)[0] as ChannelProfile, short);
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => l.ts < short.endMs));
    assert.ok(
      lines.some((l) => l.ts >= short.endMs - 500),
      'the last half second is generated',
    );
  });
});
