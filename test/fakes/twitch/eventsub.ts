/**
 * Fake EventSub: subscription management (`/subscriptions`, contracts/twitch.md §3.8) and the
 * sender that POSTs signed webhook messages to the subscribers' callbacks (§4).
 *
 * The sender watches the world: `world.goLive(id)` sends `stream.online` and `world.goOffline(id)`
 * sends `stream.offline` to every enabled subscription whose `broadcaster_user_id` matches. A new
 * subscription is enabled only when its callback answers the challenge exactly. Failed deliveries
 * are resent with the same message ID and then revoked with `notification_failures_exceeded`.
 * Tests script the rest through hooks (`sendNotification`, `sendDuplicate`, `sendStale`,
 * `sendBadSignature`, `revoke`) and read what the callback answered in `log` (or await the
 * `delivery` event). `flush()` resolves once every delivery started so
 * far has finished, including its retries.
 *
 * Time is the world's clock: message timestamps, `created_at`, delivery timeouts and the delay
 * between retries (immediate by default; with `retryDelayMs > 0` a test advances a ManualClock).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Context, Hono } from 'hono';
import type { Cancel } from '../../../pipeline/time/clock.ts';
import { type FakeStream, type FakeUser, rfc3339, type TwitchWorld } from './world.ts';

export type EventSubMessageType = 'webhook_callback_verification' | 'notification' | 'revocation';

export interface FakeEventSubSubscription {
  readonly id: string;
  /** The app that created it; every call sees only its own app's subscriptions. */
  readonly clientId: string;
  /** `enabled`, `webhook_callback_verification_pending`, or the reason it stopped. */
  status: string;
  readonly type: string;
  readonly version: string;
  readonly condition: { readonly broadcaster_user_id: string };
  readonly callback: string;
  /** Never echoed back (§3.8). */
  readonly secret: string;
  /** RFC 3339 with a nanosecond fraction. */
  readonly createdAt: string;
  readonly cost: number;
}

/** What one POST to a callback got back. */
export interface DeliveryRecord {
  readonly messageId: string;
  readonly messageType: EventSubMessageType;
  readonly subscriptionId: string;
  readonly subscriptionType: string;
  /** The `Twitch-Eventsub-Message-Retry` header sent. */
  readonly retry: number;
  /** The `Twitch-Eventsub-Message-Timestamp` header sent. */
  readonly timestamp: string;
  /** World-clock epoch ms when the answer (or the failure) came. */
  readonly at: number;
  /** The HTTP status, or why there was none. */
  readonly status: number | 'timeout' | 'network-error';
  /** The response body as text ('' without a response). */
  readonly body: string;
  readonly contentType: string | null;
}

export interface EventSubSettings {
  /** Resends of a failed notification before it is revoked (Twitch's count is undocumented). */
  maxRetries: number;
  /** World-clock delay before each resend; 0 resends at once. */
  retryDelayMs: number;
  /** World-clock time a callback has to answer (Twitch's CLI uses a 10 s client timeout). */
  timeoutMs: number;
  /** Subscriptions per `GET /subscriptions` page (Twitch's page size is not settable by clients). */
  pageSize: number;
  /** Accept `http://` callbacks on any port; real Twitch requires HTTPS on 443 (§3.8). */
  allowInsecureCallbacks: boolean;
  maxTotalCost: number;
}

const DEFAULT_SETTINGS: EventSubSettings = {
  maxRetries: 3,
  retryDelayMs: 0,
  timeoutMs: 10_000,
  pageSize: 100,
  allowInsecureCallbacks: true,
  maxTotalCost: 10_000,
};

/** The type/version pairs this fake knows; both need no user authorization (§3.8). */
const SUPPORTED_TYPES = new Map([
  ['stream.online', '1'],
  ['stream.offline', '1'],
]);

/** Statuses that count toward `total_cost` [unverified in the contract; the fake's choice]. */
const COSTED_STATUSES = new Set(['enabled', 'webhook_callback_verification_pending']);

/** How old a `sendStale` message is by default: past Twitch's documented 10-minute replay window. */
const STALE_AGE_MS = 11 * 60_000;

