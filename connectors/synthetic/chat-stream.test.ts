import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { ChannelSimulator } from './channel-simulator.ts';
import { ChatStream } from './chat-stream.ts';
import { resolveOptions, type SyntheticChatOptions } from './options.ts';
import { createProfiles } from './profile.ts';

function stream(options: SyntheticChatOptions): ChatStream {
  const resolved = resolveOptions(options);
  return new ChatStream(
    createProfiles(resolved).map((p) => new ChannelSimulator(p, resolved)),
    resolved.startMs,
  );
}

function drain(s: ChatStream): ChatLine[] {
  const out: ChatLine[] = [];
  for (let line = s.next(); line !== undefined; line = s.next()) out.push(line);
  return out;
}

describe('ChatStream', () => {
  // Busy enough that most seconds take the counting-sort path, quiet ones the comparison sort.
  const options = { channels: 40, hours: 0.25, seed: 12, rateScale: 2 };

  it('merges channels into a stable ts order (ties in channel order)', () => {
    const merged = drain(stream(options));
    const order = new Map(createProfiles(resolveOptions(options)).map((p) => [p.login, p.index]));
    const expected = [...merged].sort(
      (a, b) => a.ts - b.ts || (order.get(a.broadcaster_login) ?? 0) - (order.get(b.broadcaster_login) ?? 0),
    );
    // Within one channel and ms, records keep the channel's own order; the stable sort above keeps it too.
    assert.deepEqual(merged, expected);
    assert.ok(merged.length > 40 * 900 * 2 * 0.3);
  });

  it('gives the same records through nextSecond as through next', () => {
    const bySecond: ChatLine[] = [];
    const s = stream(options);
    let seconds = 0;
    for (let second = s.nextSecond(); second !== undefined; second = s.nextSecond()) {
      for (const line of second) {
        assert.equal(Math.floor((line.ts - resolveOptions(options).startMs) / 1000), seconds);
        bySecond.push(line);
      }
      seconds++;
    }
    assert.equal(seconds, 900);
    assert.deepEqual(bySecond, drain(stream(options)));
  });

  it('peeks without consuming and ends cleanly', () => {
    const s = stream({ channels: 2, durationMs: 20_000, seed: 1 });
    const first = s.peek();
    assert.equal(s.peek(), first);
    assert.equal(s.next(), first);
    drain(s);
    assert.equal(s.peek(), undefined);
    assert.equal(s.next(), undefined);
  });
});
