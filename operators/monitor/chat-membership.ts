/**
 * Which chats to be in: join a channel when it enters the top `enterTop`, leave it only when it
 * falls out of the top `leaveTop`. The gap between the two (hysteresis) keeps a channel that
 * hovers around 5th place from being joined and left at every poll — each join costs against
 * Twitch's join rate limit, and each leave loses the chat that a spike would be detected in.
 */
import type { Stream } from '../../pipeline/builder.ts';
import { valueState } from '../../pipeline/state/api.ts';
import type { StreamSnapshot } from '../../schemas/avro-types.ts';

export interface MembershipOptions {
  /** Join when ranked this high or higher. Default 5 (the highlights spec). */
  readonly enterTop?: number;
  /** Leave when ranked lower than this (or gone). Default 10. */
  readonly leaveTop?: number;
}

export interface MembershipChange {
  readonly action: 'join' | 'part';
  readonly broadcaster_login: string;
  readonly broadcaster_id: number;
  /** The channel's rank in the poll that decided it (0: no longer listed). */
  readonly rank: number;
}

export interface Member {
  readonly login: string;
  readonly id: number;
}

/**
 * The chats to be in after one poll, and how that differs from before. Whoever acts on it should
 * go by `channels` (the whole desired set): after a restore from a checkpoint the state knows the
 * chats, but a fresh connection is in none of them, and only the whole set puts that right.
 */
export interface ChatMembership {
  readonly channels: readonly Member[];
  readonly changes: readonly MembershipChange[];
}

/** The decision for one poll: `ranked` in rank order, `joined` what we are in now. */
export function decideMembership(
  ranked: readonly Pick<StreamSnapshot, 'broadcaster_login' | 'broadcaster_id' | 'rank'>[],
  joined: readonly Member[],
  options: MembershipOptions = {},
): { changes: MembershipChange[]; joined: Member[] } {
  const enterTop = options.enterTop ?? 5;
  const leaveTop = options.leaveTop ?? 10;
  if (!(enterTop >= 1 && leaveTop >= enterTop)) {
    throw new RangeError(`chat thresholds need 1 <= enter (${enterTop}) <= leave (${leaveTop})`);
  }
  const rankOf = new Map(ranked.map((s) => [s.broadcaster_id, s.rank]));
  const changes: MembershipChange[] = [];
  const next: Member[] = [];
  for (const m of joined) {
    const rank = rankOf.get(m.id);
    if (rank !== undefined && rank <= leaveTop) next.push(m);
    else changes.push({ action: 'part', broadcaster_login: m.login, broadcaster_id: m.id, rank: rank ?? 0 });
  }
  const inside = new Set(next.map((m) => m.id));
  for (const s of ranked) {
    if (s.rank > enterTop) break;
    if (inside.has(s.broadcaster_id)) continue;
    next.push({ login: s.broadcaster_login, id: s.broadcaster_id });
    changes.push({
      action: 'join',
      broadcaster_login: s.broadcaster_login,
      broadcaster_id: s.broadcaster_id,
      rank: s.rank,
    });
  }
  return { changes, joined: next };
}

/**
 * The chat membership after each ranked poll (one array of snapshots per poll). The set of joined
 * channels is keyed state (one key: the top list is global), so a restore from a checkpoint keeps
 * the hysteresis where it was.
 *
 * @example
 * chatMembership(polls.map(rankPoll), { enterTop: 5, leaveTop: 10 }).to(chatControlSink)
 */
export function chatMembership(
  rankedPolls: Stream<readonly StreamSnapshot[]>,
  options: MembershipOptions = {},
  id = 'chat-membership',
): Stream<ChatMembership> {
  decideMembership([], [], options); // reject bad thresholds when the graph is built
  return rankedPolls
    .keyBy(() => 'top', `${id}-top`)
    .process<ChatMembership, { joined: ReturnType<typeof valueState<Member[]>> }>(
      {
        state: { joined: valueState<Member[]>() },
        onElement(ranked, ctx) {
          const { changes, joined } = decideMembership(ranked, ctx.state.joined.value() ?? [], options);
          ctx.state.joined.update(joined);
          ctx.emit({ channels: joined, changes });
        },
      },
      id,
    );
}
