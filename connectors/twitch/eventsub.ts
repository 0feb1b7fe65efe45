/**
 * Our side of EventSub webhooks (contracts/twitch.md §3.8, §4): `eventSubHandler` is the Hono
 * sub-app Twitch POSTs to, and `EventSubSubscriptions` keeps Twitch's `stream.online` /
 * `stream.offline` subscriptions in step with the broadcasters we track.
 *
 * The handler, per message, in order:
 * 1. read the raw body (signatures are over the bytes, before any JSON parsing);
 * 2. check the `sha256=` HMAC of id + timestamp + body with a timing-safe compare → 403;
 * 3. reject a timestamp older than 10 minutes on the injected clock → 403 (replay guard);
 * 4. answer a challenge with the raw challenge as `text/plain`;
 * 5. answer a message ID seen in the last 10 minutes 204 without delivering it again;
 * 6. parse; a malformed body → 400, nothing delivered;
 * 7. deliver (`onEvent` / `onRevocation`) and only then answer 204, so a delivery that throws
 *    gets a 500 and Twitch resends it (at least once; keep the callbacks fast: Twitch wants an
 *    answer within a few seconds, so enqueue there and do the work elsewhere).
 *
 * The subscription calls go through twurple's `ApiClient` with an app token (webhook
 * subscriptions belong to the app). Its internal retries of 5xx answers run on wall-clock timers;
 * that is acceptable here because these calls are rare and off the hot path (see helix.ts for the
 * calls that need the injected clock).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiClient } from '@twurple/api';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Clock } from '../../pipeline/time/clock.ts';
import { httpFailure } from './auth/errors.ts';
import {
  EVENTSUB_HEADERS,
  type EventSubSubscriptionWire,
  isNotificationWire,
  isRevocationWire,
  isStreamOfflineEventWire,
  isStreamOnlineEventWire,
  isSubscriptionListWire,
  isVerificationWire,
} from './eventsub.wire.ts';

/** Twitch's documented replay window: older messages are rejected, seen IDs kept at least this long. */
export const EVENTSUB_REPLAY_WINDOW_MS = 10 * 60_000;
/**
 * Message IDs remembered at most. Above this the oldest are forgotten before their 10 minutes,
 * reopening the replay window for them; 100,000 is far above what stream.online/offline for
 * thousands of broadcasters send in 10 minutes, and costs about 10 MB at worst.
 */
const MAX_REMEMBERED_IDS = 100_000;
/**
 * Largest body read. stream.online/offline messages are under 1 KB; a lower limit would answer
 * 413 to larger event types should we subscribe to them, a higher one only lets a stranger make
 * us buffer more before the signature check fails.
 */
const MAX_BODY_BYTES = 1024 * 1024;
/** The type/version pairs we subscribe to; both need no user authorization (§3.8). */
export const STREAM_STATUS_TYPES = ['stream.online', 'stream.offline'] as const;
const SUBSCRIPTION_VERSION = '1';
/** Statuses under which a subscription delivers or soon will. */
const ACTIVE_STATUSES = new Set(['enabled', 'webhook_callback_verification_pending']);
/**
 * Revocation reasons that re-subscribing cannot fix: the user is gone, withdrew the authorization,
 * or Twitch removed the version we ask for.
 */
const FINAL_REASONS = new Set(['authorization_revoked', 'user_removed', 'version_removed']);

/** A broadcaster went live or offline, as EventSub told us. */
export interface StreamStatusEvent {
  readonly type: 'online' | 'offline';
  readonly broadcasterId: number;
  readonly broadcasterLogin: string;
  readonly broadcasterName: string;
  /** Epoch ms: the stream's `started_at` when online; the message timestamp when offline (§4.5). */
  readonly at: number;
  /** Online only: the stream's ID and type (`live`, `rerun`, …). */
  readonly streamId?: string;
  readonly streamType?: string;
  /** Twitch's message ID, the same on every resend. */
  readonly messageId: string;
}

/** Twitch stopped a subscription and will send nothing more to it (§4.4). */
export interface EventSubRevocation {
  readonly subscriptionId: string;
  readonly subscriptionType: string;
  /** The subscription's new status: `notification_failures_exceeded`, `authorization_revoked`, … */
  readonly reason: string;
  /** From the condition's `broadcaster_user_id`, when it has one. */
  readonly broadcasterId: number | undefined;
  /** Epoch ms of the message timestamp. */
  readonly at: number;
}

