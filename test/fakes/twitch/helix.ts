/**
 * Fake Helix (contracts/twitch.md §2, §3.1, §3.2, §3.5, §3.6): Get Streams, Get Users, Create Clip and
 * Get Clips over the shared world, with Twitch's common rules — `Authorization: Bearer` plus a
 * matching `Client-Id`, `{error,status,message}` error bodies, a token bucket per app and per
 * (client, user) with `Ratelimit-*` headers on every answer, repeated parameters (≤ 100), `first`
 * 1..100 and opaque offset cursors. Hooks let a test script failures, drain the bucket, hold clips
 * back and count calls.
 */
import { STATUS_CODES } from 'node:http';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type FakeClip, type FakeStream, type FakeToken, rfc3339, type TwitchWorld } from './world.ts';

/** The endpoints this module serves, as hooks name them. */
export type HelixEndpoint = 'GET /streams' | 'GET /users' | 'POST /clips' | 'GET /clips';

export interface InjectedFailure {
  /** Answers this many calls (default 1). */
  readonly count?: number;
  /** The error body's `message` (default `""`). */
  readonly message?: string;
  /** For a 429: how far ahead `Ratelimit-Reset` lies, ms (default 1000). */
  readonly resetInMs?: number;
}

/** Test hooks: inject failures, drain the rate-limit bucket, hold clips back, count calls. */
export interface HelixHooks {
  /**
   * The next calls of `endpoint` that pass authentication and the rate limit answer `status`
   * with Twitch's error body instead (a 429 also says `Ratelimit-Remaining: 0`).
   */
  failNext(endpoint: HelixEndpoint, status: number, failure?: InjectedFailure): void;
  /** Empties every rate-limit bucket, or only the one `accessToken` draws from. */
  drainBucket(accessToken?: string): void;
  /** Bucket size and refill, points per minute, for every bucket (default 800). */
  setRateLimit(pointsPerMinute: number): void;
  /** How long a created clip stays invisible to Get Clips, world-clock ms; 'never' = a failed clip. */
  setClipDelay(delay: number | 'never'): void;
  /** Calls of `endpoint` so far, counted on arrival (rejected ones too). */
  calls(endpoint: HelixEndpoint): number;
  /**
   * Runs `fn` when a call of `endpoint` arrives, before it is answered, with the call's 1-based
   * number — to change the world between two pages, say. Returns a function that removes it.
   */
  onCall(endpoint: HelixEndpoint, fn: (n: number) => void): () => void;
}

export interface HelixFakeOptions {
  /** Points per minute (default 800, Twitch's documented default). */
  readonly pointsPerMinute?: number;
  /** Create Clip → visible in Get Clips, world-clock ms (default 5 s). */
  readonly clipDelayMs?: number;
}

/** Twitch's most values per repeated parameter, and the largest page. */
const MAX_VALUES = 100;
const MAX_FIRST = 100;
const DEFAULT_FIRST = 20;
/** Get Clips' default window after `started_at` (contract §3.6). */
const CLIP_WINDOW_MS = 7 * 24 * 3600 * 1000;
const MINUTE_MS = 60_000;

/** A token bucket that refills continuously at `limit` points per minute up to `limit`. */
class Bucket {
  private points: number;
  private updatedAt: number;

  constructor(
    public limit: number,
    now: number,
  ) {
    this.points = limit;
    this.updatedAt = now;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.points < 1) return false;
    this.points -= 1;
    return true;
  }

  drain(now: number): void {
    this.refill(now);
    this.points = 0;
  }

  resize(limit: number, now: number): void {
    this.refill(now);
    this.limit = limit;
    this.points = Math.min(this.points, limit);
  }

  headers(now: number): Record<string, string> {
    this.refill(now);
    const fullAt = now + ((this.limit - this.points) * MINUTE_MS) / this.limit;
    return {
      'Ratelimit-Limit': String(this.limit),
      'Ratelimit-Remaining': String(Math.floor(this.points)),
      'Ratelimit-Reset': String(Math.ceil(fullAt / 1000)),
    };
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.points = Math.min(this.limit, this.points + (elapsed * this.limit) / MINUTE_MS);
    this.updatedAt = now;
  }
}

/** Thrown inside a handler to answer with Twitch's error body. */
class HelixReject {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

function errorBody(status: number, message: string) {
  return { error: STATUS_CODES[status] ?? 'Error', status, message };
}

/** The offset cursor, shaped like Twitch's own (`{"b":…,"a":{"Offset":20}}`, base64). */
interface Cursor {
  readonly b: { readonly Offset: number } | null;
  readonly a: { readonly Offset: number } | null;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new HelixReject(400, 'Invalid cursor');
  }
  const offset = (v: unknown) =>
    v === null || (typeof v === 'object' && Number.isInteger((v as { Offset?: unknown }).Offset));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !offset((parsed as Cursor).a) ||
    !offset((parsed as Cursor).b)
  )
    throw new HelixReject(400, 'Invalid cursor');
  return parsed as Cursor;
}