/** `sha256=<hex>` over message id + timestamp + raw body (§4.2). */
export function signEventSubMessage(
  secret: string,
  messageId: string,
  timestamp: string,
  body: string,
): string {
  const hmac = createHmac('sha256', secret)
    .update(messageId + timestamp)
    .update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/** RFC 3339 UTC with nine fraction digits, as EventSub writes timestamps: the clock's ms + `subMs` ns. */
export function nanoTimestamp(ms: number, subMs = 0): string {
  const iso = new Date(ms).toISOString(); // …T18:02:11.423Z
  return `${iso.slice(0, -1)}${String(subMs % 1_000_000).padStart(6, '0')}Z`;
}

interface OutgoingMessage {
  readonly id: string;
  readonly type: EventSubMessageType;
  readonly subscription: FakeEventSubSubscription;
  readonly timestamp: string;
  readonly body: string;
  readonly signature: string;
}

export class EventSubSender {
  readonly settings: EventSubSettings;
  /** By id, in creation order (Get EventSub Subscriptions lists oldest first). */
  readonly subscriptions = new Map<string, FakeEventSubSubscription>();
  /** Every answer a callback gave, oldest first. */
  readonly log: DeliveryRecord[] = [];
  /** `delivery` fires as each record joins the log, so a test can await one answer. */
  readonly events = new EventEmitter<{ delivery: [record: DeliveryRecord] }>();
  private readonly sent = new Map<string, OutgoingMessage>();
  private lastNotificationId: string | undefined;
  private readonly jobs = new Set<Promise<unknown>>();
  private readonly aborts = new Set<AbortController>();
  private readonly waits = new Set<{ cancel: Cancel; resolve: () => void }>();
  /** Makes the sub-millisecond digits of timestamps differ from message to message. */
  private nanos = 0;
  private closed = false;

  constructor(
    readonly world: TwitchWorld,
    settings: Partial<EventSubSettings> = {},
  ) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    world.events.on('online', this.onOnline);
    world.events.on('offline', this.onOffline);
  }

  /** Stops watching the world, aborts requests in flight and drops pending retries. */
  close(): void {
    this.closed = true;
    this.world.events.off('online', this.onOnline);
    this.world.events.off('offline', this.onOffline);
    for (const a of this.aborts) a.abort();
    for (const w of this.waits) {
      w.cancel();
      w.resolve();
    }
  }

  /** Resolves once every delivery started so far has finished, retries and revocations included. */
  async flush(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs]);
  }

  /** The answers to one message, in the order they came. */
  answers(messageId: string): DeliveryRecord[] {
    return this.log.filter((r) => r.messageId === messageId);
  }

  // ── Subscription management (used by the routes) ──────────────────────────────────────────

  /** Stores a pending subscription and starts the challenge (§4.3). */
  create(input: {
    clientId: string;
    type: string;
    version: string;
    broadcasterUserId: string;
    callback: string;
    secret: string;
  }): FakeEventSubSubscription {
    const authorized = [...this.world.refreshTokens.values()].some(
      (g) => g.clientId === input.clientId && g.userId === input.broadcasterUserId,
    );
    const subscription: FakeEventSubSubscription = {
      id: randomUUID(),
      clientId: input.clientId,
      status: 'webhook_callback_verification_pending',
      type: input.type,
      version: input.version,
      condition: { broadcaster_user_id: input.broadcasterUserId },
      callback: input.callback,
      secret: input.secret,
      createdAt: nanoTimestamp(this.world.clock.now()),
      cost: authorized ? 0 : 1,
    };
    this.subscriptions.set(subscription.id, subscription);
    this.track(this.verify(subscription));
    return subscription;
  }

  /** The app's subscriptions, oldest first. */
  subscriptionsOf(clientId: string): FakeEventSubSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.clientId === clientId);
  }

  totalCost(clientId: string): number {
    return this.subscriptionsOf(clientId)
      .filter((s) => COSTED_STATUSES.has(s.status))
      .reduce((sum, s) => sum + s.cost, 0);
  }

  // ── Test hooks ─────────────────────────────────────────────────────────────────────────────

  /** Sends a message again with the same ID, timestamp and signature (at-least-once delivery). */
  async sendDuplicate(messageId = this.lastNotificationId): Promise<DeliveryRecord> {
    const message = messageId === undefined ? undefined : this.sent.get(messageId);
    if (!message) throw new Error(`fake eventsub: no sent message ${messageId ?? '(none sent yet)'}`);
    return this.tracked(this.post(message, 0));
  }

  /** Sends one correctly signed notification whose timestamp is `ageMs` old (default 11 minutes). */
  async sendStale(subscriptionId: string, ageMs = STALE_AGE_MS): Promise<DeliveryRecord> {
    const subscription = this.subscription(subscriptionId);
    const message = this.message(subscription, 'notification', this.notificationBody(subscription), {
      timestamp: nanoTimestamp(this.world.clock.now() - ageMs, this.nanos++),
    });
    return this.tracked(this.post(message, 0));
  }

  /** Sends one notification signed with the wrong secret. */
  async sendBadSignature(subscriptionId: string): Promise<DeliveryRecord> {
    const subscription = this.subscription(subscriptionId);
    const message = this.message(subscription, 'notification', this.notificationBody(subscription), {
      secret: `not-${subscription.secret}`,
    });
    return this.tracked(this.post(message, 0));
  }

  /** Sends one notification for the subscription now, as if its event happened (no retries). */
  async sendNotification(subscriptionId: string): Promise<DeliveryRecord> {
    const subscription = this.subscription(subscriptionId);
    const message = this.message(subscription, 'notification', this.notificationBody(subscription));
    this.lastNotificationId = message.id;
    return this.tracked(this.post(message, 0));
  }

  /**
   * Revokes a subscription with `reason` as its new status (`authorization_revoked`,
   * `user_removed`, `version_removed`, …) and sends the revocation message; nothing more is sent to it.
   */
  async revoke(subscriptionId: string, reason: string): Promise<DeliveryRecord> {
    return this.tracked(this.revokeNow(this.subscription(subscriptionId), reason));
  }

  // ── Sending ───────────────────────────────────────────────────────────────────────────────

  private readonly onOnline = (stream: FakeStream, user: FakeUser): void => {
    for (const s of this.listeners('stream.online', user.id)) {
      this.track(this.notify(s, { subscription: subscriptionView(s), event: onlineEvent(stream, user) }));
    }
  };

  private readonly onOffline = (user: FakeUser): void => {
    for (const s of this.listeners('stream.offline', user.id)) {
      this.track(this.notify(s, { subscription: subscriptionView(s), event: offlineEvent(user) }));
    }
  };

  private listeners(type: string, broadcasterId: string): FakeEventSubSubscription[] {
    return [...this.subscriptions.values()].filter(
      (s) => s.status === 'enabled' && s.type === type && s.condition.broadcaster_user_id === broadcasterId,
    );
  }

  /** The challenge: enabled only on 200, the exact challenge as the body, and `text/plain` (§4.3). */
  private async verify(subscription: FakeEventSubSubscription): Promise<void> {
    const challenge = randomUUID();
    const body = { challenge, subscription: subscriptionView(subscription) };
    const record = await this.post(this.message(subscription, 'webhook_callback_verification', body), 0);
    if (this.subscriptions.get(subscription.id) !== subscription) return; // deleted meanwhile
    if (subscription.status !== 'webhook_callback_verification_pending') return;
    const answered =
      record.status === 200 && record.body === challenge && /^text\/plain\b/i.test(record.contentType ?? '');
    subscription.status = answered ? 'enabled' : 'webhook_callback_verification_failed';
  }

  /** A notification with resends under the same ID; revokes the subscription when they run out. */
  private async notify(subscription: FakeEventSubSubscription, body: object): Promise<DeliveryRecord> {
    const message = this.message(subscription, 'notification', body);
    this.lastNotificationId = message.id;
    for (let retry = 0; ; retry++) {
      const record = await this.post(message, retry);
      if (isSuccess(record.status) || this.closed) return record;
      const current = this.subscriptions.get(subscription.id) === subscription;
      if (!current || subscription.status !== 'enabled') return record; // deleted or revoked meanwhile
      if (retry >= this.settings.maxRetries) {
        await this.revokeNow(subscription, 'notification_failures_exceeded');
        return record;
      }
      if (!(await this.wait(this.settings.retryDelayMs))) return record;
    }
  }

  private async revokeNow(subscription: FakeEventSubSubscription, reason: string): Promise<DeliveryRecord> {
    subscription.status = reason;
    return this.post(
      this.message(subscription, 'revocation', { subscription: subscriptionView(subscription) }),
      0,
    );
  }

  private message(
    subscription: FakeEventSubSubscription,
    type: EventSubMessageType,
    body: object,
    override: { timestamp?: string; secret?: string } = {},
  ): OutgoingMessage {
    const id = randomUUID();
    const timestamp = override.timestamp ?? nanoTimestamp(this.world.clock.now(), this.nanos++);
    const raw = JSON.stringify(body);
    const signature = signEventSubMessage(override.secret ?? subscription.secret, id, timestamp, raw);
    const message: OutgoingMessage = { id, type, subscription, timestamp, body: raw, signature };
    this.sent.set(id, message);
    return message;
  }

  /** One POST; never throws: a failure is a record with a status of `timeout` or `network-error`. */
  private async post(message: OutgoingMessage, retry: number): Promise<DeliveryRecord> {
    const { subscription } = message;
    const abort = new AbortController();
    let timedOut = false;
    const cancelTimeout = this.world.clock.schedule(this.world.clock.now() + this.settings.timeoutMs, () => {
      timedOut = true;
      abort.abort();
    });
    this.aborts.add(abort);
    const base = {
      messageId: message.id,
      messageType: message.type,
      subscriptionId: subscription.id,
      subscriptionType: subscription.type,
      retry,
      timestamp: message.timestamp,
    };
    let record: DeliveryRecord;
    try {
      const response = await fetch(subscription.callback, {
        method: 'POST',
        redirect: 'manual', // Twitch does not follow redirects (§3.8)
        signal: abort.signal,
        headers: {
          'Content-Type': 'application/json',
          'Twitch-Eventsub-Message-Id': message.id,
          'Twitch-Eventsub-Message-Retry': String(retry),
          'Twitch-Eventsub-Message-Type': message.type,
          'Twitch-Eventsub-Message-Signature': message.signature,
          'Twitch-Eventsub-Message-Timestamp': message.timestamp,
          'Twitch-Eventsub-Subscription-Type': subscription.type,
          'Twitch-Eventsub-Subscription-Version': subscription.version,
        },
        body: message.body,
      });
      const body = await response.text();
      record = {
        ...base,
        at: this.world.clock.now(),
        status: response.status,
        body,
        contentType: response.headers.get('content-type'),
      };
    } catch {
      record = {
        ...base,
        at: this.world.clock.now(),
        status: timedOut ? 'timeout' : 'network-error',
        body: '',
        contentType: null,
      };
    } finally {
      cancelTimeout();
      this.aborts.delete(abort);
    }
    this.log.push(record);
    this.events.emit('delivery', record);
    return record;
  }

  /** Waits `ms` of world-clock time; false when the sender closed meanwhile. */
  private wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = {
        resolve: () => resolve(false),
        cancel: this.world.clock.schedule(this.world.clock.now() + ms, () => {
          this.waits.delete(entry);
          resolve(!this.closed);
        }),
      };
      this.waits.add(entry);
    });
  }

  private notificationBody(subscription: FakeEventSubSubscription): object {
    const id = subscription.condition.broadcaster_user_id;
    const user: FakeUser = this.world.users.get(id) ?? {
      id,
      login: `user${id}`,
      displayName: `User${id}`,
      broadcasterType: '',
      createdAt: '2016-08-02T11:20:45Z',
    };
    if (subscription.type === 'stream.offline') {
      return { subscription: subscriptionView(subscription), event: offlineEvent(user) };
    }
    const stream: FakeStream = this.world.streams.get(id) ?? {
      id: String(40_000_000_000 + this.nanos),
      userId: id,
      gameId: '509658',
      gameName: 'Just Chatting',
      title: '',
      viewerCount: 0,
      startedAt: rfc3339(this.world.clock.now()),
      language: 'en',
      tags: [],
    };
    return { subscription: subscriptionView(subscription), event: onlineEvent(stream, user) };
  }

  private subscription(id: string): FakeEventSubSubscription {
    const s = this.subscriptions.get(id);
    if (!s) throw new Error(`fake eventsub: no subscription ${id}`);
    return s;
  }

  private track(job: Promise<unknown>): void {
    this.jobs.add(job);
    void job.finally(() => this.jobs.delete(job));
  }

  private tracked<T>(job: Promise<T>): Promise<T> {
    this.track(job);
    return job;
  }
}