/** What the handler did with one request, for logs and metrics. */
export type EventSubOutcome =
  | { readonly kind: 'verified'; readonly subscriptionId: string; readonly subscriptionType: string }
  | { readonly kind: 'delivered'; readonly messageId: string }
  | { readonly kind: 'duplicate'; readonly messageId: string }
  /** A signed message we do not handle (another subscription type or message type): 204, dropped. */
  | { readonly kind: 'ignored'; readonly messageId: string; readonly why: string }
  | { readonly kind: 'rejected'; readonly status: 400 | 403 | 413 | 500; readonly why: RejectionReason };

export type RejectionReason =
  | 'missing-headers'
  | 'bad-signature'
  | 'bad-timestamp'
  | 'stale'
  | 'too-large'
  | 'malformed'
  | 'delivery-failed';

export interface EventSubHandlerOptions {
  /** The secret given to Twitch when subscribing (10–100 ASCII characters). */
  readonly secret: string;
  readonly clock: Clock;
  readonly onEvent: (event: StreamStatusEvent) => void | Promise<void>;
  readonly onRevocation?: (revocation: EventSubRevocation) => void | Promise<void>;
  /** How long message IDs are remembered; at least (and by default) 10 minutes. */
  readonly dedupeTtlMs?: number;
  /** Most message IDs remembered (default 100,000); the oldest go first. */
  readonly maxRememberedIds?: number;
  readonly onOutcome?: (outcome: EventSubOutcome) => void;
}

/** A misconfiguration or a failed EventSub call, in one line. */
export class EventSubError extends Error {
  override name = 'EventSubError';
}

/** `sha256=` + the lowercase hex HMAC-SHA256 of id + timestamp + raw body (§4.2). */
export function eventSubSignature(
  secret: string,
  messageId: string,
  timestamp: string,
  body: Uint8Array | string,
): string {
  return `sha256=${createHmac('sha256', secret)
    .update(messageId + timestamp)
    .update(body)
    .digest('hex')}`;
}

/** Whether `signature` (the header) is right, compared in constant time. */
export function isValidEventSubSignature(
  secret: string,
  messageId: string,
  timestamp: string,
  body: Uint8Array | string,
  signature: string,
): boolean {
  const expected = Buffer.from(eventSubSignature(secret, messageId, timestamp, body));
  const given = Buffer.from(signature.toLowerCase());
  // The length is public (`sha256=` + 64 hex digits); only the digits must not leak by timing.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of an RFC 3339 time with any number of fraction digits (EventSub sends nine). */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]!.toUpperCase()}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function checkSecret(secret: string): void {
  if (!/^[\x20-\x7e]{10,100}$/.test(secret)) {
    throw new EventSubError('EventSub secret must be 10 to 100 ASCII characters (Twitch refuses others)');
  }
}

function broadcasterIdOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Message IDs seen recently. Each is kept until `max(received, message timestamp) + ttl`, so any
 * replay young enough to pass the timestamp check still finds its ID here. Insertion order is
 * roughly expiry order, so expired IDs are dropped from the front.
 */
class SeenMessageIds {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly capacity: number,
  ) {}

  has(id: string, now: number): boolean {
    const expiresAt = this.expiries.get(id);
    return expiresAt !== undefined && now <= expiresAt;
  }

  add(id: string, now: number, messageTime: number): void {
    this.prune(now);
    this.expiries.delete(id);
    this.expiries.set(id, Math.max(now, messageTime) + this.ttlMs);
    while (this.expiries.size > this.capacity) this.expiries.delete(this.expiries.keys().next().value!);
  }

  forget(id: string): void {
    this.expiries.delete(id);
  }

  private prune(now: number): void {
    for (const [id, expiresAt] of this.expiries) {
      if (now <= expiresAt) break;
      this.expiries.delete(id);
    }
  }
}

/**
 * The webhook callback as a Hono sub-app answering `POST /`; mount it where the callback URL
 * points.
 *
 * @example
 * import { Hono } from 'hono';
 * import { SystemClock } from '../../pipeline/time/clock.ts';
 *
 * const server = new Hono();
 * server.route(
 *   '/eventsub',
 *   eventSubHandler({
 *     secret: 'local-fake-secret-42',
 *     clock: new SystemClock(),
 *     onEvent: (e) => console.log(`${e.broadcasterLogin} is ${e.type}`),
 *   }),
 * );
 */
