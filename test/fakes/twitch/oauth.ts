/**
 * Fake id.twitch.tv (contracts/twitch.md §1): `GET /authorize`, `POST /token` (authorization_code,
 * refresh_token, client_credentials), `GET /validate` and `POST /revoke`. Mounted at `/oauth2`
 * (Twitch's paths) and `/auth` (the mock layout @twurple uses under `TWURPLE_MOCK_API_PORT`).
 *
 * There is no consent screen: `/authorize` approves at once as `world.authorize.userId` (default
 * the first user), or refuses when `world.authorize.deny` is set. Tokens, refresh rotation and
 * expiry live in the world, so a token minted here works on the fake Helix and chat server.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { FakeApp, FakeToken, TwitchWorld } from './world.ts';

/** How long an authorization code can be exchanged. Twitch's lifetime is undocumented; 10 min covers any real flow. */
const CODE_TTL_MS = 10 * 60_000;

interface PendingCode {
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly redirectUri: string;
  readonly expiresAt: number;
}

/** Twitch's token-endpoint error body: `{status, message}`, sometimes with `error` (the reason phrase). */
function fail(c: Context, status: 400 | 401 | 403, message: string, withReason = false) {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' }[status];
  return c.json(withReason ? { error: reason, status, message } : { status, message }, status);
}

/** The form body merged over the query string: Twitch takes either. */
async function params(c: Context): Promise<URLSearchParams> {
  const merged = new URL(c.req.url).searchParams;
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await c.req.text())) merged.set(k, v);
  }
  return merged;
}

function secondsLeft(world: TwitchWorld, t: FakeToken): number {
  return Math.max(0, Math.floor((t.expiresAt - world.clock.now()) / 1000));
}

function scopeList(raw: string | null): string[] {
  return (raw ?? '').split(/[ +]/).filter((s) => s !== '');
}

export function oauthRoutes(world: TwitchWorld): Hono {
  const app = new Hono();
  const codes = new Map<string, PendingCode>();

  /** The client of a token request, or the error response for a missing/unknown client or a wrong secret. */
  function client(c: Context, p: URLSearchParams, needSecret: boolean): FakeApp | Response {
    const clientId = p.get('client_id');
    if (!clientId) return fail(c, 400, 'missing client id');
    const registered = world.apps.get(clientId);
    if (!registered) return fail(c, 400, 'invalid client');
    if (needSecret && p.get('client_secret') !== registered.clientSecret) {
      return fail(c, 403, 'invalid client secret');
    }
    return registered;
  }

  app.get('/authorize', (c) => {
    const q = new URL(c.req.url).searchParams;
    const registered = world.apps.get(q.get('client_id') ?? '');
    if (!registered) return fail(c, 400, 'invalid client');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!registered.redirectUris.includes(redirectUri)) {
      return fail(c, 400, 'Parameter redirect_uri does not match registered URI');
    }
    if (q.get('response_type') !== 'code') return fail(c, 400, 'unsupported response_type');
    const forceVerify = q.get('force_verify');
    if (forceVerify !== null && forceVerify !== 'true' && forceVerify !== 'false') {
      return fail(c, 400, 'invalid force_verify');
    }
    const state = q.get('state');
    const target = new URL(redirectUri);
    if (world.authorize.deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied you access');
    } else {
      const userId = world.authorize.userId ?? world.users.keys().next().value;
      if (userId === undefined || !world.users.has(userId)) {
        return c.text('fake twitch: no user to authorize as (add one, or set world.authorize.userId)', 500);
      }
      const scopes = world.authorize.grantScopes ?? scopeList(q.get('scope'));
      const code = randomBytes(15).toString('hex');
      codes.set(code, {
        clientId: registered.clientId,
        userId,
        scopes,
        redirectUri,
        expiresAt: world.clock.now() + CODE_TTL_MS,
      });
      target.searchParams.set('code', code);
      target.searchParams.set('scope', scopes.join(' '));
    }
    if (state !== null) target.searchParams.set('state', state);
    return c.redirect(target.toString(), 302);
  });

  app.post('/token', async (c) => {
    const p = await params(c);
    const grantType = p.get('grant_type');
    if (!grantType) return fail(c, 400, 'missing grant_type');
    const registered = client(c, p, true);
    if (registered instanceof Response) return registered;

    if (grantType === 'authorization_code') {
      const code = p.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code); // single use, even when the exchange below fails
      if (!pending || pending.clientId !== registered.clientId || pending.expiresAt <= world.clock.now()) {
        return fail(c, 400, 'Invalid authorization code');
      }
      if (p.get('redirect_uri') !== pending.redirectUri) {
        return fail(c, 400, 'Parameter redirect_uri does not match registered URI');
      }
      return c.json(userTokenBody(world.issueUserToken(registered.clientId, pending.userId, pending.scopes)));
    }
    if (grantType === 'refresh_token') {
      const issued = world.refresh(p.get('refresh_token') ?? '', registered.clientId);
      if (!issued) return fail(c, 400, 'Invalid refresh token', true);
      return c.json(userTokenBody(issued));
    }
    if (grantType === 'client_credentials') {
      const t = world.issueAppToken(registered.clientId);
      return c.json({ access_token: t.accessToken, expires_in: secondsLeft(world, t), token_type: 'bearer' });
    }
    return fail(c, 400, 'unsupported grant type');
  });

  function userTokenBody(t: FakeToken & { refreshToken: string }) {
    return {
      access_token: t.accessToken,
      expires_in: secondsLeft(world, t),
      refresh_token: t.refreshToken,
      scope: [...t.scopes],
      token_type: 'bearer',
    };
  }

  app.get('/validate', (c) => {
    const header = c.req.header('authorization') ?? '';
    const accessToken = /^(?:OAuth|Bearer)\s+(\S+)$/i.exec(header)?.[1] ?? '';
    const t = world.liveToken(accessToken);
    world.validateCalls.push({ at: world.clock.now(), accessToken, ok: t !== undefined });
    if (accessToken === '') return fail(c, 401, 'missing authorization token');
    if (!t) return fail(c, 401, 'invalid access token');
    if (t.userId === undefined) {
      return c.json({ client_id: t.clientId, scopes: [...t.scopes], expires_in: secondsLeft(world, t) });
    }
    return c.json({
      client_id: t.clientId,
      login: world.users.get(t.userId)?.login ?? '',
      scopes: [...t.scopes],
      user_id: t.userId,
      expires_in: secondsLeft(world, t),
    });
  });

  app.post('/revoke', async (c) => {
    const p = await params(c);
    const registered = client(c, p, false);
    if (registered instanceof Response) return registered;
    const t = world.tokens.get(p.get('token') ?? '');
    if (!t || t.clientId !== registered.clientId) return fail(c, 400, 'Invalid token');
    world.revokeToken(t.accessToken);
    return c.body(null, 200);
  });

  return app;
}
