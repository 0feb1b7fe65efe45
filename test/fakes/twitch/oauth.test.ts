import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../../pipeline/time/clock.ts';
import { fixture, shapeOf } from './fixtures.ts';
import { fakeTwitchApp } from './server.ts';
import { type FakeApp, type FakeUser, TwitchWorld } from './world.ts';

const REDIRECT = 'http://localhost:3000/callback';
const START = Date.parse('2025-03-14T19:00:00Z');

describe('fake id.twitch.tv', () => {
  let clock: ManualClock;
  let world: TwitchWorld;
  let app: ReturnType<typeof fakeTwitchApp>['app'];
  let client: FakeApp;
  let fox: FakeUser;

  beforeEach(() => {
    clock = new ManualClock(START);
    world = new TwitchWorld({ clock });
    app = fakeTwitchApp(world).app;
    client = world.registerApp({ redirectUris: [REDIRECT] });
    fox = world.addUser('pixelfox', { id: '52419331', displayName: 'PixelFox' });
  });

  function authorizeUrl(overrides: Record<string, string | null> = {}, base = '/oauth2'): string {
    const q = new URLSearchParams();
    const fields: Record<string, string | null> = {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: REDIRECT,
      scope: 'chat:read clips:edit',
      state: 's-123',
      ...overrides,
    };
    for (const [k, v] of Object.entries(fields)) if (v !== null) q.set(k, v);
    return `${base}/authorize?${q}`;
  }

  async function authorize(overrides: Record<string, string | null> = {}): Promise<URL> {
    const res = await app.request(authorizeUrl(overrides));
    assert.equal(res.status, 302, await res.clone().text());
    return new URL(res.headers.get('location')!);
  }

  function form(fields: Record<string, string>): RequestInit {
    return {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    };
  }

  async function exchange(code: string, overrides: Record<string, string> = {}): Promise<Response> {
    return app.request(
      '/oauth2/token',
      form({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code,
        grant_type: 'authorization_code',
        redirect_uri: REDIRECT,
        ...overrides,
      }),
    );
  }

  async function validate(token: string, prefix = 'OAuth', base = '/oauth2'): Promise<Response> {
    return app.request(`${base}/validate`, { headers: { authorization: `${prefix} ${token}` } });
  }

  test('authorize redirects to the registered URI with code, granted scopes and the same state', async () => {
    const location = await authorize();
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    assert.match(location.searchParams.get('code') ?? '', /^[0-9a-f]{30}$/);
    assert.equal(location.searchParams.get('scope'), 'chat:read clips:edit');
    assert.equal(location.searchParams.get('state'), 's-123');
    assert.match(location.search, /scope=chat%3Aread\+clips%3Aedit/, "scopes are '+'-joined");
  });

  test('authorize checks client_id, the exact redirect_uri and response_type=code', async () => {
    const cases: [Record<string, string | null>, string][] = [
      [{ client_id: 'nobody' }, 'invalid client'],
      [{ client_id: null }, 'invalid client'],
      [{ redirect_uri: `${REDIRECT}/` }, 'Parameter redirect_uri does not match registered URI'],
      [
        { redirect_uri: 'http://localhost:3001/callback' },
        'Parameter redirect_uri does not match registered URI',
      ],
      [{ response_type: 'token' }, 'unsupported response_type'],
      [{ force_verify: 'maybe' }, 'invalid force_verify'],
    ];
    for (const [overrides, message] of cases) {
      const res = await app.request(authorizeUrl(overrides));
      assert.equal(res.status, 400, JSON.stringify(overrides));
      assert.deepEqual(await res.json(), { status: 400, message });
    }
    const ok = await app.request(authorizeUrl({ force_verify: 'true' }));
    assert.equal(ok.status, 302);
  });

  test('a refusal redirects with error=access_denied and the state, and no code', async () => {
    world.authorize.deny = true;
    const location = await authorize();
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('error_description'), 'The user denied you access');
    assert.equal(location.searchParams.get('state'), 's-123');
    assert.equal(location.searchParams.get('code'), null);
  });

  test('the code exchange returns the documented token body; the token acts for the authorizing user', async () => {
    const other = world.addUser('otterlord');
    world.authorize.userId = other.id;
    const code = (await authorize()).searchParams.get('code')!;
    const res = await exchange(code);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; expires_in: number; scope: string[] };
    assert.deepEqual(shapeOf(body), shapeOf(fixture('oauth-token.json')));
    assert.deepEqual(body.scope, ['chat:read', 'clips:edit']);
    assert.equal(body.expires_in, world.userTokenTtlS);
    const info = (await (await validate(body.access_token)).json()) as { login: string; user_id: string };
    assert.equal(info.login, 'otterlord');
    assert.equal(info.user_id, other.id);
  });

  test('grantScopes overrides what the consent screen grants', async () => {
    world.authorize.grantScopes = ['chat:read'];
    const location = await authorize();
    assert.equal(location.searchParams.get('scope'), 'chat:read');
    const body = (await (await exchange(location.searchParams.get('code')!)).json()) as { scope: string[] };
    assert.deepEqual(body.scope, ['chat:read']);
  });

  test('codes are single use, bound to their redirect_uri, and expire', async () => {
    const code = (await authorize()).searchParams.get('code')!;
    const mismatch = await exchange(code, { redirect_uri: 'http://localhost:3000/other' });
    assert.equal(mismatch.status, 400);
    assert.deepEqual(await mismatch.json(), {
      status: 400,
      message: 'Parameter redirect_uri does not match registered URI',
    });
    const fresh = (await authorize()).searchParams.get('code')!;
    assert.equal((await exchange(fresh)).status, 200);
    const again = await exchange(fresh);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { status: 400, message: 'Invalid authorization code' });

    const late = (await authorize()).searchParams.get('code')!;
    await clock.advance(10 * 60_000);
    assert.equal((await exchange(late)).status, 400);
  });

  test('a wrong secret is 403 and an unknown client 400, for every grant', async () => {
    const code = (await authorize()).searchParams.get('code')!;
    const wrong = await exchange(code, { client_secret: 'nope' });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { status: 403, message: 'invalid client secret' });
    const unknown = await app.request(
      '/oauth2/token',
      form({ client_id: 'nobody', client_secret: 'x', grant_type: 'client_credentials' }),
    );
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { status: 400, message: 'invalid client' });
  });

  test('refresh rotates the refresh token: the new one works, the old one is 400 Invalid refresh token', async () => {
    const first = world.issueUserToken(client.clientId, fox.id, ['chat:read']);
    const refresh = (refreshToken: string) =>
      app.request(
        '/oauth2/token',
        form({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: client.clientId,
          client_secret: client.clientSecret,
        }),
      );
    const res = await refresh(first.refreshToken);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; scope: string[] };
    assert.deepEqual(shapeOf(body), shapeOf(fixture('oauth-token.json')));
    assert.notEqual(body.refresh_token, first.refreshToken);
    assert.deepEqual(body.scope, ['chat:read']);
    assert.equal((await validate(body.access_token)).status, 200);

    const stale = await refresh(first.refreshToken);
    assert.equal(stale.status, 400);
    const error = await stale.json();
    assert.deepEqual(error, fixture('oauth-refresh-error.json'));
    assert.equal((await refresh(body.refresh_token)).status, 200);
  });

  test('the token endpoint takes its fields from the query string too (as @twurple sends them)', async () => {
    const q = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    const res = await app.request(`/auth/token?${q}`, { method: 'POST' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    assert.deepEqual(shapeOf(body), shapeOf(fixture('oauth-app-token.json')));
    assert.equal(body.expires_in, world.appTokenTtlS);
  });

  test('validate answers user and app tokens in their own shapes, OAuth or Bearer, with expires_in counting down', async () => {
    const user = world.issueUserToken(client.clientId, fox.id, ['chat:read', 'clips:edit']);
    const res = await validate(user.accessToken, 'OAuth');
    assert.equal(res.status, 200);
    const info = await res.json();
    assert.deepEqual(shapeOf(info), shapeOf(fixture('oauth-validate.json')));
    assert.deepEqual(info, {
      client_id: client.clientId,
      login: 'pixelfox',
      scopes: ['chat:read', 'clips:edit'],
      user_id: '52419331',
      expires_in: world.userTokenTtlS,
    });
    await clock.advance(3_600_000);
    const later = (await (await validate(user.accessToken, 'Bearer')).json()) as { expires_in: number };
    assert.equal(later.expires_in, world.userTokenTtlS - 3600);

    const appToken = world.issueAppToken(client.clientId);
    const appInfo = await (await validate(appToken.accessToken, 'Bearer', '/auth')).json();
    assert.deepEqual(appInfo, { client_id: client.clientId, scopes: [], expires_in: world.appTokenTtlS });
  });

  test('validate is 401 invalid access token for unknown, expired and revoked tokens, and counts every call', async () => {
    const user = world.issueUserToken(client.clientId, fox.id, ['chat:read']);
    const other = world.issueUserToken(client.clientId, fox.id, ['chat:read']);
    assert.equal((await validate(user.accessToken)).status, 200);
    world.expireToken(user.accessToken);
    world.revokeGrant(client.clientId, fox.id);
    for (const token of ['unknown', user.accessToken, other.accessToken]) {
      const res = await validate(token);
      assert.equal(res.status, 401, token);
      assert.deepEqual(await res.json(), fixture('oauth-validate-error.json'));
    }
    const missing = await app.request('/oauth2/validate');
    assert.equal(missing.status, 401);
    assert.equal(world.validateCalls.length, 5);
    assert.deepEqual(
      world.validateCalls.map((c) => c.ok),
      [true, false, false, false, false],
    );
    assert.equal(world.validateCallsBetween(), 5);
    await clock.advance(3_600_000);
    assert.equal(world.validateCallsBetween(), 0, 'none in the last hour');
  });

  test('revoke kills the access token; an unknown token is 400 Invalid token', async () => {
    const user = world.issueUserToken(client.clientId, fox.id, ['chat:read']);
    const res = await app.request(
      '/oauth2/revoke',
      form({ client_id: client.clientId, token: user.accessToken }),
    );
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.equal((await validate(user.accessToken)).status, 401);
    const bad = await app.request('/oauth2/revoke', form({ client_id: client.clientId, token: 'nope' }));
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { status: 400, message: 'Invalid token' });
  });
});