function isSuccess(status: DeliveryRecord['status']): boolean {
  return typeof status === 'number' && status >= 200 && status < 300;
}

/** A subscription as Twitch shows it: no secret (§3.8); key order of the §4.2 test vector. */
function subscriptionView(s: FakeEventSubSubscription) {
  return {
    id: s.id,
    status: s.status,
    type: s.type,
    version: s.version,
    condition: { ...s.condition },
    transport: { method: 'webhook', callback: s.callback },
    created_at: s.createdAt,
    cost: s.cost,
  };
}

/** §4.5 `stream.online` event. */
function onlineEvent(stream: FakeStream, user: FakeUser) {
  return {
    id: stream.id,
    broadcaster_user_id: user.id,
    broadcaster_user_login: user.login,
    broadcaster_user_name: user.displayName,
    type: 'live',
    started_at: stream.startedAt,
  };
}

/** §4.5 `stream.offline` event: no stream ID, no time. */
function offlineEvent(user: FakeUser) {
  return {
    broadcaster_user_id: user.id,
    broadcaster_user_login: user.login,
    broadcaster_user_name: user.displayName,
  };
}

// ── Routes ──────────────────────────────────────────────────────────────────────────────────

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
};

/** Points per minute of the app's bucket (§2.3's default figure). */
const BUCKET_POINTS = 800;
const BUCKET_WINDOW_MS = 60_000;

