import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock, SystemClock } from '../../../pipeline/time/clock.ts';
import { type FakeTwitch, startFakeTwitch } from '../../../test/fakes/twitch/server.ts';
import { type FakeApp, type FakeUser, TwitchWorld } from '../../../test/fakes/twitch/world.ts';
import type { TwitchAuthError } from './errors.ts';
import { rejection } from './expect-auth-error.ts';
import { openTwitchAuth, type TwitchAuth, type TwitchAuthOptions } from './provider.ts';
import { writeTokenFile } from './token-file.ts';

const HOUR = 3_600_000;
/** A failure guard for tests that await network events; they finish in milliseconds. */
const GUARD = { timeout: 15_000 };

function fileJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('openTwitchAuth against the fake Twitch', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scout-twitch-auth-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;

  let clock: ManualClock;
  let world: TwitchWorld;
  let fake: FakeTwitch;
  let client: FakeApp;
  let fox: FakeUser;
  let path: string;
  let opened: TwitchAuth[];
  let logs: string[];

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2025-03-14T19:00:00Z'));
    world = new TwitchWorld({ clock });
    client = world.registerApp();
    fox = world.addUser('pixelfox', { id: '52419331' });
    fake = await startFakeTwitch({ world });
    process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
    path = join(scratch, `case-${n++}`, 'twitch-tokens.json');
    opened = [];
    logs = [];
  });

  afterEach(async () => {
    for (const auth of opened) await auth.close();
    await fake.close();
    delete process.env.TWURPLE_MOCK_API_PORT;
  });

  /** Writes a token file for a token the world just issued. */
  async function seedFile(
    scopes: readonly string[] = ['chat:read', 'clips:edit'],
    secret = client.clientSecret,
  ) {
    const t = world.issueUserToken(client.clientId, fox.id, scopes);
    await writeTokenFile(path, {
      clientId: client.clientId,
      clientSecret: secret,
      token: {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken,
        scope: [...scopes],
        expiresIn: world.userTokenTtlS,
        // @twurple judges expiry by the wall clock, so the stamp is a wall-clock one.
        obtainmentTimestamp: new SystemClock().now(),
      },
    });
    return t;
  }

  async function open(extra: Partial<TwitchAuthOptions> = {}): Promise<TwitchAuth> {
    const auth = await openTwitchAuth({ tokenFile: path, clock, log: (l) => logs.push(l), ...extra });
    opened.push(auth);
    return auth;
  }

  test('validates at start-up and knows the user, scopes and both providers', GUARD, async () => {
    await seedFile();
    const auth = await open();
    assert.equal(auth.userId, fox.id);
    assert.equal(auth.login, 'pixelfox');
    assert.equal(auth.clientId, client.clientId);
    assert.deepEqual(auth.scopes, ['chat:read', 'clips:edit']);
    assert.equal(auth.refreshedAtStart, false);
    assert.equal(world.validateCalls.length, 1);

    const chat = await auth.userProvider.getAccessTokenForIntent('chat');
    assert.equal(world.liveToken(chat!.accessToken)?.userId, fox.id);
    const app = await auth.appProvider.getAppAccessToken();
    const appToken = world.liveToken(app.accessToken);
    assert.ok(appToken, 'the app provider got a live token from client credentials');
    assert.equal(appToken.userId, undefined);
  });

  test('a refresh writes the rotated refresh token back to the file, mode 0600', GUARD, async () => {
    const first = await seedFile();
    const auth = await open();
    await auth.userProvider.refreshAccessTokenForUser(auth.userId);
    await auth.flush();
    const saved = fileJson(path);
    assert.notEqual(saved.refresh_token, first.refreshToken);
    assert.ok(
      world.refreshTokens.has(String(saved.refresh_token)),
      'the saved refresh token is the live one',
    );
    assert.equal(world.refreshTokens.has(first.refreshToken), false);
    assert.equal(world.liveToken(String(saved.access_token))?.userId, fox.id);
    assert.equal(saved.client_secret, client.clientSecret);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(logs.some((l) => /refreshed; saving it/.test(l)));
  });

  test('a token Twitch calls invalid at start-up is refreshed once and saved', GUARD, async () => {
    const first = await seedFile();
    world.expireToken(first.accessToken);
    const auth = await open();
    assert.equal(auth.refreshedAtStart, true);
    const saved = fileJson(path);
    assert.notEqual(saved.access_token, first.accessToken);
    assert.ok(world.liveToken(String(saved.access_token)));
    assert.ok(world.refreshTokens.has(String(saved.refresh_token)));
  });

  test('TWITCH_CLIENT_SECRET replaces a wrong secret in the file', GUARD, async () => {
    const first = await seedFile(undefined, 'stale-secret');
    world.expireToken(first.accessToken);
    const refused = await rejection(open({ env: {} }));
    assert.match(refused.message, /is invalid and cannot be refreshed \(invalid client secret\)/);
    const auth = await open({ env: { TWITCH_CLIENT_SECRET: client.clientSecret } });
    assert.equal(auth.refreshedAtStart, true);
  });

  test('an invalid token that cannot be refreshed fails start-up with one line', GUARD, async () => {
    await seedFile();
    world.revokeGrant(client.clientId, fox.id);
    const error = await rejection(open());
    assert.equal(
      error.message,
      `the Twitch token in ${path} is invalid and cannot be refreshed (Invalid refresh token): run \`scout auth seed --client-id ${client.clientId} --client-secret <secret> --out ${path}\` again`,
    );
  });

  test('a missing scope fails start-up naming the scope', GUARD, async () => {
    await seedFile(['chat:read']);
    const error = await rejection(open());
    assert.match(error.message, /lacks scope clips:edit \(it has chat:read\): run `scout auth seed/);
  });

  test('a missing token file fails start-up with the seed command', GUARD, async () => {
    const error = await rejection(open());
    assert.match(error.message, /^Twitch token file .* not found: run `scout auth seed --client-id <id>/);
  });

  test('validates every hour on the clock, and reports fatal once the grant is revoked', GUARD, async () => {
    await seedFile();
    const fatals: TwitchAuthError[] = [];
    const auth = await open({ onFatal: (e) => fatals.push(e) });
    assert.equal(world.validateCalls.length, 1);

    await clock.advance(HOUR - 1);
    await auth.flush();
    assert.equal(world.validateCalls.length, 1, 'not before the hour');
    await clock.advance(1);
    await auth.flush();
    assert.equal(world.validateCalls.length, 2);
    await clock.advance(HOUR);
    await auth.flush();
    assert.equal(world.validateCalls.length, 3);
    assert.equal(fatals.length, 0);

    world.revokeGrant(client.clientId, fox.id);
    await clock.advance(HOUR);
    const error = await rejection(auth.fatal);
    assert.match(
      error.message,
      /token of pixelfox was revoked or expired and cannot be refreshed .*scout auth seed/,
    );
    assert.deepEqual(fatals, [error], 'onFatal is called once, with the same error');

    const calls = world.validateCalls.length;
    await clock.advance(3 * HOUR);
    assert.equal(world.validateCalls.length, calls, 'no validation after a fatal');
  });

  test(
    'an hourly check that finds the token expired refreshes and saves it, and goes on',
    GUARD,
    async () => {
      const first = await seedFile();
      const auth = await open();
      world.expireToken(first.accessToken);
      await clock.advance(HOUR);
      await auth.flush();
      const saved = fileJson(path);
      assert.notEqual(saved.refresh_token, first.refreshToken);
      assert.ok(world.liveToken(String(saved.access_token)));
      await clock.advance(HOUR);
      await auth.flush();
      assert.equal(
        world.validateCalls.at(-1)?.accessToken,
        saved.access_token,
        'the next hour validates the new token',
      );
      assert.equal(world.validateCalls.at(-1)?.ok, true);
    },
  );

  test('an hourly check that cannot reach Twitch is retried the next hour, not fatal', GUARD, async () => {
    await seedFile();
    const fatals: TwitchAuthError[] = [];
    const auth = await open({ onFatal: (e) => fatals.push(e) });
    await fake.close();
    await clock.advance(HOUR);
    await auth.flush();
    assert.ok(
      logs.some((l) => /could not validate the Twitch token .*trying again at the next check/.test(l)),
      logs.join('\n'),
    );
    fake = await startFakeTwitch({ world });
    process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
    await clock.advance(HOUR);
    await auth.flush();
    assert.equal(world.validateCalls.length, 2);
    assert.equal(fatals.length, 0);
  });

  test('close stops the hourly validation', GUARD, async () => {
    await seedFile();
    const auth = await open();
    await auth.close();
    await clock.advance(5 * HOUR);
    assert.equal(world.validateCalls.length, 1);
    assert.equal(clock.pending(), 0);
  });
});
