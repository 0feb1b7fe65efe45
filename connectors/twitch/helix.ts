/**
 * Our Helix client (contracts/twitch.md §2, §3.1, §3.2, §3.5, §3.6): the top live streams, users,
 * Create Clip and Get Clips, with tokens from a twurple `AuthProvider`, a clock-driven exponential
 * backoff on 5xx and network failures, waits until `Ratelimit-Reset` on 429, and counters for
 * metrics.
 *
 * Why the calls do not go through twurple's `ApiClient`: its request path retries 5xx and network
 * failures three times on wall-clock timers (500/1000/2000 ms, not configurable:
 * `BaseApiClient._callApiInternal`) and sleeps through 429s by `Date.now()` (`HelixRateLimiter`),
 * reporting only the final status. That would hide errors from our counters, retry Create Clip
 * behind the highlights job's own schedule, and take every wait away from the injected clock.
 * So twurple does what it is good at — tokens, their refresh, and the Twitch CLI mock layout that
 * `TWURPLE_MOCK_API_PORT` selects — and this module does the HTTP, the retries and the rate-limit
 * waits, each once.
 */
import type { AccessTokenMaybeWithUserId, AuthProvider } from '@twurple/auth';
import type { Clock } from '../../pipeline/time/clock.ts';
import type { StreamSnapshot } from '../../schemas/avro-types.ts';
import type {
  HelixClipWire,
  HelixCreatedClipWire,
  HelixErrorBodyWire,
  HelixListWire,
  HelixStreamWire,
  HelixUserWire,
} from './helix.wire.ts';

export const HELIX_URL = 'https://api.twitch.tv/helix';
/** Get Streams' largest page: one point buys 100 streams. */
const PAGE_SIZE = 100;
/** Helix takes at most 100 values of a repeated parameter (ids plus logins for Get Users). */
const MAX_VALUES = 100;
/**
 * Pages beyond `limit / 100` that `topStreams` may read to make up for repeated items (Get Streams
 * repeats streams across pages as viewer counts move). More only costs points; fewer returns a
 * short list when counts churn.
 */
const EXTRA_PAGES = 2;
/** 429s in a row one call waits through before it gives up; a bucket refills within a minute. */
const MAX_RATE_LIMIT_WAITS = 3;
/**
 * The shortest wait on a 429: a `Ratelimit-Reset` already past (our clock behind Twitch's) would
 * otherwise make the retry immediate, and a loop of those hammers Twitch.
 */
const MIN_RATE_LIMIT_WAIT_MS = 1_000;
/** The longest wait on a 429: a reset further ahead than a full refill means the clocks disagree. */
const MAX_RATE_LIMIT_WAIT_MS = 61_000;
/** Stream previews come as `…-{width}x{height}.jpg`; this size is what the web page shows. */
const THUMBNAIL_WIDTH = 440;
const THUMBNAIL_HEIGHT = 248;

export type HelixErrorKind =
  | 'auth'
  | 'forbidden'
  | 'not-found'
  | 'bad-request'
  | 'rate-limit'
  | 'server'
  | 'network'
  | 'timeout'
  | 'bad-response';

