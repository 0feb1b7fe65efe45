/**
 * `chat-messages` records and the chat lines the jobs count. On Kafka the topic carries the full
 * record of the highlights spec's contract; the jobs read it through a projection — a reader
 * schema with only the five fields they use — which Avro's schema resolution decodes without
 * building the metadata maps, and turn it into a `ChatLine`. Producers of recorded or generated
 * chat, which has no Twitch ids, get stable ids derived from the names.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage } from './avro-types.ts';
import type { ChatLine } from './chat-line.ts';

/** The reader schema the chat-counting jobs decode `chat-messages` with (same record name, so it resolves). */
export const CHAT_LINE_PROJECTION = {
  type: 'record',
  name: 'ChatMessage',
  namespace: 'streamscout',
  fields: [
    { name: 'broadcaster_id', type: 'long' },
    { name: 'timestamp', type: 'long' },
    { name: 'user_name', type: 'string' },
    { name: 'text', type: 'string' },
    { name: 'broadcaster_login', type: ['null', 'string'], default: null },
  ],
} as const;

/** What decoding with `CHAT_LINE_PROJECTION` gives. */
export type ChatMessageProjection = Pick<
  ChatMessage,
  'broadcaster_id' | 'timestamp' | 'user_name' | 'text'
> & {
  readonly broadcaster_login?: string | null;
};

export function chatLineOf(m: ChatMessageProjection): ChatLine {
  return {
    broadcaster_login: m.broadcaster_login ?? String(m.broadcaster_id),
    broadcaster_id: m.broadcaster_id,
    ts: m.timestamp,
    user: m.user_name,
    text: m.text,
  };
}

/**
 * A stable positive id for a name that has no Twitch id (recorded or generated chat): the first
 * 48 bits of its SHA-256, so the same channel gets the same id, and the same partition, every run.
 */
export function stableId(name: string): number {
  return createHash('sha256').update(name).digest().readUIntBE(0, 6);
}

/** A `chat-messages` record for a chat line; `seq` tells apart messages of one user in the same millisecond. */
export function chatMessageOf(line: ChatLine, seq: number): ChatMessage {
  const id = createHash('sha256')
    .update(`${line.broadcaster_login}\n${line.ts}\n${line.user}\n${seq}`)
    .digest('hex');
  return {
    broadcaster_id: line.broadcaster_id ?? stableId(line.broadcaster_login),
    broadcaster_login: line.broadcaster_login,
    timestamp: line.ts,
    // A UUID's shape (version 4 bits set), from the hash: deterministic for a replayed line.
    message_id: `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20, 32)}`,
    text: line.text,
    user_id: stableId(line.user),
    user_name: line.user,
    metadata: { emotes: {}, badges: {}, is_subscriber: false, is_mod: false },
  };
}