/** The routes know the calling app once its token checked out. */
export type EventSubRoutesEnv = { Variables: { clientId: string } };

function helixError(c: Context, status: 400 | 401 | 404 | 409 | 429, message: string): Response {
  return c.json({ error: REASONS[status], status, message }, status);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Opaque-looking cursor holding an offset (§2.4 allows a fake to encode one). */
function encodeCursor(offset: number): string {
  return Buffer.from(`eventsub:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^eventsub:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : undefined;
}

/** Callback rules of §3.8: HTTPS on 443, unless the fake allows plain HTTP on any port. */
function callbackProblem(callback: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(callback);
  } catch {
    return 'invalid transport callback';
  }
  if (allowInsecure && (url.protocol === 'http:' || url.protocol === 'https:')) return undefined;
  if (url.protocol !== 'https:') return 'invalid transport callback: must be https';
  if (url.port !== '' && url.port !== '443') return 'invalid transport callback: must use port 443';
  return undefined;
}

/**
 * `POST|GET|DELETE /subscriptions` (§3.8), mounted by server.ts at `/helix/eventsub` and at the
 * Twitch CLI mock layout's `/eventsub`. All three need an app access token (webhook transport).
 */
export function eventSubRoutes(world: TwitchWorld, sender: EventSubSender): Hono<EventSubRoutesEnv> {
  const app = new Hono<EventSubRoutesEnv>();
  const buckets = new Map<string, { windowStart: number; used: number }>();

  app.use('*', async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) return helixError(c, 401, 'OAuth token is missing');
    const token = world.liveToken(match[1]!);
    if (!token) return helixError(c, 401, 'Invalid OAuth token');
    if (c.req.header('client-id') !== token.clientId) {
      return helixError(c, 401, 'Client ID and OAuth token do not match');
    }
    if (token.userId !== undefined) {
      return helixError(c, 401, 'An app access token is required for the webhook transport');
    }
    // The app's point bucket (§2.3); one point per call.
    const now = world.clock.now();
    let bucket = buckets.get(token.clientId);
    if (!bucket || now >= bucket.windowStart + BUCKET_WINDOW_MS) {
      bucket = { windowStart: now, used: 0 };
      buckets.set(token.clientId, bucket);
    }
    const exhausted = bucket.used >= BUCKET_POINTS;
    if (!exhausted) bucket.used++;
    const headers = {
      'Ratelimit-Limit': String(BUCKET_POINTS),
      'Ratelimit-Remaining': String(BUCKET_POINTS - bucket.used),
      'Ratelimit-Reset': String(Math.ceil((bucket.windowStart + BUCKET_WINDOW_MS) / 1000)),
    };
    if (exhausted) {
      const res = helixError(c, 429, 'Too Many Requests');
      for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
      return res;
    }
    c.set('clientId', token.clientId);
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  });

  const totals = (clientId: string) => ({
    total: sender.subscriptionsOf(clientId).length,
    total_cost: sender.totalCost(clientId),
    max_total_cost: sender.settings.maxTotalCost,
  });

  app.post('/subscriptions', async (c) => {
    const clientId = c.get('clientId');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return helixError(c, 400, 'Malformed request body');
    }
    if (!isRecord(body)) return helixError(c, 400, 'Malformed request body');
    const { type, version, condition, transport } = body;
    if (typeof type !== 'string' || typeof version !== 'string' || SUPPORTED_TYPES.get(type) !== version) {
      return helixError(c, 400, 'The combination of values in the type and version fields is not valid');
    }
    const broadcasterUserId = isRecord(condition) ? condition.broadcaster_user_id : undefined;
    if (typeof broadcasterUserId !== 'string' || !/^\d+$/.test(broadcasterUserId)) {
      return helixError(c, 400, 'missing or invalid condition: broadcaster_user_id');
    }
    if (!world.users.has(broadcasterUserId)) {
      return helixError(c, 400, `invalid condition: user ${broadcasterUserId} does not exist`);
    }
    if (!isRecord(transport) || transport.method !== 'webhook') {
      return helixError(c, 400, 'invalid transport method');
    }
    const { callback, secret } = transport;
    if (typeof callback !== 'string') return helixError(c, 400, 'missing transport callback');
    const problem = callbackProblem(callback, sender.settings.allowInsecureCallbacks);
    if (problem) return helixError(c, 400, problem);
    if (typeof secret !== 'string' || !/^[\x20-\x7e]{10,100}$/.test(secret)) {
      return helixError(c, 400, 'invalid transport secret: must be 10-100 ASCII characters');
    }
    const duplicate = sender
      .subscriptionsOf(clientId)
      .some(
        (s) =>
          COSTED_STATUSES.has(s.status) &&
          s.type === type &&
          s.condition.broadcaster_user_id === broadcasterUserId,
      );
    if (duplicate) return helixError(c, 409, 'subscription already exists');
    const created = sender.create({ clientId, type, version, broadcasterUserId, callback, secret });
    return c.json({ data: [createdView(created)], ...totals(clientId) }, 202);
  });

  app.get('/subscriptions', (c) => {
    const clientId = c.get('clientId');
    const filters = ['status', 'type', 'user_id', 'subscription_id'].filter(
      (f) => c.req.query(f) !== undefined,
    );
    if (filters.length > 1) {
      return helixError(c, 400, `only one filter may be used at a time, got ${filters.join(', ')}`);
    }
    let offset = 0;
    const after = c.req.query('after');
    if (after !== undefined) {
      const decoded = decodeCursor(after);
      if (decoded === undefined) return helixError(c, 400, 'invalid cursor');
      offset = decoded;
    }
    const status = c.req.query('status');
    const type = c.req.query('type');
    const userId = c.req.query('user_id');
    const subscriptionId = c.req.query('subscription_id');
    const matching = sender
      .subscriptionsOf(clientId)
      .filter(
        (s) =>
          (status === undefined || s.status === status) &&
          (type === undefined || s.type === type) &&
          (userId === undefined || s.condition.broadcaster_user_id === userId) &&
          (subscriptionId === undefined || s.id === subscriptionId),
      );
    const end = offset + sender.settings.pageSize;
    return c.json({
      data: matching.slice(offset, end).map(createdView),
      ...totals(clientId),
      pagination: end < matching.length ? { cursor: encodeCursor(end) } : {},
    });
  });

  app.delete('/subscriptions', (c) => {
    const id = c.req.query('id');
    if (!id) return helixError(c, 400, 'Missing required parameter "id"');
    const s = sender.subscriptions.get(id);
    if (!s || s.clientId !== c.get('clientId')) return helixError(c, 404, 'subscription not found');
    sender.subscriptions.delete(id);
    return c.body(null, 204);
  });

  return app;
}

/** A subscription in a Helix response: the key order of §3.8's example. */
function createdView(s: FakeEventSubSubscription) {
  return {
    id: s.id,
    status: s.status,
    type: s.type,
    version: s.version,
    condition: { ...s.condition },
    created_at: s.createdAt,
    transport: { method: 'webhook', callback: s.callback },
    cost: s.cost,
  };
}