export function eventSubHandler(options: EventSubHandlerOptions): Hono {
  checkSecret(options.secret);
  const ttl = options.dedupeTtlMs ?? EVENTSUB_REPLAY_WINDOW_MS;
  if (ttl < EVENTSUB_REPLAY_WINDOW_MS) {
    throw new EventSubError(
      `dedupeTtlMs must be at least ${EVENTSUB_REPLAY_WINDOW_MS} (Twitch's 10-minute replay window), got ${ttl}`,
    );
  }
  const seen = new SeenMessageIds(ttl, options.maxRememberedIds ?? MAX_REMEMBERED_IDS);
  const { clock, secret } = options;
  const report = options.onOutcome ?? (() => {});

  const reject = (c: Context, status: 400 | 403 | 413 | 500, why: RejectionReason): Response => {
    report({ kind: 'rejected', status, why });
    return c.text(why, status);
  };

  const app = new Hono();
  app.post(
    '/',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => reject(c, 413, 'too-large') }),
    async (c) => {
      const messageId = c.req.header(EVENTSUB_HEADERS.messageId);
      const timestamp = c.req.header(EVENTSUB_HEADERS.messageTimestamp);
      const signature = c.req.header(EVENTSUB_HEADERS.messageSignature);
      const messageType = c.req.header(EVENTSUB_HEADERS.messageType);
      if (!messageId || !timestamp || !signature || !messageType) return reject(c, 403, 'missing-headers');
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (!isValidEventSubSignature(secret, messageId, timestamp, body, signature)) {
        return reject(c, 403, 'bad-signature');
      }
      const sentAt = parseRfc3339(timestamp);
      if (sentAt === undefined) return reject(c, 403, 'bad-timestamp');
      const now = clock.now();
      if (now - sentAt > EVENTSUB_REPLAY_WINDOW_MS) return reject(c, 403, 'stale');

      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
      } catch {
        return reject(c, 400, 'malformed');
      }

      if (messageType === 'webhook_callback_verification') {
        if (!isVerificationWire(json)) return reject(c, 400, 'malformed');
        report({
          kind: 'verified',
          subscriptionId: json.subscription.id,
          subscriptionType: json.subscription.type,
        });
        // The raw string, not JSON; `text/plain` (§4.3).
        return c.body(json.challenge, 200, { 'Content-Type': 'text/plain' });
      }

      if (seen.has(messageId, now)) {
        report({ kind: 'duplicate', messageId });
        return c.body(null, 204);
      }

      let deliver: () => void | Promise<void>;
      if (messageType === 'notification') {
        if (!isNotificationWire(json)) return reject(c, 400, 'malformed');
        const type = json.subscription.type;
        if (type !== 'stream.online' && type !== 'stream.offline') {
          report({ kind: 'ignored', messageId, why: `subscription type ${type}` });
          return c.body(null, 204);
        }
        const event = toStreamStatusEvent(type, json.event, messageId, sentAt);
        if (!event) return reject(c, 400, 'malformed');
        deliver = () => options.onEvent(event);
      } else if (messageType === 'revocation') {
        if (!isRevocationWire(json)) return reject(c, 400, 'malformed');
        const s = json.subscription;
        const revocation: EventSubRevocation = {
          subscriptionId: s.id,
          subscriptionType: s.type,
          reason: s.status,
          broadcasterId: broadcasterIdOf(s.condition.broadcaster_user_id),
          at: sentAt,
        };
        deliver = () => options.onRevocation?.(revocation);
      } else {
        // A message type newer than this code: answering non-2xx would get the subscription revoked.
        report({ kind: 'ignored', messageId, why: `message type ${messageType}` });
        return c.body(null, 204);
      }

      // Marked before delivering, so a resend racing this one is not delivered twice.
      seen.add(messageId, now, sentAt);
      try {
        await deliver();
      } catch {
        seen.forget(messageId); // let Twitch's resend through
        return reject(c, 500, 'delivery-failed');
      }
      report({ kind: 'delivered', messageId });
      return c.body(null, 204);
    },
  );
  return app;
}

function toStreamStatusEvent(
  type: 'stream.online' | 'stream.offline',
  event: unknown,
  messageId: string,
  sentAt: number,
): StreamStatusEvent | undefined {
  if (type === 'stream.online') {
    if (!isStreamOnlineEventWire(event)) return undefined;
    const broadcasterId = broadcasterIdOf(event.broadcaster_user_id);
    const startedAt = parseRfc3339(event.started_at);
    if (broadcasterId === undefined || startedAt === undefined) return undefined;
    return {
      type: 'online',
      broadcasterId,
      broadcasterLogin: event.broadcaster_user_login,
      broadcasterName: event.broadcaster_user_name,
      at: startedAt,
      streamId: event.id,
      streamType: event.type,
      messageId,
    };
  }
  if (!isStreamOfflineEventWire(event)) return undefined;
  const broadcasterId = broadcasterIdOf(event.broadcaster_user_id);
  if (broadcasterId === undefined) return undefined;
  return {
    type: 'offline',
    broadcasterId,
    broadcasterLogin: event.broadcaster_user_login,
    broadcasterName: event.broadcaster_user_name,
    at: sentAt,
    messageId,
  };
}

