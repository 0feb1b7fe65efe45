/**
 * A seeded synthetic Twitch chat generator: channels with log-normally spread message rates that
 * drift over the hours, Zipf-active chatters, everyday chat, `!commands`, bots, and emote bursts
 * whose intervals are written out as ground-truth labels for scoring the spike detector. The same
 * options always give the same chat, in memory (`generateChat`), as an engine source paced on the
 * injected clock (`syntheticChatSource`) or as dataset-format files (`writeGeneratedChat`); no wall
 * clock and no `Math.random` are involved.
 */

export { BURST_GUARD_MS } from './bursts.ts';
export { channelProfiles, generateChat, labelsOf } from './generate.ts';
export {
  DEFAULT_BOT_REPLY_PROBABILITY,
  DEFAULT_BURSTS_PER_HOUR,
  DEFAULT_CHATTER_SIGMA,
  DEFAULT_COMMAND_FRACTION,
  DEFAULT_START_MS,
  type SyntheticChatOptions,
} from './options.ts';
export type { BotTimer, ChannelProfile, DriftComponent } from './profile.ts';
export { type SyntheticSourceOptions, syntheticChatSource } from './source.ts';
export {
  type WriteGeneratedChatOptions,
  type WriteProgress,
  type WriteSummary,
  writeGeneratedChat,
} from './write.ts';
