/**
 * Online, offline and rank events from the polls of the top list. Each broadcaster seen in a poll
 * is keyed state; it is offline once it has been missing for `offlineAfterPolls` polls, which an
 * event-time timer at `last seen + offlineAfterPolls × interval` decides. This is the Redis TTL of
 * the original design, kept in the engine's keyed state: it is checkpointed, and because the
 * timer runs on the polls' event time, polls that fail (Twitch down) never make streams offline.
 */
import type { Stream } from '../../pipeline/builder.ts';
import { valueState } from '../../pipeline/state/api.ts';
import type { StreamLifecycle, StreamSnapshot } from '../../schemas/avro-types.ts';

export interface PresenceOptions {
  /** Time between polls, ms. Default 2 minutes (the highlights spec). */
  readonly pollIntervalMs?: number;
  /** Missing polls after which a stream is offline. Default 2. */
  readonly offlineAfterPolls?: number;
}

interface Seen {
  readonly login: string;
  readonly rank: number;
  readonly lastSeen: number;
  /** The timer armed for this sighting (deleted when a later sighting re-arms it). */
  readonly timer: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * @example
 * presence(snapshots, { pollIntervalMs: 120_000, offlineAfterPolls: 2 }).to(ctx.output('stream-lifecycle'))
 */
export function presence(
  snapshots: Stream<StreamSnapshot>,
  options: PresenceOptions = {},
  id = 'presence',
): Stream<StreamLifecycle> {
  const interval = options.pollIntervalMs ?? 120_000;
  const polls = options.offlineAfterPolls ?? 2;
  if (!(interval > 0 && Number.isInteger(polls) && polls >= 1)) {
    throw new RangeError(
      `presence needs a poll interval > 0 and offlineAfterPolls >= 1 (got ${interval}, ${polls})`,
    );
  }
  // The timer sits half an interval before the poll that makes the stream `polls` times missing:
  // that poll still fires it when it runs up to half an interval late, and the poll before it
  // cannot, even if it runs half an interval early.
  const horizon = (polls - 0.5) * interval;
  return snapshots
    .keyBy((s) => s.broadcaster_id, `${id}-by-broadcaster`)
    .process<StreamLifecycle, { seen: ReturnType<typeof valueState<Seen>> }>(
      {
        // The TTL only bounds memory should a timer ever be lost; the timer decides. Event-time
        // TTL ages from the watermark at the write, which lags the sighting by up to one poll.
        state: { seen: valueState<Seen>({ ttlMs: horizon + 2 * interval, ttlTime: 'event' }) },
        onElement(s, ctx) {
          const before = ctx.state.seen.value();
          const base = {
            broadcaster_id: s.broadcaster_id,
            broadcaster_login: s.broadcaster_login,
            rank: s.rank,
          };
          if (before === undefined) {
            ctx.emit({ event_type: 'online', ...base, timestamp: seconds(s.collected_at), source: 'poll' });
          } else {
            if (before.lastSeen >= s.collected_at) return; // the same poll twice
            ctx.timers.deleteEventTimer(before.timer);
            if (before.rank !== s.rank) {
              ctx.emit({ event_type: 'rank', ...base, timestamp: seconds(s.collected_at), source: 'poll' });
            }
          }
          const timer = s.collected_at + horizon;
          ctx.timers.registerEventTimer(timer);
          ctx.state.seen.update({
            login: s.broadcaster_login,
            rank: s.rank,
            lastSeen: s.collected_at,
            timer,
          });
        },
        onTimer(at, ctx) {
          const seen = ctx.state.seen.value();
          if (seen === undefined || seen.timer !== at) return;
          ctx.state.seen.clear();
          const watermark = ctx.watermark();
          ctx.emit({
            event_type: 'offline',
            broadcaster_id: ctx.key,
            broadcaster_login: seen.login,
            rank: null,
            // The poll that found it missing once too often, which is what moved the watermark. A
            // watermark W says that no event at or before W is to come, so that poll was at W + 1
            // (W itself would date the offline a second early once truncated to seconds). At the
            // end of the input the watermark is infinite: then it is dated when it fell due.
            timestamp: seconds(Number.isFinite(watermark) ? Math.max(at, watermark + 1) : at),
            source: 'poll',
          });
        },
      },
      id,
    );
}