/** A Helix call that failed; `status` is the HTTP status when Twitch answered. */
export class HelixError extends Error {
  override name = 'HelixError';
  constructor(
    message: string,
    readonly kind: HelixErrorKind,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HelixRetryOptions {
  /** Tries per call on 5xx and network failures, the first included (default 4). */
  readonly attempts?: number;
  /** Wait before the first retry; each next one doubles (default 500 ms). */
  readonly baseDelayMs?: number;
  /** Ceiling of one wait (default 8 s). */
  readonly maxDelayMs?: number;
}

/** What the client did, for metrics and logs. */
export type HelixEvent =
  /** One HTTP exchange; `status` is absent when the request never got an answer. */
  | { readonly type: 'request'; readonly endpoint: string; readonly status?: number }
  /** A failed exchange (or no usable token), counted by kind. */
  | { readonly type: 'error'; readonly endpoint: string; readonly error: HelixError }
  /** A backoff before the next attempt. */
  | { readonly type: 'retry'; readonly endpoint: string; readonly attempt: number; readonly delayMs: number }
  /** A wait for the rate-limit bucket (after a 429, or before a call when it is known to be empty). */
  | { readonly type: 'rate-limit-wait'; readonly endpoint: string; readonly waitMs: number };

export interface HelixStats {
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  readonly errors: Readonly<Record<HelixErrorKind, number>>;
  readonly retries: number;
  readonly rateLimitWaits: number;
  readonly rateLimitWaitMs: number;
}

export interface HelixClientOptions {
  readonly authProvider: AuthProvider;
  readonly clock: Clock;
  /** Default: `helixBaseUrl()` (Twitch, or the mock API when `TWURPLE_MOCK_API_PORT` is set). */
  readonly baseUrl?: string;
  /**
   * The user whose token Create Clip uses (it needs a user token with `clips:edit`); default: the
   * provider's `getAnyAccessToken()`.
   */
  readonly clipUserId?: string;
  readonly retry?: HelixRetryOptions;
  /** One request's time limit, on the clock (default 10 s). */
  readonly timeoutMs?: number;
  readonly onEvent?: (event: HelixEvent) => void;
}

export interface HelixCallOptions {
  readonly signal?: AbortSignal;
  /**
   * `false`: one attempt and no waits — a 429 or 5xx fails at once (the caller owns the schedule,
   * as the highlights job does for clips). Default true.
   */
  readonly retry?: boolean;
}

/**
 * A live stream as Get Streams lists it: a snapshot before the poll stamps and ranks it (the
 * same as operators/monitor's `TopStream`).
 */
export type LiveStream = Omit<StreamSnapshot, 'collected_at' | 'rank'>;

/** A Twitch user as Get Users describes it. */
export interface TwitchUser {
  readonly id: number;
  readonly login: string;
  readonly displayName: string;
  readonly broadcasterType: '' | 'affiliate' | 'partner';
  readonly profileImageUrl: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface CreatedClip {
  readonly id: string;
  readonly editUrl: string;
}

/** A published clip as Get Clips describes it. */
export interface TwitchClip {
  readonly id: string;
  readonly url: string;
  readonly embedUrl: string;
  readonly thumbnailUrl: string;
  readonly broadcasterId: number;
  readonly broadcasterName: string;
  readonly creatorName: string;
  readonly title: string;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly durationS: number;
}

/** Where Helix lives: Twitch, or the Twitch CLI mock API on `TWURPLE_MOCK_API_PORT` (as twurple does). */
export function helixBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = env.TWURPLE_MOCK_API_PORT;
  return port ? `http://localhost:${port}/mock` : HELIX_URL;
}

type Query = Record<string, string | readonly string[] | undefined>;

interface Exchange {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly text: string;
}

const ERROR_KINDS: readonly HelixErrorKind[] = [
  'auth',
  'forbidden',
  'not-found',
  'bad-request',
  'rate-limit',
  'server',
  'network',
  'timeout',
  'bad-response',
];

function kindOf(status: number): HelixErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limit';
  if (status >= 500) return 'server';
  return 'bad-request';
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}

function broadcasterId(id: string, endpoint: string): number {
  const n = Number(id);
  if (!/^\d+$/.test(id) || !Number.isSafeInteger(n))
    throw new HelixError(`Twitch Helix ${endpoint} returned a non-numeric user id "${id}"`, 'bad-response');
  return n;
}

function timeOf(rfc3339: string, endpoint: string): number {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms))
    throw new HelixError(`Twitch Helix ${endpoint} returned a bad timestamp "${rfc3339}"`, 'bad-response');
  return ms;
}

/**
 * @example
 * import { StaticAuthProvider } from '@twurple/auth';
 * import { SystemClock } from '../../pipeline/time/clock.ts';
 *
 * const helix = new HelixClient({
 *   authProvider: new StaticAuthProvider('my-client-id', 'my-user-token'),
 *   clock: new SystemClock(),
 *   onEvent: (e) => e.type === 'rate-limit-wait' && console.warn(`waiting ${e.waitMs} ms`),
 * });
 * const top = await helix.topStreams(100);
 */
export class HelixClient {
  readonly baseUrl: string;
  private readonly provider: AuthProvider;
  private readonly clock: Clock;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly clipUserId: string | undefined;
  private readonly onEvent: ((event: HelixEvent) => void) | undefined;
  private readonly counters = {
    requests: 0,
    retries: 0,
    rateLimitWaits: 0,
    rateLimitWaitMs: 0,
    errors: Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<HelixErrorKind, number>,
  };
  /** The last bucket state Twitch reported, per bucket (a user, or the app). */
  private readonly buckets = new Map<string, { remaining: number; resetAt: number }>();

  constructor(options: HelixClientOptions) {
    this.provider = options.authProvider;
    this.clock = options.clock;
    this.baseUrl = (options.baseUrl ?? helixBaseUrl()).replace(/\/+$/, '');
    this.attempts = Math.max(1, options.retry?.attempts ?? 4);
    this.baseDelayMs = options.retry?.baseDelayMs ?? 500;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 8_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clipUserId = options.clipUserId;
    this.onEvent = options.onEvent;
  }

