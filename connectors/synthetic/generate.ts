/**
 * The in-memory face of the generator: the merged chat of a run, each channel's ground-truth
 * labels, and the channel profiles behind them. All three are pure functions of the options.
 */
import type { ChatLine, Label } from '../../schemas/chat-line.ts';
import { BurstSchedule, burstLabel } from './bursts.ts';
import { ChannelSimulator } from './channel-simulator.ts';
import { ChatStream } from './chat-stream.ts';
import { type ResolvedOptions, resolveOptions, type SyntheticChatOptions } from './options.ts';
import { type ChannelProfile, createProfiles } from './profile.ts';

/**
 * Generates the chat of every channel of a run, merged in non-decreasing `ts` order (equal
 * timestamps in channel order). Synchronous and lazy: an endless run (`hours: Infinity`) yields
 * forever, a finite one ends with the last message before `startMs + duration`.
 *
 * @example
 * for (const line of generateChat({ channels: 10, hours: 1, seed: 42 })) {
 *   console.log(line.broadcaster_login, line.ts, line.user, line.text);
 * }
 */
export function* generateChat(options: SyntheticChatOptions): Generator<ChatLine, void, undefined> {
  const resolved = resolveOptions(options);
  const stream = new ChatStream(createSimulators(resolved), resolved.startMs);
  for (let second = stream.nextSecond(); second !== undefined; second = stream.nextSecond()) {
    for (let i = 0; i < second.length; i++) yield second[i] as ChatLine;
  }
}

/**
 * Each channel's ground truth: one label per emote burst, by login, in time order. Known without
 * generating any message. An endless run needs `untilMs` (bursts starting before it are listed);
 * a finite run lists every burst, each of which ends before the run does.
 *
 * @example
 * const labels = labelsOf({ channels: 10, hours: 4, seed: 42 });
 * for (const [login, list] of labels) console.log(login, list.length);
 */
export function labelsOf(options: SyntheticChatOptions, untilMs?: number): Map<string, Label[]> {
  const resolved = resolveOptions(options);
  const until = untilMs ?? resolved.endMs;
  if (!Number.isFinite(until)) throw new RangeError('labelsOf: an endless run needs untilMs');
  const labels = new Map<string, Label[]>();
  for (const profile of createProfiles(resolved)) {
    labels.set(profile.login, new BurstSchedule(profile, resolved).until(until).map(burstLabel));
  }
  return labels;
}

/**
 * The channels of a run, in channel order (the order `generateChat` breaks timestamp ties in).
 *
 * @example
 * channelProfiles({ channels: 3, hours: 1, seed: 42 }).map((p) => p.login);
 */
export function channelProfiles(options: SyntheticChatOptions): ChannelProfile[] {
  return createProfiles(resolveOptions(options));
}

/** One simulator per channel of a resolved run. */
export function createSimulators(options: ResolvedOptions): ChannelSimulator[] {
  return createProfiles(options).map((profile) => new ChannelSimulator(profile, options));
}