function parseFirst(c: Context): number {
  const text = c.req.query('first');
  if (text === undefined) return DEFAULT_FIRST;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_FIRST)) throw new HelixReject(400, `Invalid value for "first": ${text}`);
  return n;
}

/** One page of `items` (already in order) by `first`, `after` and `before`. */
function paginate<T>(c: Context, items: readonly T[]): { data: T[]; pagination: { cursor?: string } } {
  const first = parseFirst(c);
  const after = c.req.query('after');
  const before = c.req.query('before');
  let start = 0;
  let end = first;
  if (after !== undefined) {
    const offset = decodeCursor(after).a?.Offset;
    if (offset === undefined || offset < 0) throw new HelixReject(400, 'Invalid cursor');
    start = offset;
    end = offset + first;
  } else if (before !== undefined) {
    const offset = decodeCursor(before).b?.Offset;
    if (offset === undefined || offset < 0) throw new HelixReject(400, 'Invalid cursor');
    start = Math.max(0, offset - first);
    end = offset;
  }
  const data = items.slice(start, end);
  const next = start + data.length;
  const pagination =
    next < items.length
      ? { cursor: encodeCursor({ b: start > 0 ? { Offset: start } : null, a: { Offset: next } }) }
      : {};
  return { data, pagination };
}

/** A repeated parameter's values (≤ 100), or undefined when absent. */
function repeated(c: Context, name: string): string[] | undefined {
  const values = c.req.queries(name);
  if (values && values.length > MAX_VALUES)
    throw new HelixReject(
      400,
      `The parameter "${name}" was malformed: the value must be at most ${MAX_VALUES} items`,
    );
  return values;
}

function parseTime(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text)
    ? Date.parse(text)
    : Number.NaN;
  if (Number.isNaN(ms)) throw new HelixReject(400, `Invalid value for "${name}": ${text}`);
  return ms;
}

/**
 * The Helix routes over `world`, for server.ts to mount at `/helix` and `/mock`.
 *
 * @example
 * const { routes, hooks } = helixRoutes(world);
 * hooks.failNext('POST /clips', 503);
 */