  /** The counters so far (a copy). */
  stats(): HelixStats {
    return { ...this.counters, errors: { ...this.counters.errors } };
  }

  /**
   * The `limit` most-watched live streams in Twitch's order, each stream once: pages through Get
   * Streams 100 at a time, dropping streams a later page repeats.
   */
  async topStreams(limit = 100, options: HelixCallOptions = {}): Promise<LiveStream[]> {
    const seen = new Set<string>();
    const streams: LiveStream[] = [];
    let cursor: string | undefined;
    const maxPages = Math.ceil(limit / PAGE_SIZE) + EXTRA_PAGES;
    for (let page = 0; page < maxPages && streams.length < limit; page++) {
      const list = await this.request<HelixListWire<HelixStreamWire>>(
        'GET',
        'streams',
        { first: String(PAGE_SIZE), after: cursor },
        options,
      );
      for (const s of list.data) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        streams.push(this.toLiveStream(s));
        if (streams.length === limit) break;
      }
      cursor = list.pagination?.cursor;
      if (!cursor || list.data.length === 0) break;
    }
    return streams;
  }

  /** Users by id and/or login (unknown ones are left out), 100 a request. */
  async users(
    query: { readonly ids?: readonly (string | number)[]; readonly logins?: readonly string[] },
    options: HelixCallOptions = {},
  ): Promise<TwitchUser[]> {
    const wanted = [
      ...(query.ids ?? []).map((id) => ['id', String(id)] as const),
      ...(query.logins ?? []).map((login) => ['login', login.toLowerCase()] as const),
    ];
    const users: TwitchUser[] = [];
    for (let i = 0; i < wanted.length; i += MAX_VALUES) {
      const chunk = wanted.slice(i, i + MAX_VALUES);
      const pick = (name: string) => chunk.filter(([k]) => k === name).map(([, v]) => v);
      const ids = pick('id');
      const logins = pick('login');
      const list = await this.request<HelixListWire<HelixUserWire>>(
        'GET',
        'users',
        { id: ids.length ? ids : undefined, login: logins.length ? logins : undefined },
        options,
      );
      for (const u of list.data) {
        users.push({
          id: broadcasterId(u.id, 'GET /users'),
          login: u.login,
          displayName: u.display_name,
          broadcasterType: u.broadcaster_type,
          profileImageUrl: u.profile_image_url,
          createdAt: timeOf(u.created_at, 'GET /users'),
        });
      }
    }
    return users;
  }

  /**
   * Create Clip (asynchronous: Twitch accepts it with 202; Get Clips shows it once processed).
   * Needs a user token with `clips:edit` (see `clipUserId`).
   */
  async createClip(
    broadcaster: number | string,
    options: HelixCallOptions & { readonly hasDelay?: boolean } = {},
  ): Promise<CreatedClip> {
    const list = await this.request<HelixListWire<HelixCreatedClipWire>>(
      'POST',
      'clips',
      {
        broadcaster_id: String(broadcaster),
        has_delay: options.hasDelay === undefined ? undefined : String(options.hasDelay),
      },
      options,
      true,
    );
    const created = list.data[0];
    if (!created)
      throw new HelixError('Twitch Helix POST /clips accepted the clip but returned no id', 'bad-response');
    return { id: created.id, editUrl: created.edit_url };
  }

  /** Get Clips by id: the published ones, in the order asked; a clip still processing is absent. */
  async clipsById(ids: readonly string[], options: HelixCallOptions = {}): Promise<TwitchClip[]> {
    const clips: TwitchClip[] = [];
    for (let i = 0; i < ids.length; i += MAX_VALUES) {
      const list = await this.request<HelixListWire<HelixClipWire>>(
        'GET',
        'clips',
        { id: ids.slice(i, i + MAX_VALUES) },
        options,
      );
      for (const c of list.data) {
        clips.push({
          id: c.id,
          url: c.url,
          embedUrl: c.embed_url,
          thumbnailUrl: c.thumbnail_url,
          broadcasterId: broadcasterId(c.broadcaster_id, 'GET /clips'),
          broadcasterName: c.broadcaster_name,
          creatorName: c.creator_name,
          title: c.title,
          createdAt: timeOf(c.created_at, 'GET /clips'),
          durationS: c.duration,
        });
      }
    }
    return clips;
  }

  private toLiveStream(s: HelixStreamWire): LiveStream {
    return {
      stream_id: s.id,
      broadcaster_id: broadcasterId(s.user_id, 'GET /streams'),
      broadcaster_login: s.user_login,
      broadcaster_name: s.user_name,
      game_id: s.game_id,
      game_name: s.game_name,
      title: s.title,
      viewer_count: s.viewer_count,
      language: s.language,
      started_at: timeOf(s.started_at, 'GET /streams'),
      thumbnail_url: s.thumbnail_url
        ? s.thumbnail_url
            .replace('{width}', String(THUMBNAIL_WIDTH))
            .replace('{height}', String(THUMBNAIL_HEIGHT))
        : null,
    };
  }

  /**
   * One Helix call: at most `attempts` tries on 5xx and network failures with doubling waits, up
   * to `MAX_RATE_LIMIT_WAITS` waits until `Ratelimit-Reset` on 429, one token refresh on 401.
   */
  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    options: HelixCallOptions,
    needsUser = false,
  ): Promise<T> {
    const endpoint = `${method} /${path}`;
    const patient = options.retry ?? true;
    const url = this.url(path, query);
    let token = await this.token(endpoint, needsUser);
    let refreshed = false;
    let failures = 0;
    let rateLimitWaits = 0;
    for (;;) {
      const bucket = token.userId ?? '';
      if (patient) await this.waitForBucket(bucket, endpoint, options.signal);
      let exchange: Exchange;
      try {
        exchange = await this.send(method, url, token.accessToken, endpoint, options.signal);
      } catch (e) {
        if (!(e instanceof HelixError)) throw e; // the caller aborted
        this.fail(endpoint, e);
        failures += 1;
        if (patient && failures < this.attempts) {
          await this.backoff(endpoint, failures, options.signal);
          continue;
        }
        throw e;
      }
      this.note(bucket, exchange.headers);
      if (exchange.status >= 200 && exchange.status < 300) return this.parse<T>(exchange, endpoint);

      const error = this.answerError(endpoint, exchange);
      this.fail(endpoint, error);
      if (exchange.status === 401 && !refreshed) {
        const fresh = await this.refresh(token);
        if (fresh) {
          token = fresh;
          refreshed = true;
          continue;
        }
      }
      if (exchange.status === 429 && patient && rateLimitWaits < MAX_RATE_LIMIT_WAITS) {
        rateLimitWaits += 1;
        const reset = Number(exchange.headers.get('ratelimit-reset'));
        const waitMs = Number.isFinite(reset) && reset > 0 ? reset * 1000 - this.clock.now() : 0;
        this.buckets.delete(bucket);
        await this.rateLimitWait(
          endpoint,
          Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(MIN_RATE_LIMIT_WAIT_MS, waitMs)),
          options.signal,
        );
        continue;
      }
      if (exchange.status >= 500 && patient) {
        failures += 1;
        if (failures < this.attempts) {
          await this.backoff(endpoint, failures, options.signal);
          continue;
        }
      }
      throw error;
    }
  }

  private url(path: string, query: Query): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
    }
    const qs = params.toString();
    return `${this.baseUrl}/${path}${qs ? `?${qs}` : ''}`;
  }

  private async token(endpoint: string, needsUser: boolean): Promise<AccessTokenMaybeWithUserId> {
    let token: AccessTokenMaybeWithUserId | null;
    try {
      token =
        needsUser && this.clipUserId !== undefined
          ? await this.provider.getAccessTokenForUser(this.clipUserId)
          : await this.provider.getAnyAccessToken();
    } catch (e) {
      throw this.fail(
        endpoint,
        new HelixError(`Twitch Helix ${endpoint}: no usable access token (${oneLine(e)})`, 'auth'),
      );
    }
    if (!token)
      throw this.fail(
        endpoint,
        new HelixError(
          `Twitch Helix ${endpoint}: the auth provider has no token for user ${this.clipUserId}`,
          'auth',
        ),
      );
    if (needsUser && token.userId === undefined)
      throw this.fail(
        endpoint,
        new HelixError(
          `Twitch Helix ${endpoint} needs a user access token with clips:edit, but the auth provider gave an app token`,
          'auth',
        ),
      );
    return token;
  }

  /** On a 401: a fresh token from the provider if it can refresh (Twitch: refresh reactively). */
  private async refresh(token: AccessTokenMaybeWithUserId): Promise<AccessTokenMaybeWithUserId | undefined> {
    try {
      if (token.userId !== undefined && this.provider.refreshAccessTokenForUser)
        return await this.provider.refreshAccessTokenForUser(token.userId);
      if (token.userId === undefined && this.provider.getAppAccessToken)
        return await this.provider.getAppAccessToken(true);
    } catch {
      // The refresh failed too; the 401 is the error to report.
    }
    return undefined;
  }

  /** One HTTP exchange with its body, under the time limit. Network failures become HelixErrors. */
  private async send(
    method: string,
    url: string,
    accessToken: string,
    endpoint: string,
    signal: AbortSignal | undefined,
  ): Promise<Exchange> {
    const timeout = new AbortController();
    const cancel = this.clock.schedule(this.clock.now() + this.timeoutMs, () => timeout.abort());
    this.counters.requests += 1;
    try {
      const response = await fetch(url, {
        method,
        headers: {
          Accept: 'application/json',
          Authorization: `${this.provider.authorizationType ?? 'Bearer'} ${accessToken}`,
          'Client-Id': this.provider.clientId,
        },
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
      const text = await response.text();
      this.onEvent?.({ type: 'request', endpoint, status: response.status });
      return { status: response.status, statusText: response.statusText, headers: response.headers, text };
    } catch (e) {
      this.onEvent?.({ type: 'request', endpoint });
      if (signal?.aborted) throw signal.reason ?? e;
      if (timeout.signal.aborted)
        throw new HelixError(`Twitch Helix ${endpoint} timed out after ${this.timeoutMs} ms`, 'timeout');
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${oneLine(e.cause)}` : '';
      throw new HelixError(`Twitch Helix ${endpoint} failed: ${oneLine(e)}${cause}`, 'network');
    } finally {
      cancel();
    }
  }

  private parse<T>(exchange: Exchange, endpoint: string): T {
    try {
      return JSON.parse(exchange.text) as T;
    } catch {
      throw this.fail(
        endpoint,
        new HelixError(
          `Twitch Helix ${endpoint} answered ${exchange.status} with a body that is not JSON`,
          'bad-response',
          exchange.status,
        ),
      );
    }
  }

  private answerError(endpoint: string, exchange: Exchange): HelixError {
    let body: Partial<HelixErrorBodyWire> = {};
    try {
      body = JSON.parse(exchange.text) as HelixErrorBodyWire;
    } catch {
      // Not Twitch's error body (a proxy's page, say): the status line says enough.
    }
    const reason = body.error || exchange.statusText || 'error';
    const detail = body.message ? `: ${oneLine(body.message)}` : '';
    const hint =
      exchange.status === 401
        ? ' (the access token is invalid, expired, lacks a scope or belongs to another client id)'
        : '';
    return new HelixError(
      `Twitch Helix ${endpoint} answered ${exchange.status} ${reason}${detail}${hint}`,
      kindOf(exchange.status),
      exchange.status,
    );
  }

  private fail(endpoint: string, error: HelixError): HelixError {
    this.counters.errors[error.kind] += 1;
    this.onEvent?.({ type: 'error', endpoint, error });
    return error;
  }

  private note(bucket: string, headers: Headers): void {
    const remaining = Number(headers.get('ratelimit-remaining') ?? Number.NaN);
    const reset = Number(headers.get('ratelimit-reset') ?? Number.NaN);
    if (Number.isFinite(remaining) && Number.isFinite(reset))
      this.buckets.set(bucket, { remaining, resetAt: reset * 1000 });
  }

  /** Twitch said the bucket is empty: wait for the reset instead of spending a request on a 429. */
  private async waitForBucket(
    bucket: string,
    endpoint: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const known = this.buckets.get(bucket);
    if (!known || known.remaining > 0) return;
    this.buckets.delete(bucket);
    const waitMs = Math.min(MAX_RATE_LIMIT_WAIT_MS, known.resetAt - this.clock.now());
    if (waitMs > 0) await this.rateLimitWait(endpoint, waitMs, signal);
  }

  private async rateLimitWait(
    endpoint: string,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.counters.rateLimitWaits += 1;
    this.counters.rateLimitWaitMs += waitMs;
    this.onEvent?.({ type: 'rate-limit-wait', endpoint, waitMs });
    await this.sleep(waitMs, signal);
  }

  private async backoff(endpoint: string, failures: number, signal: AbortSignal | undefined): Promise<void> {
    const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (failures - 1));
    this.counters.retries += 1;
    this.onEvent?.({ type: 'retry', endpoint, attempt: failures + 1, delayMs });
    await this.sleep(delayMs, signal);
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const onAbort = () => {
        cancel();
        reject(signal?.reason);
      };
      const cancel = this.clock.schedule(this.clock.now() + ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
