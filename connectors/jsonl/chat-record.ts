/**
 * Reads one replayed line as a `ChatLine`, whichever of the two shapes it has: the recorded-chat
 * format of the datasets and the generator (`{broadcaster_login, ts, user, text}`), or a
 * `chat-messages` topic record (`{broadcaster_id, timestamp, message_id, text, user_id, user_name,
 * metadata}`, DESIGN.md). Anything else is malformed, with a one-line reason.
 */
import type { ChatLine } from '../../schemas/chat-line.ts';
import { isChatLine } from './is-chat-line.ts';

/** A `chat-messages` record as it appears in JSON (the fields a replay needs). */
interface ChatMessageRecord {
  readonly broadcaster_id: number;
  readonly broadcaster_login?: string;
  readonly timestamp: number;
  readonly user_name: string;
  readonly text: string;
}

function isChatMessageRecord(value: unknown): value is ChatMessageRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.broadcaster_id === 'number' &&
    Number.isFinite(r.broadcaster_id) &&
    typeof r.timestamp === 'number' &&
    Number.isFinite(r.timestamp) &&
    typeof r.user_name === 'string' &&
    typeof r.text === 'string' &&
    (r.broadcaster_login === undefined || typeof r.broadcaster_login === 'string')
  );
}

/**
 * Turns a parsed JSON value into a `ChatLine`, or throws saying what is missing.
 *
 * @example
 * toChatLine({ broadcaster_id: 42, timestamp: 1704067200000, user_name: 'ann', text: 'hi',
 *   message_id: 'm1', user_id: 7, metadata: {} });
 * // { broadcaster_login: '42', broadcaster_id: 42, ts: 1704067200000, user: 'ann', text: 'hi' }
 */
export function toChatLine(value: unknown): ChatLine {
  if (isChatLine(value)) return value;
  if (isChatMessageRecord(value)) {
    return {
      // chat-messages records carry the channel's id; its login only when the producer added it.
      broadcaster_login: value.broadcaster_login ?? String(value.broadcaster_id),
      broadcaster_id: value.broadcaster_id,
      ts: value.timestamp,
      user: value.user_name,
      text: value.text,
    };
  }
  throw new TypeError(
    'not a chat line: expected {broadcaster_login, ts, user, text} or a chat-messages record {broadcaster_id, timestamp, user_name, text}',
  );
}

/** `JSON.parse` then `toChatLine`: the default line reader of a chat replay. */
export function parseChatRecord(line: string): ChatLine {
  return toChatLine(JSON.parse(line));
}
