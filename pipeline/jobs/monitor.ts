/**
 * monitor: the job that feeds the rest of the system from Twitch. Every poll of the top live
 * streams becomes ranked `stream-snapshots` (clipping-disabled channels are not ranked), presence
 * in keyed state turns them into `stream-lifecycle` online / rank / offline events (offline once
 * missing for N polls), sightings upsert the `streamers` table, and the chat membership (join in
 * the top 5, leave out of the top 10) goes to the Twitch binding, which joins and leaves chats and
 * keeps EventSub subscriptions for the joined channels. Chat messages go to `chat-messages`;
 * EventSub's stream.online / stream.offline go to `stream-lifecycle` with source 'eventsub'.
 *
 * The Twitch side is bound by the runner under the `twitch:` names below (`scout run monitor`
 * binds real Twitch, `scout demo --twitch-fake` the fakes); the graph itself is plain data.
 *
 * Options (`--set key=value`): `poll=2m`, `top=100`, `offline-after=2` (polls), `chat-enter=5`,
 * `chat-leave=10`.
 */
import { type ChatMembership, chatMembership } from '../../operators/monitor/chat-membership.ts';
import { presence } from '../../operators/monitor/presence.ts';
import { rankPoll, type TopPoll } from '../../operators/monitor/top-poll.ts';
import type { ChatMessage, StreamLifecycle, StreamSnapshot } from '../../schemas/avro-types.ts';
import type { StreamerUpdate } from '../../schemas/streamer.ts';
import { GraphError, pipeline } from '../builder.ts';
import { parseDuration } from '../cli/parse.ts';
import { defineJob } from './job.ts';

/** The names under which a runner binds the Twitch side of the monitor. */
export const TWITCH_BINDINGS = {
  /** Source of `TopPoll`: one record per poll of the top streams. */
  polls: 'twitch:top-streams',
  /** Source of `ChatMessage` from the joined chats. */
  chat: 'twitch:chat',
  /** Source of `StreamLifecycle` (source 'eventsub') from EventSub notifications. */
  eventSub: 'twitch:eventsub',
  /** Sink of `ChatMembership`: join / leave chats, subscribe / unsubscribe EventSub. */
  membership: 'twitch:membership',
} as const;

export interface MonitorOptions {
  readonly pollIntervalMs: number;
  readonly top: number;
  readonly offlineAfterPolls: number;
  readonly chatEnter: number;
  readonly chatLeave: number;
}

function positiveInteger(options: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const raw = options[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new GraphError(`option ${key} must be a whole number >= 1, got "${raw}"`);
  return n;
}

export function monitorOptions(options: Readonly<Record<string, string>>): MonitorOptions {
  const pollIntervalMs = options.poll === undefined ? 120_000 : parseDuration(options.poll, 'poll');
  const top = positiveInteger(options, 'top', 100);
  const chatEnter = positiveInteger(options, 'chat-enter', 5);
  const chatLeave = positiveInteger(options, 'chat-leave', 10);
  if (chatLeave < chatEnter) {
    throw new GraphError(`option chat-leave (${chatLeave}) must be >= chat-enter (${chatEnter})`);
  }
  if (top < chatLeave) throw new GraphError(`option top (${top}) must be >= chat-leave (${chatLeave})`);
  return {
    pollIntervalMs,
    top,
    offlineAfterPolls: positiveInteger(options, 'offline-after', 2),
    chatEnter,
    chatLeave,
  };
}

export default defineJob({
  name: 'monitor',
  description: 'Twitch → stream-lifecycle, stream-snapshots, chat-messages; chat joins with hysteresis',
  input: TWITCH_BINDINGS.polls,
  output: 'stream-lifecycle',
  build(ctx) {
    const o = monitorOptions(ctx.options);
    const p = pipeline('monitor');
    const ranked = p
      .from(ctx.input<TopPoll>(TWITCH_BINDINGS.polls), {
        timestamp: (poll) => poll.collected_at,
        id: 'polls',
      })
      .map(rankPoll, 'rank');
    const snapshots = ranked.flatMap((list): Iterable<StreamSnapshot> => list.values(), 'snapshots');
    snapshots.to(ctx.output<StreamSnapshot>('stream-snapshots'), 'snapshots-out');
    snapshots
      .map(
        (s): StreamerUpdate => ({
          broadcaster_id: s.broadcaster_id,
          broadcaster_login: s.broadcaster_login,
          seen_at: s.collected_at,
        }),
        'sightings',
      )
      .to(ctx.store<StreamerUpdate>('streamers'), 'store-streamers');

    const fromEventSub = p.from(ctx.input<StreamLifecycle>(TWITCH_BINDINGS.eventSub), {
      timestamp: (e) => e.timestamp * 1000,
      id: 'eventsub',
    });
    presence(snapshots, { pollIntervalMs: o.pollIntervalMs, offlineAfterPolls: o.offlineAfterPolls })
      .union([fromEventSub], 'lifecycle')
      .to(ctx.output<StreamLifecycle>('stream-lifecycle'), 'lifecycle-out');

    chatMembership(ranked, { enterTop: o.chatEnter, leaveTop: o.chatLeave }).to(
      ctx.output<ChatMembership>(TWITCH_BINDINGS.membership),
      'membership-out',
    );

    p.from(ctx.input<ChatMessage>(TWITCH_BINDINGS.chat), { timestamp: (m) => m.timestamp, id: 'chat' }).to(
      ctx.output<ChatMessage>('chat-messages'),
      'chat-out',
    );
    return p;
  },
});
