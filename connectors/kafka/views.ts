/**
 * How a job reads a topic: with which reader schema, and mapped to which record type. Most topics
 * are read as they are written; `chat-messages` is read through a five-field projection into the
 * `ChatLine` the chat jobs count (schemas/chat-message.ts), which is also what replays of recorded
 * chat give them, so one job definition serves both.
 */
import { CHAT_LINE_PROJECTION, type ChatMessageProjection, chatLineOf } from '../../schemas/chat-message.ts';
import { topicSchema } from '../../schemas/topics.ts';

export interface ReaderView {
  readonly reader: object;
  readonly map?: (record: unknown) => unknown;
}

export function readerViewOf(topic: string): ReaderView {
  if (topic === 'chat-messages') {
    return { reader: CHAT_LINE_PROJECTION, map: (r) => chatLineOf(r as ChatMessageProjection) };
  }
  return { reader: topicSchema(topic) };
}
