/**
 * The state of the fake Twitch: registered apps, users, live streams, tokens, clips and EventSub
 * subscriptions. Every fake server (OAuth, Helix, EventSub, chat) reads and changes this one
 * world, so a test scripts Twitch by changing the world (`goLive`, `setViewers`, `goOffline`,
 * `disableClipping`, …) and every client sees the same story. Time comes from an injected clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../pipeline/time/clock.ts';

export interface FakeApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
}

export interface FakeUser {
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly broadcasterType: '' | 'affiliate' | 'partner';
  readonly createdAt: string;
}

export interface FakeStream {
  readonly id: string;
  readonly userId: string;
  gameId: string;
  gameName: string;
  title: string;
  viewerCount: number;
  readonly startedAt: string;
  language: string;
  tags: string[];
}

export interface FakeToken {
  readonly accessToken: string;
  readonly clientId: string;
  /** Absent for app tokens (client credentials). */
  readonly userId?: string;
  readonly scopes: readonly string[];
  /** Epoch ms. */
  expiresAt: number;
  revoked: boolean;
  /** The refresh token that minted it (user tokens only). */
  readonly refreshToken?: string;
}

export interface FakeClip {
  readonly id: string;
  readonly broadcasterId: string;
  readonly creatorId: string;
  readonly createdAt: number;
  /** Epoch ms from which Get Clips returns it; Infinity = never (a failed clip). */
  readonly visibleAt: number;
  readonly title: string;
  readonly gameId: string;
  readonly language: string;
  /** Seconds, as Create Clip's `duration` asked (Get Clips reports 30 when absent). */
  readonly duration?: number;
}

export interface WorldEvents {
  online: [stream: FakeStream, user: FakeUser];
  offline: [user: FakeUser];
}

/** Test hooks of the fake consent screen (`GET /oauth2/authorize`), which approves without a browser. */
export interface AuthorizeHooks {
  /** The user who approves; default: the first user added. */
  userId?: string;
  /** The user clicks "Cancel": the redirect carries `error=access_denied`. */
  deny: boolean;
  /** Grant these scopes instead of the requested ones (an old grant, a hand-edited URL). */
  grantScopes?: readonly string[];
}

/** One `GET /oauth2/validate` call, for the hourly-validation audit. */
export interface ValidateCall {
  /** World-clock epoch ms. */
  readonly at: number;
  /** The token presented ('' when the header was missing). */
  readonly accessToken: string;
  /** Whether it validated (false: the 401 `invalid access token`). */
  readonly ok: boolean;
}

export interface WorldOptions {
  readonly clock: Clock;
  /** Lifetime of user access tokens, seconds (Twitch: about 4 hours). */
  readonly userTokenTtlS?: number;
  /** Lifetime of app access tokens, seconds (Twitch: about 60 days). */
  readonly appTokenTtlS?: number;
}

