/**
 * The check a replayed line must pass to be a `ChatLine`: the default validation of
 * `jsonlReplaySource`, so that a record with a missing or mistyped field is counted as malformed
 * at the edge instead of failing inside an operator.
 */
import type { ChatLine } from '../../schemas/chat-line.ts';

/**
 * True when `value` has the four `ChatLine` fields with their types (extra fields are allowed)
 * and a finite `ts`.
 *
 * @example
 * isChatLine({ broadcaster_login: 'xqc', ts: 1700000000000, user: 'u1', text: 'hi' }); // true
 * isChatLine({ broadcaster_login: 'xqc', ts: '1700000000000', user: 'u1', text: 'hi' }); // false
 */
export function isChatLine(value: unknown): value is ChatLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  return (
    typeof line.broadcaster_login === 'string' &&
    typeof line.ts === 'number' &&
    Number.isFinite(line.ts) &&
    typeof line.user === 'string' &&
    typeof line.text === 'string'
  );
}
