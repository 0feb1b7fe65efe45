import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { BURST_GUARD_MS } from './bursts.ts';
import { ChannelSimulator } from './channel-simulator.ts';
import { channelProfiles, generateChat, labelsOf } from './generate.ts';
import { DEFAULT_START_MS, resolveOptions } from './options.ts';

function take(lines: Iterable<ChatLine>, n: number): ChatLine[] {
  const out: ChatLine[] = [];
  for (const line of lines) {
    out.push(line);
    if (out.length >= n) break;
  }
  return out;
}

/** The detector's rule: 5 s buckets aligned to the epoch, mean + 3σ of the preceding 60 buckets. */
function bucketCounts(lines: readonly ChatLine[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of lines) {
    const bucket = Math.floor(line.ts / 5000);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

describe('generateChat', () => {
  const options = { channels: 8, hours: 1, seed: 99 };

  it('gives identical output for the same seed and different output for another', () => {
    const a = [...generateChat(options)];
    const b = [...generateChat(options)];
    assert.ok(a.length > 1000);
    assert.deepEqual(a, b);
    const c = take(generateChat({ ...options, seed: 100 }), 1000);
    assert.notDeepEqual(c, a.slice(0, 1000));
  });

  it('merges all channels in non-decreasing ts order, ties in channel order', () => {
    const profiles = channelProfiles(options);
    const order = new Map(profiles.map((p) => [p.login, p.index]));
    let previous: ChatLine | undefined;
    for (const line of generateChat(options)) {
      if (previous !== undefined) {
        assert.ok(line.ts >= previous.ts);
        if (line.ts === previous.ts) {
          assert.ok((order.get(line.broadcaster_login) ?? 0) >= (order.get(previous.broadcaster_login) ?? 0));
        }
      }
      previous = line;
    }
    assert.ok(previous !== undefined && previous.ts < DEFAULT_START_MS + 3_600_000);
  });

  it('gives each channel the same records as simulating it alone', () => {
    const merged = [...generateChat(options)];
    const resolved = resolveOptions(options);
    for (const profile of channelProfiles(options)) {
      const alone: ChatLine[] = [];
      const simulator = new ChannelSimulator(profile, resolved);
      while (simulator.fillNextSecond(alone)) {}
      assert.deepEqual(
        merged.filter((l) => l.broadcaster_login === profile.login),
        alone,
      );
    }
  });

  it('makes every labelled burst stand out of its 5-minute baseline (mean + 3σ)', () => {
    const big = { channels: 30, hours: 3, seed: 7 };
    const lines = [...generateChat(big)];
    let detected = 0;
    let total = 0;
    for (const [login, labels] of labelsOf(big)) {
      const counts = bucketCounts(lines.filter((l) => l.broadcaster_login === login));
      for (const label of labels) {
        const first = Math.floor(label.start_ms / 5000);
        const last = Math.floor((label.end_ms - 1) / 5000);
        const baseline = Array.from({ length: 60 }, (_, k) => counts.get(first - 60 + k) ?? 0);
        const mean = baseline.reduce((a, b) => a + b, 0) / 60;
        const sd = Math.sqrt(baseline.reduce((a, b) => a + (b - mean) ** 2, 0) / 60);
        let peak = 0;
        for (let b = first; b <= last; b++) peak = Math.max(peak, counts.get(b) ?? 0);
        total++;
        if (peak > mean + 3 * sd) detected++;
      }
    }
    assert.ok(total > 200, `${total} bursts`);
    assert.ok(detected / total > 0.9, `${detected} of ${total} bursts above mean + 3σ`);
  });

  it('sends commands and bot messages at about the configured fractions', () => {
    const quiet = {
      channels: 10,
      hours: 2,
      seed: 5,
      burstsPerHour: 0,
      commandFraction: 0.05,
      botReplyProbability: 0.8,
    };
    const bots = new Set(channelProfiles(quiet).flatMap((p) => [...p.sharedBots, p.channelBot]));
    const timers = new Set(channelProfiles(quiet).flatMap((p) => p.timers.map((t) => t.text)));
    let viewers = 0;
    let commands = 0;
    let replies = 0;
    for (const line of generateChat(quiet)) {
      if (!bots.has(line.user)) {
        viewers++;
        if (line.text.startsWith('!')) commands++;
      } else if (!timers.has(line.text)) {
        replies++;
      }
    }
    const commandShare = commands / viewers;
    assert.ok(
      Math.abs(commandShare - 0.05) < 4 * Math.sqrt((0.05 * 0.95) / viewers),
      `commands ${commandShare}`,
    );
    // Two of the fifteen commands (about 5 % of them) have no bot answer.
    const replyShare = replies / commands;
    assert.ok(replyShare > 0.8 * 0.9 && replyShare < 0.8, `replies per command ${replyShare}`);
  });

  it('keeps the default command share within 3–6 % with bursts on', () => {
    const lines = [...generateChat({ channels: 10, hours: 2, seed: 8 })];
    const share = lines.filter((l) => l.text.startsWith('!')).length / lines.length;
    assert.ok(share > 0.03 && share < 0.06, `commands ${share}`);
  });

  it('runs endlessly when asked', () => {
    const endless = { channels: 2, hours: Number.POSITIVE_INFINITY, seed: 1, rateScale: 10 };
    const horizon = DEFAULT_START_MS + 3 * 3_600_000;
    const lines: ChatLine[] = [];
    for (const line of generateChat(endless)) {
      lines.push(line);
      if (line.ts > horizon) break;
    }
    assert.ok((lines.at(-1)?.ts ?? 0) > horizon, 'past a 3-hour horizon');
    assert.deepEqual(lines.slice(0, 5000), take(generateChat({ ...endless, hours: 1 }), 5000));
  });
});

describe('labelsOf', () => {
  it('lists each channel in channel order, bursts after the guard and inside the run', () => {
    const options = { channels: 25, hours: 4, seed: 3, startMs: 1_600_000_000_000 };
    const labels = labelsOf(options);
    assert.deepEqual(
      [...labels.keys()],
      channelProfiles(options).map((p) => p.login),
    );
    for (const list of labels.values()) {
      for (const label of list) {
        assert.ok(label.start_ms >= 1_600_000_000_000 + BURST_GUARD_MS);
        assert.ok(label.end_ms <= 1_600_000_000_000 + 4 * 3_600_000);
      }
    }
    assert.ok([...labels.values()].flat().length > 200);
  });

  it('needs untilMs for an endless run and agrees with the finite run', () => {
    const endless = { channels: 3, hours: Number.POSITIVE_INFINITY, seed: 3 };
    assert.throws(() => labelsOf(endless), RangeError);
    const until = labelsOf(endless, DEFAULT_START_MS + 3_600_000);
    const finite = labelsOf({ ...endless, hours: 1 });
    for (const [login, list] of finite) {
      assert.deepEqual(
        until.get(login)?.filter((l) => l.end_ms <= DEFAULT_START_MS + 3_600_000),
        list,
      );
    }
  });
});
