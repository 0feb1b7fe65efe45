import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../../pipeline/time/clock.ts';
import { type FakeTwitch, startFakeTwitch } from '../../../test/fakes/twitch/server.ts';
import { type FakeApp, type FakeUser, TwitchWorld } from '../../../test/fakes/twitch/world.ts';
import { rejection } from './expect-auth-error.ts';
import { openTwitchAuth } from './provider.ts';
import { type SeedOptions, type SeedResult, seedTokens } from './seed.ts';
import { readTokenFile } from './token-file.ts';

/** A failure guard for tests that await network events; they finish in milliseconds. */
const GUARD = { timeout: 15_000 };

describe('seedTokens', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scout-twitch-seed-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;

  let clock: ManualClock;
  let world: TwitchWorld;
  let fake: FakeTwitch;
  let client: FakeApp;
  let fox: FakeUser;
  let out: string;

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2025-03-14T19:00:00Z'));
    world = new TwitchWorld({ clock });
    client = world.registerApp({ redirectUris: [] });
    fox = world.addUser('pixelfox', { id: '52419331' });
    fake = await startFakeTwitch({ world });
    process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
    out = join(scratch, `case-${n++}`, 'twitch-tokens.json');
  });

  afterEach(async () => {
    await fake.close();
    delete process.env.TWURPLE_MOCK_API_PORT;
  });

  /**
   * Starts the seed on a free port, waits for the URL it prints and registers the redirect URI it
   * chose with the fake app (as a developer registers theirs in the console).
   */
  async function start(extra: Partial<SeedOptions> = {}) {
    const lines: string[] = [];
    let printedUrl: (url: URL) => void = () => {};
    const urlPrinted = new Promise<URL>((resolve) => {
      printedUrl = resolve;
    });
    const seeding: Promise<SeedResult> = seedTokens({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUri: 'http://localhost:0/callback',
      out,
      clock,
      print: (line) => {
        lines.push(line);
        if (/^https?:\/\//.test(line)) printedUrl(new URL(line));
      },
      ...extra,
    });
    seeding.catch(() => {}); // awaited by each test; this only keeps an early failure from being unhandled
    const url = await Promise.race([urlPrinted, seeding.then(() => assert.fail('resolved before printing'))]);
    const redirectUri = url.searchParams.get('redirect_uri')!;
    world.registerApp({ ...client, redirectUris: [redirectUri] });
    return { url, redirectUri, seeding, lines };
  }

  /** The browser: open the authorize URL, get the 302 from Twitch, follow it to the local callback. */
  async function consent(url: URL, rewrite: (location: URL) => URL = (l) => l) {
    const redirect = await fetch(url, { redirect: 'manual' });
    assert.equal(redirect.status, 302, await redirect.clone().text());
    const location = rewrite(new URL(redirect.headers.get('location')!));
    const page = await fetch(location);
    return { location, status: page.status, text: await page.text() };
  }

  test(
    'end to end: prints the authorize URL, takes the callback, writes a working 0600 token file',
    GUARD,
    async () => {
      const { url, redirectUri, seeding, lines } = await start();
      assert.equal(`${url.origin}${url.pathname}`, `http://localhost:${fake.port}/auth/authorize`);
      assert.equal(url.searchParams.get('response_type'), 'code');
      assert.equal(url.searchParams.get('client_id'), client.clientId);
      assert.equal(url.searchParams.get('scope'), 'chat:read clips:edit');
      assert.match(url.searchParams.get('state') ?? '', /^[0-9a-f]{32}$/);
      assert.match(redirectUri, /^http:\/\/localhost:[1-9]\d*\/callback$/);

      const browser = await consent(url);
      assert.equal(browser.status, 200);
      assert.match(browser.text, /Done: streamscout can now act as pixelfox\. You can close this tab\./);
      const result = await seeding;
      assert.deepEqual(result, {
        path: out,
        userId: fox.id,
        login: 'pixelfox',
        scopes: ['chat:read', 'clips:edit'],
      });
      assert.ok(lines.some((l) => l === `Saved a token for pixelfox (chat:read, clips:edit) to ${out}`));

      assert.equal(statSync(out).mode & 0o777, 0o600);
      const file = await readTokenFile(out);
      assert.equal(file.clientId, client.clientId);
      assert.equal(file.clientSecret, client.clientSecret);
      assert.ok(world.refreshTokens.has(file.token.refreshToken));
      const auth = await openTwitchAuth({ tokenFile: out, clock });
      try {
        assert.equal(auth.login, 'pixelfox');
        assert.equal(auth.refreshedAtStart, false, 'the seeded token validates as it is');
      } finally {
        await auth.close();
      }
      await assert.rejects(fetch(browser.location), 'the callback server is closed');
    },
  );

  test('a callback with a state it did not send is rejected and writes nothing', GUARD, async () => {
    const { url, seeding } = await start();
    const browser = await consent(url, (location) => {
      location.searchParams.set('state', 'forged');
      return location;
    });
    assert.equal(browser.status, 400);
    const error = await rejection(seeding);
    assert.match(error.message, /the callback carried a state this command did not send/);
    assert.equal(existsSync(out), false);
  });

  test('a refusal on the consent screen is a one-line error', GUARD, async () => {
    world.authorize.deny = true;
    const { url, seeding } = await start();
    const browser = await consent(url);
    assert.equal(browser.status, 400);
    assert.match(browser.text, /Authorization failed/);
    const error = await rejection(seeding);
    assert.equal(
      error.message,
      'Twitch did not authorize the app (access_denied: The user denied you access): run the command again and click Authorize',
    );
    assert.equal(existsSync(out), false);
  });

  test('a grant without a requested scope names it and writes nothing', GUARD, async () => {
    world.authorize.grantScopes = ['chat:read'];
    const { url, seeding } = await start();
    await consent(url);
    const error = await rejection(seeding);
    assert.match(error.message, /^Twitch granted chat:read but not clips:edit: /);
    assert.equal(existsSync(out), false);
  });

  test(
    'no callback within the timeout is a one-line error; Twitch itself is the default base',
    GUARD,
    async () => {
      const { url, redirectUri, seeding } = await start({ env: {}, timeoutMs: 10 * 60_000 });
      assert.equal(`${url.origin}${url.pathname}`, 'https://id.twitch.tv/oauth2/authorize');
      await clock.advance(10 * 60_000);
      const error = await rejection(seeding);
      assert.equal(
        error.message,
        `no authorization arrived at ${redirectUri} within 10 minutes: run the command again and open the URL it prints`,
      );
      await assert.rejects(fetch(redirectUri), 'the callback server is closed');
    },
  );

  test('an explicit authorize base wins over TWURPLE_MOCK_API_PORT', GUARD, async () => {
    const { url, seeding } = await start({ authorizeBase: `${fake.url}/oauth2/` });
    assert.equal(`${url.origin}${url.pathname}`, `${fake.url}/oauth2/authorize`);
    await consent(url);
    assert.equal((await seeding).login, 'pixelfox');
  });

  test('a redirect URI that is not this machine over http is refused up front', async () => {
    for (const redirectUri of [
      'https://localhost:3000/callback',
      'http://example.com/callback',
      'not a url',
    ]) {
      const error = await rejection(seedTokens({ ...base(), redirectUri }));
      assert.match(error.message, /redirect URI/, redirectUri);
    }
    function base(): SeedOptions {
      return { clientId: client.clientId, clientSecret: client.clientSecret, out, clock, print: () => {} };
    }
  });
});
