/**
 * Twitch chat's PRIVMSG as it comes off the wire (contracts/twitch.md §5.4), and its one mapping
 * into our `ChatMessage` record. Tag names stay Twitch's (`room-id`, `tmi-sent-ts`, …) here and
 * nowhere else. Tag values arrive already unescaped (§5.9): the IRC parser under @twurple/chat
 * decodes them, and chat.test.ts checks that against the fake, which encodes them.
 */
import type { ChatMessage, ChatMessageMetadata } from '../../schemas/avro-types.ts';

/** The PRIVMSG tags the record is built from, by their wire names; every other tag is ignored. */
export interface PrivmsgTags {
  /** The broadcaster's user id. */
  readonly 'room-id': string;
  /** Server time, epoch milliseconds. */
  readonly 'tmi-sent-ts': string;
  /** The message UUID. */
  readonly id: string;
  /** The sender's user id. */
  readonly 'user-id': string;
  /** `<emote id>:<start>-<end>[,…][/…]`, code-point positions, inclusive; empty when none. */
  readonly emotes?: string;
  /** `<badge>/<version>[,…]`; empty when none. */
  readonly badges?: string;
  readonly subscriber?: '0' | '1';
  readonly mod?: '0' | '1';
}

/** One received PRIVMSG (a `/me` action included), parsed but not yet interpreted. */
export interface PrivmsgWire {
  /** The channel, `#login` or `login`. */
  readonly channel: string;
  /** The sender's login, from the `<login>!<login>@…` prefix. */
  readonly login: string;
  /** The message text; for `/me`, the action text without the `\x01ACTION` wrapper. */
  readonly text: string;
  readonly tags: ReadonlyMap<string, string>;
}

/** A PRIVMSG that cannot become a record (a required tag missing or not a number). */
export class MalformedChatMessageError extends Error {
  override name = 'MalformedChatMessageError';
}

type RequiredTag = Extract<keyof PrivmsgTags, 'room-id' | 'tmi-sent-ts' | 'id' | 'user-id'>;

function tag(tags: ReadonlyMap<string, string>, name: keyof PrivmsgTags): string | undefined {
  return tags.get(name);
}

function requiredTag(tags: ReadonlyMap<string, string>, name: RequiredTag): string {
  const value = tag(tags, name);
  if (value === undefined || value === '') {
    throw new MalformedChatMessageError(`chat message without the ${name} tag`);
  }
  return value;
}

function numericTag(tags: ReadonlyMap<string, string>, name: RequiredTag): number {
  const raw = requiredTag(tags, name);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new MalformedChatMessageError(
      `chat message with a non-numeric ${name} tag: ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * The `emotes` tag as emote id → `'start-end'` ranges, each clamped to the text: Twitch sometimes
 * sends positions past the end (§5.4), so a range is cut at the last code point and dropped if it
 * starts beyond it. Malformed pieces are skipped; emote ids are kept as strings (`emotesv2_…`).
 *
 * @example
 * parseEmotes('25:6-10,18-22', 'hello Kappa and Kappa again'); // { '25': ['6-10', '18-22'] }
 */
export function parseEmotes(tag: string | undefined, text: string): Record<string, string[]> {
  const emotes: Record<string, string[]> = {};
  if (!tag) return emotes;
  const length = [...text].length;
  for (const entry of tag.split('/')) {
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    const id = entry.slice(0, colon);
    for (const range of entry.slice(colon + 1).split(',')) {
      const match = /^(\d+)-(\d+)$/.exec(range);
      if (!match) continue;
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), length - 1);
      if (start > end) continue;
      const ranges = emotes[id] ?? [];
      ranges.push(`${start}-${end}`);
      emotes[id] = ranges;
    }
  }
  return emotes;
}

/**
 * The `badges` tag as badge name → version.
 *
 * @example
 * parseBadges('subscriber/12,premium/1'); // { subscriber: '12', premium: '1' }
 */
export function parseBadges(tag: string | undefined): Record<string, string> {
  const badges: Record<string, string> = {};
  if (!tag) return badges;
  for (const entry of tag.split(',')) {
    const slash = entry.indexOf('/');
    if (slash <= 0) continue;
    badges[entry.slice(0, slash)] = entry.slice(slash + 1);
  }
  return badges;
}

/**
 * The record of one PRIVMSG. Throws `MalformedChatMessageError` when `room-id`, `user-id`, `id` or
 * `tmi-sent-ts` is missing or (for the ids and the time) not a number.
 *
 * @example
 * toChatMessage({
 *   channel: '#pixelfox', login: 'nova_lynx', text: 'hello Kappa',
 *   tags: new Map([['room-id', '52419331'], ['user-id', '90345172'], ['tmi-sent-ts', '1741975412063'],
 *     ['id', '2c6d3f1e-8b9a-4e70-a1d2-5f3e7c9b0a14'], ['emotes', '25:6-10'], ['subscriber', '1']]),
 * }).metadata.emotes; // { '25': ['6-10'] }
 */
export function toChatMessage(wire: PrivmsgWire): ChatMessage {
  const { tags } = wire;
  const metadata: ChatMessageMetadata = {
    emotes: parseEmotes(tag(tags, 'emotes'), wire.text),
    badges: parseBadges(tag(tags, 'badges')),
    is_subscriber: tag(tags, 'subscriber') === '1',
    is_mod: tag(tags, 'mod') === '1',
  };
  return {
    broadcaster_id: numericTag(tags, 'room-id'),
    timestamp: numericTag(tags, 'tmi-sent-ts'),
    message_id: requiredTag(tags, 'id'),
    text: wire.text,
    user_id: numericTag(tags, 'user-id'),
    user_name: wire.login.toLowerCase(),
    metadata,
    broadcaster_login: wire.channel.replace(/^#/, '').toLowerCase(),
  };
}
