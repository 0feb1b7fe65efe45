/**
 * One poll of Twitch's top live streams, as the monitor's poll source emits it, and its ranking:
 * channels whose clipping is disabled are dropped before ranks are given, so they never take a
 * top slot (nor a chat join) from a channel that can be clipped.
 */
import type { StreamSnapshot } from '../../schemas/avro-types.ts';

/** A live stream as Get Streams lists it, before it is ranked. */
export type TopStream = Omit<StreamSnapshot, 'rank' | 'collected_at'>;

export interface TopPoll {
  /** When the poll ran, epoch ms (its event time). */
  readonly collected_at: number;
  /** Streams in Twitch's order (viewers, most first), de-duplicated by stream id. */
  readonly streams: readonly TopStream[];
  /** Broadcaster ids known to have clipping disabled at poll time. */
  readonly excluded: readonly number[];
}

/** The poll's streams as snapshots, ranked 1… after the excluded channels are removed. */
export function rankPoll(poll: TopPoll): StreamSnapshot[] {
  const excluded = new Set(poll.excluded);
  const seen = new Set<number>();
  const ranked: StreamSnapshot[] = [];
  for (const s of poll.streams) {
    if (excluded.has(s.broadcaster_id) || seen.has(s.broadcaster_id)) continue;
    seen.add(s.broadcaster_id);
    ranked.push({ ...s, rank: ranked.length + 1, collected_at: poll.collected_at });
  }
  return ranked;
}
