/**
 * EventSub payloads exactly as Twitch sends them (contracts/twitch.md §3.8, §4), snake_case, with
 * the checks that turn parsed JSON into them. Only connectors/twitch/eventsub.ts reads these;
 * everything past it sees our own records.
 */

/** §4.1: header names as Node presents them (lower-cased). */
export const EVENTSUB_HEADERS = {
  messageId: 'twitch-eventsub-message-id',
  messageRetry: 'twitch-eventsub-message-retry',
  messageType: 'twitch-eventsub-message-type',
  messageSignature: 'twitch-eventsub-message-signature',
  messageTimestamp: 'twitch-eventsub-message-timestamp',
  subscriptionType: 'twitch-eventsub-subscription-type',
  subscriptionVersion: 'twitch-eventsub-subscription-version',
} as const;

export type EventSubMessageTypeWire = 'webhook_callback_verification' | 'notification' | 'revocation';

/** §3.8: a subscription as Twitch shows it (the secret is never echoed). */
export interface EventSubSubscriptionWire {
  readonly id: string;
  /** `enabled`, `webhook_callback_verification_pending`, or why it stopped (§3.8's status list). */
  readonly status: string;
  readonly type: string;
  readonly version: string;
  readonly cost: number;
  readonly condition: Readonly<Record<string, string>>;
  readonly transport: { readonly method: string; readonly callback?: string };
  /** RFC 3339 with a nanosecond fraction. */
  readonly created_at: string;
}

/** §3.8: Create answers 202 with this; Get adds `pagination`. */
export interface EventSubSubscriptionListWire {
  readonly data: readonly EventSubSubscriptionWire[];
  readonly total: number;
  readonly total_cost: number;
  readonly max_total_cost: number;
  readonly pagination?: { readonly cursor?: string };
}

/** §3.8: the body of Create EventSub Subscription for the webhook transport. */
export interface EventSubCreateRequestWire {
  readonly type: string;
  readonly version: string;
  readonly condition: Readonly<Record<string, string>>;
  readonly transport: { readonly method: 'webhook'; readonly callback: string; readonly secret: string };
}

/** §4.3 */
export interface EventSubVerificationWire {
  readonly challenge: string;
  readonly subscription: EventSubSubscriptionWire;
}

/** §4.1 */
export interface EventSubNotificationWire {
  readonly subscription: EventSubSubscriptionWire;
  readonly event: unknown;
}

/** §4.4: `subscription.status` is the reason. */
export interface EventSubRevocationWire {
  readonly subscription: EventSubSubscriptionWire;
}

/** §4.5 */
export interface StreamOnlineEventWire {
  /** The stream's ID. */
  readonly id: string;
  readonly broadcaster_user_id: string;
  readonly broadcaster_user_login: string;
  readonly broadcaster_user_name: string;
  /** `live` | `playlist` | `watch_party` | `premiere` | `rerun`. */
  readonly type: string;
  /** RFC 3339. */
  readonly started_at: string;
}

/** §4.5: no stream ID and no time (the message timestamp says when). */
export interface StreamOfflineEventWire {
  readonly broadcaster_user_id: string;
  readonly broadcaster_user_login: string;
  readonly broadcaster_user_name: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasStrings<K extends string>(
  value: unknown,
  keys: readonly K[],
): value is Record<K, string> & Record<string, unknown> {
  return isRecord(value) && keys.every((k) => typeof value[k] === 'string');
}

export function isSubscriptionWire(value: unknown): value is EventSubSubscriptionWire {
  return (
    hasStrings(value, ['id', 'status', 'type', 'version']) &&
    isRecord(value.condition) &&
    Object.values(value.condition).every((v) => typeof v === 'string') &&
    isRecord(value.transport) &&
    typeof value.transport.method === 'string'
  );
}

export function isVerificationWire(value: unknown): value is EventSubVerificationWire {
  return isRecord(value) && typeof value.challenge === 'string' && isSubscriptionWire(value.subscription);
}

export function isNotificationWire(value: unknown): value is EventSubNotificationWire {
  return isRecord(value) && isSubscriptionWire(value.subscription) && isRecord(value.event);
}

export function isRevocationWire(value: unknown): value is EventSubRevocationWire {
  return isRecord(value) && isSubscriptionWire(value.subscription);
}

export function isStreamOnlineEventWire(value: unknown): value is StreamOnlineEventWire {
  return hasStrings(value, [
    'id',
    'broadcaster_user_id',
    'broadcaster_user_login',
    'broadcaster_user_name',
    'type',
    'started_at',
  ]);
}

export function isStreamOfflineEventWire(value: unknown): value is StreamOfflineEventWire {
  return hasStrings(value, ['broadcaster_user_id', 'broadcaster_user_login', 'broadcaster_user_name']);
}

export function isSubscriptionListWire(value: unknown): value is EventSubSubscriptionListWire {
  return isRecord(value) && Array.isArray(value.data) && value.data.every(isSubscriptionWire);
}