// ── Subscriptions ───────────────────────────────────────────────────────────────────────────

export type StreamStatusType = (typeof STREAM_STATUS_TYPES)[number];

/** One of our subscriptions at Twitch. */
export interface StreamStatusSubscription {
  readonly id: string;
  readonly type: StreamStatusType;
  readonly broadcasterId: number;
  readonly status: string;
}

export interface EventSubSyncResult {
  readonly created: readonly StreamStatusSubscription[];
  /** Of untracked broadcasters, duplicates, and broken ones about to be re-created. */
  readonly deleted: readonly StreamStatusSubscription[];
  /** Revoked for a reason re-subscribing cannot fix; kept, so later syncs do not retry them. */
  readonly blocked: readonly StreamStatusSubscription[];
  readonly failed: readonly {
    readonly type: StreamStatusType;
    readonly broadcasterId: number;
    readonly error: EventSubError;
  }[];
}

export interface EventSubSubscriptionsOptions {
  /**
   * An ApiClient whose auth provider gives app tokens (`AppTokenAuthProvider`, or a
   * `RefreshingAuthProvider` with the client secret): webhook subscriptions belong to the app.
   */
  readonly api: ApiClient;
  /** Where Twitch POSTs: the public HTTPS URL of `eventSubHandler`. */
  readonly callbackUrl: string;
  /** The same secret `eventSubHandler` checks. */
  readonly secret: string;
}

/** The most pages one listing reads; 10,000 subscriptions (the default cost allowance) fill 100. */
const MAX_LIST_PAGES = 200;

/**
 * Keeps `stream.online` + `stream.offline` webhook subscriptions for exactly the tracked
 * broadcasters. Calls run one after another, so a revocation never races a sync.
 *
 * @example
 * import { ApiClient } from '@twurple/api';
 * import { AppTokenAuthProvider } from '@twurple/auth';
 *
 * const subscriptions = new EventSubSubscriptions({
 *   api: new ApiClient({ authProvider: new AppTokenAuthProvider('client-id', 'client-secret') }),
 *   callbackUrl: 'https://notifier.example.net/eventsub',
 *   secret: 'local-fake-secret-42',
 * });
 * const result = await subscriptions.sync([52419331]);
 * for (const f of result.failed) console.warn(f.error.message);
 */