export function helixRoutes(
  world: TwitchWorld,
  options: HelixFakeOptions = {},
): { routes: Hono; hooks: HelixHooks } {
  let pointsPerMinute = options.pointsPerMinute ?? 800;
  let clipDelayMs: number = options.clipDelayMs ?? 5_000;
  const buckets = new Map<string, Bucket>();
  const failures = new Map<HelixEndpoint, { status: number; failure: InjectedFailure; left: number }[]>();
  const callCounts = new Map<HelixEndpoint, number>();
  const listeners = new Map<HelixEndpoint, Set<(n: number) => void>>();

  const bucketKey = (token: FakeToken) =>
    token.userId === undefined ? `app:${token.clientId}` : `user:${token.clientId}:${token.userId}`;
  const bucket = (key: string): Bucket => {
    let b = buckets.get(key);
    if (!b) {
      b = new Bucket(pointsPerMinute, world.clock.now());
      buckets.set(key, b);
    }
    return b;
  };

  const reply = (c: Context, status: number, message: string) =>
    c.json(errorBody(status, message), status as ContentfulStatusCode);

  /** Authentication, the rate limit and injected failures, then `handler` with the caller's token. */
  const endpoint =
    (name: HelixEndpoint, handler: (c: Context, token: FakeToken) => Response) =>
    async (c: Context): Promise<Response> => {
      const n = (callCounts.get(name) ?? 0) + 1;
      callCounts.set(name, n);
      for (const fn of listeners.get(name) ?? []) fn(n);
      const now = world.clock.now();
      const clientId = c.req.header('client-id') ?? '';
      const authorization = c.req.header('authorization');
      const token = authorization?.startsWith('Bearer ')
        ? world.liveToken(authorization.slice('Bearer '.length).trim())
        : undefined;
      const rejectAuth = (message: string) => {
        // Unauthenticated calls still carry the headers; they draw from the claimed client's bucket.
        const b = bucket(`anon:${clientId}`);
        b.take(now);
        for (const [k, v] of Object.entries(b.headers(now))) c.header(k, v);
        return reply(c, 401, message);
      };
      if (!authorization) return rejectAuth('OAuth token is missing');
      if (!token) return rejectAuth('Invalid OAuth token');
      if (!clientId) return rejectAuth('Client ID is missing');
      if (token.clientId !== clientId) return rejectAuth('Client ID and OAuth token do not match');

      const b = bucket(bucketKey(token));
      const allowed = b.take(now);
      for (const [k, v] of Object.entries(b.headers(now))) c.header(k, v);
      if (!allowed) return reply(c, 429, 'Too Many Requests');

      const queue = failures.get(name);
      const injected = queue?.[0];
      if (queue && injected) {
        injected.left -= 1;
        if (injected.left <= 0) queue.shift();
        if (injected.status === 429) {
          c.header('Ratelimit-Remaining', '0');
          c.header('Ratelimit-Reset', String(Math.ceil((now + (injected.failure.resetInMs ?? 1000)) / 1000)));
        }
        return reply(c, injected.status, injected.failure.message ?? '');
      }
      try {
        return handler(c, token);
      } catch (e) {
        if (e instanceof HelixReject) return reply(c, e.status, e.message);
        throw e;
      }
    };

  const streamWire = (s: FakeStream) => {
    const user = world.users.get(s.userId);
    const login = user?.login ?? '';
    return {
      id: s.id,
      user_id: s.userId,
      user_login: login,
      user_name: user?.displayName ?? '',
      game_id: s.gameId,
      game_name: s.gameName,
      type: 'live',
      title: s.title,
      tags: [...s.tags],
      viewer_count: s.viewerCount,
      started_at: s.startedAt,
      language: s.language,
      thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${login}-{width}x{height}.jpg`,
      tag_ids: [],
      is_mature: false,
    };
  };

  const clipWire = (clip: FakeClip) => ({
    id: clip.id,
    url: `https://clips.twitch.tv/${clip.id}`,
    embed_url: `https://clips.twitch.tv/embed?clip=${clip.id}`,
    broadcaster_id: clip.broadcasterId,
    broadcaster_name: world.users.get(clip.broadcasterId)?.displayName ?? '',
    creator_id: clip.creatorId,
    creator_name: world.users.get(clip.creatorId)?.displayName ?? '',
    video_id: '',
    game_id: clip.gameId,
    language: clip.language,
    title: clip.title,
    view_count: 1,
    created_at: rfc3339(clip.createdAt),
    thumbnail_url: `https://clips-media-assets2.twitch.tv/${clip.id}-preview-480x272.jpg`,
    duration: clip.duration ?? 30,
    // Twitch fills it in some minutes after creation; the fake has no VODs.
    vod_offset: null,
    is_featured: false,
  });

  const routes = new Hono();

  routes.get(
    '/streams',
    endpoint('GET /streams', (c) => {
      const type = c.req.query('type');
      if (type !== undefined && type !== 'all' && type !== 'live')
        throw new HelixReject(400, `Invalid value for "type": ${type}`);
      const userIds = repeated(c, 'user_id');
      const userLogins = repeated(c, 'user_login');
      const gameIds = repeated(c, 'game_id');
      const languages = repeated(c, 'language');
      const wanted =
        userIds || userLogins
          ? new Set([
              ...(userIds ?? []),
              ...(userLogins ?? []).flatMap((l) => world.userByLogin(l)?.id ?? []),
            ])
          : undefined;
      const streams = world
        .liveStreams()
        .filter(
          (s) =>
            (!wanted || wanted.has(s.userId)) &&
            (!gameIds || gameIds.includes(s.gameId)) &&
            (!languages || languages.includes(s.language)),
        );
      const page = paginate(c, streams);
      return c.json({ data: page.data.map(streamWire), pagination: page.pagination });
    }),
  );

  routes.get(
    '/users',
    endpoint('GET /users', (c, token) => {
      const ids = repeated(c, 'id') ?? [];
      const logins = repeated(c, 'login') ?? [];
      if (ids.length + logins.length > MAX_VALUES)
        throw new HelixReject(
          400,
          `The combined number of "id" and "login" values must be at most ${MAX_VALUES}`,
        );
      let requested: string[];
      if (ids.length + logins.length > 0) {
        requested = [...ids, ...logins.flatMap((l) => world.userByLogin(l)?.id ?? [])];
      } else if (token.userId !== undefined) {
        requested = [token.userId];
      } else {
        throw new HelixReject(400, 'Must provide an ID, Login or OAuth Token');
      }
      const users = [...new Set(requested)].flatMap((id) => world.users.get(id) ?? []);
      return c.json({
        data: users.map((u) => ({
          id: u.id,
          login: u.login,
          display_name: u.displayName,
          type: '',
          broadcaster_type: u.broadcasterType,
          description: '',
          profile_image_url: `https://static-cdn.jtvnw.net/jtv_user_pictures/${u.login}-profile_image-300x300.png`,
          offline_image_url: '',
          view_count: 0,
          created_at: u.createdAt,
        })),
      });
    }),
  );

  routes.post(
    '/clips',
    endpoint('POST /clips', (c, token) => {
      if (token.userId === undefined) throw new HelixReject(401, 'Invalid OAuth token');
      if (!token.scopes.includes('clips:edit')) throw new HelixReject(401, 'Missing scope: clips:edit');
      const broadcasterId = c.req.query('broadcaster_id');
      if (!broadcasterId || !world.users.has(broadcasterId))
        throw new HelixReject(400, 'Missing required parameter "broadcaster_id"');
      const hasDelay = c.req.query('has_delay');
      if (hasDelay !== undefined && hasDelay !== 'true' && hasDelay !== 'false')
        throw new HelixReject(400, `Invalid value for "has_delay": ${hasDelay}`);
      const durationText = c.req.query('duration');
      const duration = durationText === undefined ? undefined : Number(durationText);
      if (duration !== undefined && !(duration >= 5 && duration <= 60))
        throw new HelixReject(400, `Invalid value for "duration": ${durationText}`);
      if (world.clippingDisabled.has(broadcasterId)) throw new HelixReject(403, '');
      const stream = world.streams.get(broadcasterId);
      if (!stream) throw new HelixReject(404, 'Clipping is not possible for an offline channel.');
      const now = world.clock.now();
      const clip: FakeClip = {
        id: world.newClipId(),
        broadcasterId,
        creatorId: token.userId,
        createdAt: now,
        visibleAt: now + clipDelayMs,
        title: c.req.query('title') ?? stream.title,
        gameId: stream.gameId,
        language: stream.language,
        ...(duration !== undefined ? { duration: Math.round(duration * 10) / 10 } : {}),
      };
      world.clips.set(clip.id, clip);
      return c.json({ data: [{ id: clip.id, edit_url: `https://clips.twitch.tv/${clip.id}/edit` }] }, 202);
    }),
  );

  routes.get(
    '/clips',
    endpoint('GET /clips', (c) => {
      const ids = repeated(c, 'id');
      const broadcasterIds = repeated(c, 'broadcaster_id');
      const gameIds = repeated(c, 'game_id');
      const given = [ids, broadcasterIds, gameIds].filter((v) => v !== undefined);
      if (
        given.length !== 1 ||
        (broadcasterIds && broadcasterIds.length > 1) ||
        (gameIds && gameIds.length > 1)
      )
        throw new HelixReject(400, 'Exactly one of "id", "broadcaster_id" or "game_id" must be given');
      const now = world.clock.now();
      const startedAt = parseTime(c, 'started_at');
      const endedAt =
        parseTime(c, 'ended_at') ?? (startedAt === undefined ? undefined : startedAt + CLIP_WINDOW_MS);
      const featured = c.req.query('is_featured');
      const visible = (clip: FakeClip | undefined): clip is FakeClip =>
        clip !== undefined &&
        clip.visibleAt <= now &&
        (startedAt === undefined || clip.createdAt >= startedAt) &&
        (endedAt === undefined || clip.createdAt <= endedAt) &&
        featured !== 'true';
      if (ids) {
        // By id: the requested order, duplicates and unknown ids dropped, one page.
        const data = [...new Set(ids)].map((id) => world.clips.get(id)).filter(visible);
        return c.json({ data: data.map(clipWire), pagination: {} });
      }
      const matches = [...world.clips.values()]
        .filter((clip) =>
          broadcasterIds ? clip.broadcasterId === broadcasterIds[0] : clip.gameId === gameIds?.[0],
        )
        .filter(visible)
        // By view count, most first; every fake clip has one view, so newest first among equals.
        .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
      const page = paginate(c, matches);
      return c.json({ data: page.data.map(clipWire), pagination: page.pagination });
    }),
  );

  const hooks: HelixHooks = {
    failNext(name, status, failure = {}) {
      const queue = failures.get(name) ?? [];
      queue.push({ status, failure, left: failure.count ?? 1 });
      failures.set(name, queue);
    },
    drainBucket(accessToken) {
      const now = world.clock.now();
      if (accessToken === undefined) {
        for (const b of buckets.values()) b.drain(now);
        return;
      }
      const token = world.tokens.get(accessToken);
      if (token) bucket(bucketKey(token)).drain(now);
    },
    setRateLimit(points) {
      pointsPerMinute = points;
      const now = world.clock.now();
      for (const b of buckets.values()) b.resize(points, now);
    },
    setClipDelay(delay) {
      clipDelayMs = delay === 'never' ? Number.POSITIVE_INFINITY : delay;
    },
    calls: (name) => callCounts.get(name) ?? 0,
    onCall(name, fn) {
      const set = listeners.get(name) ?? new Set();
      set.add(fn);
      listeners.set(name, set);
      return () => set.delete(fn);
    },
  };
  return { routes, hooks };
}
