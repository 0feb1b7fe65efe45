import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { type AccessTokenMaybeWithUserId, type AuthProvider, StaticAuthProvider } from '@twurple/auth';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { TwitchWorld } from '../../test/fakes/twitch/world.ts';
import { HelixClient, type HelixClientOptions, HelixError, type HelixEvent, helixBaseUrl } from './helix.ts';

const START = Date.parse('2025-03-14T19:40:00Z');
/** A failure guard only: every wait below ends on a real event long before this. */
const SAFETY_MS = 10_000;

/** Records the client's events and lets a test await the n-th one of a type. */
class EventLog {
  readonly all: HelixEvent[] = [];
  private waiters: { type: HelixEvent['type']; count: number; resolve: (e: HelixEvent) => void }[] = [];

  readonly push = (event: HelixEvent): void => {
    this.all.push(event);
    this.waiters = this.waiters.filter((w) => {
      const seen = this.of(w.type);
      if (seen.length < w.count) return true;
      w.resolve(seen[w.count - 1]!);
      return false;
    });
  };

  of<T extends HelixEvent['type']>(type: T): Extract<HelixEvent, { type: T }>[] {
    return this.all.filter((e): e is Extract<HelixEvent, { type: T }> => e.type === type);
  }

  /** Resolves with the `count`-th event of `type` (at once if it already happened). */
  waitFor<T extends HelixEvent['type']>(type: T, count = 1): Promise<Extract<HelixEvent, { type: T }>> {
    const seen = this.of(type);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]!);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`no ${type} event #${count}`)), SAFETY_MS);
      this.waiters.push({
        type,
        count,
        resolve: (e) => {
          clearTimeout(guard);
          resolve(e as Extract<HelixEvent, { type: T }>);
        },
      });
    });
  }
}

async function setup(options: Partial<HelixClientOptions> = {}) {
  const clock = new ManualClock(START);
  const world = new TwitchWorld({ clock });
  const twitchApp = world.registerApp();
  const bot = world.addUser('scoutbot');
  const token = world.issueUserToken(twitchApp.clientId, bot.id, ['clips:edit']);
  const fake = await startFakeTwitch({ world });
  // How twurple (and so our client) is pointed at a local Twitch CLI-style mock.
  process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
  const events = new EventLog();
  const helix = new HelixClient({
    authProvider: new StaticAuthProvider(twitchApp.clientId, token.accessToken),
    clock,
    retry: { attempts: 3, baseDelayMs: 1_000 },
    onEvent: events.push,
    ...options,
  });
  return { clock, world, twitchApp, bot, token, fake, events, helix };
}

function goLiveMany(world: TwitchWorld, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const user = world.addUser(`chan${i}`);
    return world.goLive(user.id, { viewerCount: 10 * (i + 1) });
  });
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('HelixClient: configuration', () => {
  it('reaches Twitch, or the mock API when TWURPLE_MOCK_API_PORT is set', () => {
    assert.equal(helixBaseUrl({}), 'https://api.twitch.tv/helix');
    assert.equal(helixBaseUrl({ TWURPLE_MOCK_API_PORT: '4321' }), 'http://localhost:4321/mock');
  });
});