export class EventSubSubscriptions {
  private readonly api: ApiClient;
  private readonly callbackUrl: string;
  private readonly secret: string;
  private tracked = new Set<number>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: EventSubSubscriptionsOptions) {
    checkSecret(options.secret);
    try {
      new URL(options.callbackUrl);
    } catch {
      throw new EventSubError(`EventSub callback URL "${options.callbackUrl}" is not a URL`);
    }
    this.api = options.api;
    this.callbackUrl = options.callbackUrl;
    this.secret = options.secret;
  }

  /**
   * Creates the missing subscriptions of tracked broadcasters and deletes those of untracked ones
   * (and broken ones, which it re-creates). Throws only when the listing fails; a failed create or
   * delete is in `failed`.
   */
  sync(trackedBroadcasterIds: Iterable<number>): Promise<EventSubSyncResult> {
    const tracked = new Set(trackedBroadcasterIds);
    return this.serially(async () => {
      this.tracked = tracked;
      const existing = await this.listOurs();
      const deleted: StreamStatusSubscription[] = [];
      const blocked: StreamStatusSubscription[] = [];
      const failed: { type: StreamStatusType; broadcasterId: number; error: EventSubError }[] = [];
      const covered = new Set<string>();
      const toDelete: StreamStatusSubscription[] = [];
      for (const s of existing) {
        const key = `${s.type}/${s.broadcasterId}`;
        if (!tracked.has(s.broadcasterId) || covered.has(key)) toDelete.push(s);
        else if (ACTIVE_STATUSES.has(s.status)) covered.add(key);
        else if (FINAL_REASONS.has(s.status)) {
          covered.add(key);
          blocked.push(s);
        } else toDelete.push(s);
      }
      await Promise.all(
        toDelete.map(async (s) => {
          try {
            await this.delete(s.id);
            deleted.push(s);
          } catch (error) {
            failed.push({
              type: s.type,
              broadcasterId: s.broadcasterId,
              error: this.failure('deleting', s, error),
            });
          }
        }),
      );
      const created: StreamStatusSubscription[] = [];
      const wanted = [...tracked].flatMap((id) =>
        STREAM_STATUS_TYPES.filter((type) => !covered.has(`${type}/${id}`)).map((type) => ({ type, id })),
      );
      await Promise.all(
        wanted.map(async ({ type, id }) => {
          try {
            created.push(await this.create(type, id));
          } catch (error) {
            failed.push({
              type,
              broadcasterId: id,
              error: this.failure('creating', { type, broadcasterId: id }, error),
            });
          }
        }),
      );
      return { created, deleted, blocked, failed };
    });
  }

  /**
   * After a revocation: re-creates the subscription when its broadcaster is still tracked (as of
   * the last `sync`) and the reason is one re-subscribing can fix; otherwise leaves it. Throws an
   * `EventSubError` when re-creating fails (the next `sync` tries again).
   */
  handleRevocation(revocation: EventSubRevocation): Promise<'resubscribed' | 'dropped'> {
    return this.serially(async () => {
      const type = STREAM_STATUS_TYPES.find((t) => t === revocation.subscriptionType);
      const id = revocation.broadcasterId;
      if (!type || id === undefined || !this.tracked.has(id) || FINAL_REASONS.has(revocation.reason)) {
        return 'dropped';
      }
      try {
        await this.delete(revocation.subscriptionId);
        await this.create(type, id);
      } catch (error) {
        throw this.failure('re-creating', { type, broadcasterId: id }, error);
      }
      return 'resubscribed';
    });
  }

  /** Our subscriptions at Twitch (webhook, our callback, stream status types), oldest first. */
  list(): Promise<StreamStatusSubscription[]> {
    return this.serially(() => this.listOurs());
  }

  private async listOurs(): Promise<StreamStatusSubscription[]> {
    const ours: StreamStatusSubscription[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let answer: unknown;
      try {
        answer = await this.api.callApi<unknown>({
          type: 'helix',
          url: 'eventsub/subscriptions',
          query: after === undefined ? {} : { after },
          forceType: 'app',
        });
      } catch (error) {
        const http = httpFailure(error);
        const why = http ? `${http.status} ${http.message}`.trim() : oneLine(error);
        throw new EventSubError(`Twitch EventSub: listing subscriptions failed: ${why}`);
      }
      if (!isSubscriptionListWire(answer)) {
        throw new EventSubError('Twitch EventSub: listing subscriptions returned an unexpected body');
      }
      for (const s of answer.data) {
        const mine = this.ours(s);
        if (mine) ours.push(mine);
      }
      const cursor = answer.pagination?.cursor;
      if (!cursor || cursor === after) return ours;
      after = cursor;
    }
    throw new EventSubError(
      `Twitch EventSub: listing subscriptions did not end after ${MAX_LIST_PAGES} pages`,
    );
  }

  private ours(s: EventSubSubscriptionWire): StreamStatusSubscription | undefined {
    const type = STREAM_STATUS_TYPES.find((t) => t === s.type);
    const broadcasterId = broadcasterIdOf(s.condition.broadcaster_user_id);
    if (!type || broadcasterId === undefined) return undefined;
    if (s.transport.method !== 'webhook' || s.transport.callback !== this.callbackUrl) return undefined;
    return { id: s.id, type, broadcasterId, status: s.status };
  }

  private async create(type: StreamStatusType, broadcasterId: number): Promise<StreamStatusSubscription> {
    const created = await this.api.eventSub.createSubscription(
      type,
      SUBSCRIPTION_VERSION,
      { broadcaster_user_id: String(broadcasterId) },
      { method: 'webhook', callback: this.callbackUrl, secret: this.secret },
    );
    return { id: created.id, type, broadcasterId, status: created.status };
  }

  /** Deletes one subscription; one already gone (404) is fine. */
  private async delete(id: string): Promise<void> {
    try {
      await this.api.callApi({
        type: 'helix',
        url: 'eventsub/subscriptions',
        method: 'DELETE',
        query: { id },
        forceType: 'app',
      });
    } catch (error) {
      if (httpFailure(error)?.status !== 404) throw error;
    }
  }

  private failure(
    doing: string,
    s: { type: StreamStatusType; broadcasterId: number },
    error: unknown,
  ): EventSubError {
    const http = httpFailure(error);
    let why = http ? `${http.status} ${http.message}`.trim() : oneLine(error);
    if (http?.status === 409) why += ' (another callback already holds this subscription)';
    return new EventSubError(
      `Twitch EventSub: ${doing} ${s.type} for broadcaster ${s.broadcasterId} failed: ${why}`,
    );
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}