/** RFC 3339 UTC without milliseconds, as Helix writes timestamps. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function token(bytes = 15): string {
  return randomBytes(bytes).toString('hex').slice(0, 30);
}

export class TwitchWorld {
  readonly clock: Clock;
  readonly events = new EventEmitter<WorldEvents>();
  readonly apps = new Map<string, FakeApp>();
  readonly users = new Map<string, FakeUser>();
  /** Live streams by user id. */
  readonly streams = new Map<string, FakeStream>();
  /** Broadcaster ids whose clipping is disabled (Create Clip → 403). */
  readonly clippingDisabled = new Set<string>();
  readonly tokens = new Map<string, FakeToken>();
  /** Refresh token → the grant it belongs to. */
  readonly refreshTokens = new Map<string, { clientId: string; userId: string; scopes: readonly string[] }>();
  readonly clips = new Map<string, FakeClip>();
  /** How the fake consent screen answers; tests change it (`world.authorize.deny = true`). */
  readonly authorize: AuthorizeHooks = { deny: false };
  /** Every `/validate` call, oldest first. */
  readonly validateCalls: ValidateCall[] = [];
  readonly userTokenTtlS: number;
  readonly appTokenTtlS: number;
  private nextId = 10_000_000;

  constructor(options: WorldOptions) {
    this.clock = options.clock;
    this.userTokenTtlS = options.userTokenTtlS ?? 14_400;
    this.appTokenTtlS = options.appTokenTtlS ?? 5_184_000;
  }

  registerApp(app: Partial<FakeApp> = {}): FakeApp {
    const registered: FakeApp = {
      clientId: app.clientId ?? token(),
      clientSecret: app.clientSecret ?? token(),
      redirectUris: app.redirectUris ?? ['http://localhost:3000/callback'],
    };
    this.apps.set(registered.clientId, registered);
    return registered;
  }

  addUser(login: string, options: Partial<Omit<FakeUser, 'login'>> = {}): FakeUser {
    const user: FakeUser = {
      id: options.id ?? String(this.nextId++),
      login: login.toLowerCase(),
      displayName: options.displayName ?? login,
      broadcasterType: options.broadcasterType ?? '',
      createdAt: options.createdAt ?? '2016-08-02T11:20:45Z',
    };
    this.users.set(user.id, user);
    return user;
  }

  userByLogin(login: string): FakeUser | undefined {
    const l = login.toLowerCase();
    for (const u of this.users.values()) if (u.login === l) return u;
    return undefined;
  }

  /** Starts a stream (or updates a live one) and tells EventSub. */
  goLive(userId: string, options: Partial<Omit<FakeStream, 'id' | 'userId' | 'startedAt'>> = {}): FakeStream {
    const user = this.users.get(userId);
    if (!user) throw new Error(`fake twitch: no user ${userId}`);
    const existing = this.streams.get(userId);
    if (existing) {
      Object.assign(existing, options);
      return existing;
    }
    const stream: FakeStream = {
      id: String(this.nextId++),
      userId,
      gameId: options.gameId ?? '509658',
      gameName: options.gameName ?? 'Just Chatting',
      title: options.title ?? `${user.displayName} live`,
      viewerCount: options.viewerCount ?? 100,
      startedAt: rfc3339(this.clock.now()),
      language: options.language ?? 'en',
      tags: options.tags ?? ['English'],
    };
    this.streams.set(userId, stream);
    this.events.emit('online', stream, user);
    return stream;
  }

  setViewers(userId: string, viewerCount: number): void {
    const s = this.streams.get(userId);
    if (!s) throw new Error(`fake twitch: ${userId} is not live`);
    s.viewerCount = viewerCount;
  }

  goOffline(userId: string): void {
    const user = this.users.get(userId);
    if (user && this.streams.delete(userId)) this.events.emit('offline', user);
  }

  disableClipping(userId: string): void {
    this.clippingDisabled.add(userId);
  }

  /** Live streams sorted by viewers, most first (Get Streams' order). */
  liveStreams(): FakeStream[] {
    return [...this.streams.values()].sort(
      (a, b) => b.viewerCount - a.viewerCount || a.id.localeCompare(b.id),
    );
  }

  /** Issues a user token with a refresh token (the end of the authorization-code flow). */
  issueUserToken(
    clientId: string,
    userId: string,
    scopes: readonly string[],
  ): FakeToken & { refreshToken: string } {
    const refreshToken = token(25);
    this.refreshTokens.set(refreshToken, { clientId, userId, scopes });
    const t = this.mint({ clientId, userId, scopes, refreshToken, ttlS: this.userTokenTtlS });
    return t as FakeToken & { refreshToken: string };
  }

  issueAppToken(clientId: string): FakeToken {
    return this.mint({ clientId, scopes: [], ttlS: this.appTokenTtlS });
  }

  private mint(o: {
    clientId: string;
    userId?: string;
    scopes: readonly string[];
    refreshToken?: string;
    ttlS: number;
  }): FakeToken {
    const t: FakeToken = {
      accessToken: token(),
      clientId: o.clientId,
      ...(o.userId !== undefined ? { userId: o.userId } : {}),
      scopes: o.scopes,
      expiresAt: this.clock.now() + o.ttlS * 1000,
      revoked: false,
      ...(o.refreshToken !== undefined ? { refreshToken: o.refreshToken } : {}),
    };
    this.tokens.set(t.accessToken, t);
    return t;
  }

  /** Exchanges a refresh token: the old refresh token dies, a new pair is issued (rotation). */
  refresh(refreshToken: string, clientId: string): (FakeToken & { refreshToken: string }) | undefined {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== clientId) return undefined;
    this.refreshTokens.delete(refreshToken);
    return this.issueUserToken(grant.clientId, grant.userId, grant.scopes);
  }

  /** A token that is known, not revoked and not expired. */
  liveToken(accessToken: string): FakeToken | undefined {
    const t = this.tokens.get(accessToken);
    if (!t || t.revoked || t.expiresAt <= this.clock.now()) return undefined;
    return t;
  }

  /** Test hook: the token stops working now (expiry or revocation look the same to a client). */
  expireToken(accessToken: string): void {
    const t = this.tokens.get(accessToken);
    if (t) t.expiresAt = this.clock.now();
  }

  /** Revokes one access token (`POST /oauth2/revoke`); its refresh token lives on. */
  revokeToken(accessToken: string): void {
    const t = this.tokens.get(accessToken);
    if (t) t.revoked = true;
  }

  /**
   * Test hook: the user disconnects the app (or changes password): every access and refresh
   * token of that user for that client dies, as `/validate` and the token endpoint then report.
   */
  revokeGrant(clientId: string, userId: string): void {
    for (const t of this.tokens.values()) {
      if (t.clientId === clientId && t.userId === userId) t.revoked = true;
    }
    for (const [refreshToken, grant] of this.refreshTokens) {
      if (grant.clientId === clientId && grant.userId === userId) this.refreshTokens.delete(refreshToken);
    }
  }

  /** `/validate` calls made in `(from, to]` of world-clock time (by default the last hour). */
  validateCallsBetween(from = this.clock.now() - 3_600_000, to = this.clock.now()): number {
    return this.validateCalls.filter((c) => c.at > from && c.at <= to).length;
  }

  newClipId(): string {
    const words = ['Brave', 'Tiny', 'Otter', 'Kappa', 'Ross', 'Happy', 'Salty', 'Pog'];
    const pick = () => words[randomBytes(1)[0]! % words.length];
    return `${pick()}${pick()}${pick()}${pick()}-${randomUUID().slice(0, 8)}`;
  }
}