describe('HelixClient: topStreams', () => {
  it('pages through Get Streams 100 at a time and returns our records in viewer order', async () => {
    const t = await setup();
    try {
      goLiveMany(t.world, 250);
      const top = await t.helix.topStreams(230);
      assert.equal(top.length, 230);
      assert.equal(t.fake.helix.calls('GET /streams'), 3);
      const expected = t.world.liveStreams().slice(0, 230);
      assert.deepEqual(
        top.map((s) => s.stream_id),
        expected.map((s) => s.id),
      );
      const first = top[0]!;
      const user = t.world.users.get(expected[0]!.userId)!;
      assert.deepEqual(first, {
        stream_id: expected[0]!.id,
        broadcaster_id: Number(user.id),
        broadcaster_login: user.login,
        broadcaster_name: user.displayName,
        game_id: '509658',
        game_name: 'Just Chatting',
        title: expected[0]!.title,
        viewer_count: 2500,
        language: 'en',
        started_at: START,
        thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${user.login}-440x248.jpg`,
      });
      // The default is the top 100: one page.
      assert.equal((await t.helix.topStreams()).length, 100);
      assert.equal(t.fake.helix.calls('GET /streams'), 4);
      assert.equal(t.helix.stats().requests, 4);
    } finally {
      await t.fake.close();
    }
  });

  it('drops a stream that a later page repeats as viewer counts move', async () => {
    const t = await setup();
    try {
      const streams = goLiveMany(t.world, 150);
      const before = t.world.liveStreams();
      // Between the pages the last stream jumps to the top: everyone else slides down one place,
      // so page 2 starts with the stream page 1 ended with.
      t.fake.helix.onCall('GET /streams', (n) => {
        if (n === 2) t.world.setViewers(streams[0]!.userId, 1_000_000);
      });
      const top = await t.helix.topStreams(150);
      assert.equal(t.fake.helix.calls('GET /streams'), 2);
      const ids = top.map((s) => s.stream_id);
      assert.equal(new Set(ids).size, ids.length, 'no stream twice');
      assert.deepEqual(
        ids,
        before.slice(0, 149).map((s) => s.id),
      );
    } finally {
      await t.fake.close();
    }
  });
});

describe('HelixClient: resilience', () => {
  it('retries a 503 after the backoff, measured on the clock', async () => {
    const t = await setup();
    try {
      goLiveMany(t.world, 3);
      t.fake.helix.failNext('GET /streams', 503);
      const top = t.helix.topStreams(10);
      const retry = await t.events.waitFor('retry');
      assert.equal(retry.delayMs, 1_000);
      assert.equal(t.clock.nextAt(), START + 1_000, 'the retry waits on the clock');
      await t.clock.advance(999);
      assert.equal(t.fake.helix.calls('GET /streams'), 1, 'no retry before the backoff ends');
      await t.clock.advance(1);
      assert.equal((await top).length, 3);
      assert.equal(t.fake.helix.calls('GET /streams'), 2);
      const stats = t.helix.stats();
      assert.equal(stats.errors.server, 1);
      assert.equal(stats.retries, 1);
      assert.equal(stats.requests, 2);
    } finally {
      await t.fake.close();
    }
  });

  it('doubles the wait and gives up after the configured attempts with the last error', async () => {
    const t = await setup();
    try {
      t.fake.helix.failNext('GET /streams', 500, { count: 3 });
      const top = t.helix.topStreams(10);
      const failed = assert.rejects(top, (e: unknown) => {
        assert.ok(e instanceof HelixError);
        assert.equal(e.status, 500);
        assert.equal(e.kind, 'server');
        assert.equal(e.message, 'Twitch Helix GET /streams answered 500 Internal Server Error');
        return true;
      });
      assert.equal((await t.events.waitFor('retry', 1)).delayMs, 1_000);
      await t.clock.advance(1_000);
      assert.equal((await t.events.waitFor('retry', 2)).delayMs, 2_000);
      await t.clock.advance(2_000);
      await failed;
      assert.equal(t.fake.helix.calls('GET /streams'), 3);
      assert.equal(t.helix.stats().errors.server, 3);
      assert.equal(t.events.of('retry').length, 2);
    } finally {
      await t.fake.close();
    }
  });

  it('retries network failures too, and names them', async () => {
    const t = await setup({ retry: { attempts: 2, baseDelayMs: 500 } });
    const port = await deadPort();
    const helix = new HelixClient({
      authProvider: new StaticAuthProvider(t.twitchApp.clientId, t.token.accessToken),
      clock: t.clock,
      baseUrl: `http://127.0.0.1:${port}/helix`,
      retry: { attempts: 2, baseDelayMs: 500 },
      onEvent: t.events.push,
    });
    try {
      const top = helix.topStreams(10);
      const failed = assert.rejects(top, (e: unknown) => {
        assert.ok(e instanceof HelixError);
        assert.equal(e.kind, 'network');
        assert.equal(e.status, undefined);
        assert.match(e.message, /^Twitch Helix GET \/streams failed: .*ECONNREFUSED/);
        return true;
      });
      assert.equal((await t.events.waitFor('retry')).delayMs, 500);
      await t.clock.advance(500);
      await failed;
      assert.equal(helix.stats().errors.network, 2);
      assert.equal(helix.stats().requests, 2);
    } finally {
      await t.fake.close();
    }
  });

  it('times a hanging request out on the clock', async () => {
    const t = await setup();
    let arrive = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const hanging = createServer(() => arrive());
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const helix = new HelixClient({
      authProvider: new StaticAuthProvider(t.twitchApp.clientId, t.token.accessToken),
      clock: t.clock,
      baseUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/helix`,
      retry: { attempts: 1 },
      timeoutMs: 5_000,
    });
    try {
      const failed = assert.rejects(helix.topStreams(10), {
        name: 'HelixError',
        kind: 'timeout',
        message: /timed out after 5000 ms/,
      });
      await arrived;
      await t.clock.advance(4_999);
      assert.equal(helix.stats().errors.timeout, 0);
      await t.clock.advance(1);
      await failed;
      assert.equal(helix.stats().errors.timeout, 1);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await t.fake.close();
    }
  });

  it('waits on a 429 until Ratelimit-Reset on the clock, counts the wait, then succeeds', async () => {
    const t = await setup();
    try {
      goLiveMany(t.world, 2);
      t.fake.helix.failNext('GET /streams', 429, { resetInMs: 5_000 });
      const top = t.helix.topStreams(10);
      const wait = await t.events.waitFor('rate-limit-wait');
      assert.equal(wait.waitMs, 5_000);
      assert.equal(t.clock.nextAt(), START + 5_000, 'the wait ends at Ratelimit-Reset');
      await t.clock.advance(4_999);
      assert.equal(t.fake.helix.calls('GET /streams'), 1);
      await t.clock.advance(1);
      assert.equal((await top).length, 2);
      const stats = t.helix.stats();
      assert.equal(stats.rateLimitWaits, 1);
      assert.equal(stats.rateLimitWaitMs, 5_000);
      assert.equal(stats.errors['rate-limit'], 1);
      assert.equal(stats.retries, 0, 'a 429 is not a backoff retry');
    } finally {
      await t.fake.close();
    }
  });

  it('waits out a bucket Twitch reported empty instead of spending a request on a 429', async () => {
    const t = await setup();
    try {
      t.fake.helix.setRateLimit(2);
      await t.helix.users({ logins: ['scoutbot'] });
      await t.helix.users({ logins: ['scoutbot'] }); // Ratelimit-Remaining: 0
      const third = t.helix.users({ logins: ['scoutbot'] });
      const wait = await t.events.waitFor('rate-limit-wait');
      assert.equal(wait.waitMs, 60_000, 'the bucket is full again a minute later');
      assert.equal(t.clock.nextAt(), START + 60_000);
      assert.equal(t.fake.helix.calls('GET /users'), 2);
      await t.clock.advance(60_000);
      assert.equal((await third).length, 1);
      assert.equal(t.fake.helix.calls('GET /users'), 3);
      assert.equal(t.helix.stats().errors['rate-limit'], 0);
    } finally {
      await t.fake.close();
    }
  });

  it('with retry: false, fails at once on a 503 or a 429', async () => {
    const t = await setup();
    try {
      t.fake.helix.failNext('GET /users', 503);
      t.fake.helix.failNext('GET /users', 429, { resetInMs: 30_000 });
      await assert.rejects(t.helix.users({ logins: ['scoutbot'] }, { retry: false }), { status: 503 });
      await assert.rejects(t.helix.users({ logins: ['scoutbot'] }, { retry: false }), { status: 429 });
      assert.equal(t.events.of('retry').length + t.events.of('rate-limit-wait').length, 0);
      assert.equal(t.clock.pending(), 0, 'nothing waits on the clock');
    } finally {
      await t.fake.close();
    }
  });
});

describe('HelixClient: authentication', () => {
  it('fails a 401 with a clear one-line error when the provider cannot refresh', async () => {
    const t = await setup();
    try {
      assert.equal((await t.helix.users({ logins: ['scoutbot'] })).length, 1);
      t.world.expireToken(t.token.accessToken);
      await assert.rejects(t.helix.users({ logins: ['scoutbot'] }), (e: unknown) => {
        assert.ok(e instanceof HelixError);
        assert.equal(e.status, 401);
        assert.equal(e.kind, 'auth');
        assert.match(
          e.message,
          /^Twitch Helix GET \/users answered 401 Unauthorized: Invalid OAuth token \(/,
        );
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
      assert.equal(t.fake.helix.calls('GET /users'), 2, 'a 401 is not retried');
      assert.equal(t.helix.stats().errors.auth, 1);
    } finally {
      await t.fake.close();
    }
  });

  it('says so when the provider has no usable token at all', async () => {
    const t = await setup({ authProvider: new StaticAuthProvider('unknown-client', 'not-a-token') });
    try {
      await assert.rejects(t.helix.topStreams(), {
        name: 'HelixError',
        kind: 'auth',
        message: /^Twitch Helix GET \/streams: no usable access token \(/,
      });
      assert.equal(t.fake.helix.calls('GET /streams'), 0);
    } finally {
      await t.fake.close();
    }
  });

  it('refreshes once on a 401 when the provider can, and retries with the new token', async () => {
    const t = await setup();
    let current: AccessTokenMaybeWithUserId = {
      accessToken: t.token.accessToken,
      refreshToken: t.token.refreshToken,
      scope: ['clips:edit'],
      expiresIn: null,
      obtainmentTimestamp: START,
      userId: t.bot.id,
    };
    const refreshing: AuthProvider = {
      clientId: t.twitchApp.clientId,
      getCurrentScopesForUser: () => ['clips:edit'],
      getAccessTokenForUser: async () => ({ ...current, userId: t.bot.id }),
      getAnyAccessToken: async () => current,
      refreshAccessTokenForUser: async () => {
        const fresh = t.world.refresh(current.refreshToken!, t.twitchApp.clientId)!;
        current = { ...current, accessToken: fresh.accessToken, refreshToken: fresh.refreshToken };
        return { ...current, userId: t.bot.id };
      },
    };
    const helix = new HelixClient({ authProvider: refreshing, clock: t.clock, onEvent: t.events.push });
    try {
      t.world.expireToken(t.token.accessToken);
      assert.equal((await helix.users({ logins: ['scoutbot'] })).length, 1);
      assert.equal(t.fake.helix.calls('GET /users'), 2);
      assert.notEqual(current.accessToken, t.token.accessToken);
      assert.equal(helix.stats().errors.auth, 1);
    } finally {
      await t.fake.close();
    }
  });
});

describe('HelixClient: users', () => {
  it('looks up ids and logins 100 a request and leaves unknown ones out', async () => {
    const t = await setup();
    try {
      const users = Array.from({ length: 120 }, (_, i) => t.world.addUser(`viewer${i}`));
      const found = await t.helix.users({
        ids: [...users.slice(0, 110).map((u) => Number(u.id)), 999],
        logins: ['Viewer115', 'nobody'],
      });
      assert.equal(t.fake.helix.calls('GET /users'), 2);
      assert.equal(found.length, 111);
      assert.deepEqual(found.at(-1), {
        id: Number(users[115]!.id),
        login: 'viewer115',
        displayName: 'viewer115',
        broadcasterType: '',
        profileImageUrl: 'https://static-cdn.jtvnw.net/jtv_user_pictures/viewer115-profile_image-300x300.png',
        createdAt: Date.parse('2016-08-02T11:20:45Z'),
      });
    } finally {
      await t.fake.close();
    }
  });
});
