import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../pipeline/time/clock.ts';
import { fixture } from './fixtures.ts';
import { fakeTwitchApp } from './server.ts';
import { TwitchWorld } from './world.ts';

const START = Date.parse('2025-03-14T19:40:00Z');

function setup() {
  const clock = new ManualClock(START);
  const world = new TwitchWorld({ clock });
  const twitchApp = world.registerApp();
  const { app, helix } = fakeTwitchApp(world);
  const bot = world.addUser('ScoutBot');
  const userToken = world.issueUserToken(twitchApp.clientId, bot.id, ['clips:edit', 'chat:read']);
  const appToken = world.issueAppToken(twitchApp.clientId);
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    token: string | undefined = appToken.accessToken,
    headers: Record<string, string> = {},
  ) =>
    app.request(`/helix${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
        'Client-Id': twitchApp.clientId,
        ...headers,
      },
    });
  const get = (path: string, token?: string) => call('GET', path, token);
  const post = (path: string, token: string = userToken.accessToken) => call('POST', path, token);
  const request = async (path: string, init: RequestInit) => app.request(path, init);
  return { clock, world, twitchApp, helix, bot, userToken, appToken, request, call, get, post };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
async function json(res: Response): Promise<any> {
  return await res.json();
}

/** Field names and JSON types, recursively (arrays by their first element). */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? ['empty'] : [shape(value[0])];
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  return typeof value;
}

describe('fake Helix: authentication', () => {
  it('answers 401 with the error body for a missing, unknown, expired or wrongly prefixed token', async () => {
    const t = setup();
    const none = await t.request('/helix/streams', { headers: { 'Client-Id': t.twitchApp.clientId } });
    assert.equal(none.status, 401);
    assert.deepEqual(await json(none), {
      error: 'Unauthorized',
      status: 401,
      message: 'OAuth token is missing',
    });

    const unknown = await t.get('/streams', 'not-a-token');
    assert.equal(unknown.status, 401);
    assert.deepEqual(await json(unknown), {
      error: 'Unauthorized',
      status: 401,
      message: 'Invalid OAuth token',
    });

    const oauthPrefix = await t.call('GET', '/streams', undefined, {
      Authorization: `OAuth ${t.appToken.accessToken}`,
    });
    assert.equal(oauthPrefix.status, 401);

    t.world.expireToken(t.userToken.accessToken);
    const expired = await t.get('/users', t.userToken.accessToken);
    assert.equal(expired.status, 401);
    assert.equal((await json(expired)).message, 'Invalid OAuth token');
  });

  it('refuses a token presented with another client id', async () => {
    const t = setup();
    const other = t.world.registerApp();
    const res = await t.call('GET', '/streams', t.appToken.accessToken, { 'Client-Id': other.clientId });
    assert.equal(res.status, 401);
    assert.equal((await json(res)).message, 'Client ID and OAuth token do not match');
  });

  it('serves the Twitch CLI mock layout (/mock) as well as /helix', async () => {
    const t = setup();
    const res = await t.request('/mock/users?login=scoutbot', {
      headers: { Authorization: `Bearer ${t.appToken.accessToken}`, 'Client-Id': t.twitchApp.clientId },
    });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).data[0].login, 'scoutbot');
  });
});

describe('fake Helix: rate limiting', () => {
  it('counts down Ratelimit-Remaining, answers 429 when empty, and refills per minute on the world clock', async () => {
    const t = setup();
    t.helix.setRateLimit(3);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.get('/streams');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('Ratelimit-Limit'), '3');
      remaining.push(res.headers.get('Ratelimit-Remaining')!);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const limited = await t.get('/streams');
    assert.equal(limited.status, 429);
    assert.deepEqual(await json(limited), {
      error: 'Too Many Requests',
      status: 429,
      message: 'Too Many Requests',
    });
    assert.equal(limited.headers.get('Ratelimit-Remaining'), '0');
    // Empty now, full again a minute later.
    assert.equal(limited.headers.get('Ratelimit-Reset'), String((START + 60_000) / 1000));

    await t.clock.advance(20_000); // 3 points a minute: one point back after 20 s
    assert.equal((await t.get('/streams')).status, 200);
    assert.equal((await t.get('/streams')).status, 429);
  });

  it('keeps one bucket for the app token and one per (client, user)', async () => {
    const t = setup();
    t.helix.drainBucket(t.appToken.accessToken);
    assert.equal((await t.get('/streams')).status, 429);
    const user = await t.get('/streams', t.userToken.accessToken);
    assert.equal(user.status, 200);
    // A second token of the same user draws from the same bucket.
    const again = t.world.issueUserToken(t.twitchApp.clientId, t.bot.id, []);
    t.helix.drainBucket(t.userToken.accessToken);
    assert.equal((await t.get('/streams', again.accessToken)).status, 429);
  });

  it('puts the headers on every answer, errors included', async () => {
    const t = setup();
    for (const res of [
      await t.get('/streams'),
      await t.get('/streams?first=0'),
      await t.get('/streams', 'bad-token'),
      await t.post('/clips', t.appToken.accessToken),
    ]) {
      assert.ok(res.headers.get('Ratelimit-Limit'), `status ${res.status} has Ratelimit-Limit`);
      assert.ok(res.headers.get('Ratelimit-Remaining'), `status ${res.status} has Ratelimit-Remaining`);
      assert.match(res.headers.get('Ratelimit-Reset') ?? '', /^\d+$/);
    }
  });
});

describe('fake Helix: Get Streams', () => {
  function liveWorld(count: number) {
    const t = setup();
    const users = Array.from({ length: count }, (_, i) => t.world.addUser(`chan${i}`));
    for (const [i, u] of users.entries()) {
      t.world.goLive(u.id, {
        viewerCount: 1000 + i * 7,
        language: i % 2 ? 'de' : 'en',
        gameId: String(i % 3),
      });
    }
    return { ...t, users };
  }

  it('lists live streams by viewers, 20 a page by default, with a cursor until the last page', async () => {
    const t = liveWorld(25);
    const page1 = await t.get('/streams').then(json);
    assert.equal(page1.data.length, 20);
    const viewers = page1.data.map((s: { viewer_count: number }) => s.viewer_count);
    assert.deepEqual(
      viewers,
      [...viewers].sort((a, b) => b - a),
    );
    assert.equal(page1.data[0].user_login, 'chan24');
    assert.equal(typeof page1.pagination.cursor, 'string');
    const page2 = await t.get(`/streams?after=${page1.pagination.cursor}`).then(json);
    assert.equal(page2.data.length, 5);
    assert.deepEqual(page2.pagination, {});
    const all = [...page1.data, ...page2.data].map((s: { id: string }) => s.id);
    assert.equal(new Set(all).size, 25);
    // A page's cursor also leads back: `before` gives the page in front of it.
    const first5 = await t.get('/streams?first=5').then(json);
    const second5 = await t.get(`/streams?first=5&after=${first5.pagination.cursor}`).then(json);
    const back = await t.get(`/streams?first=5&before=${second5.pagination.cursor}`).then(json);
    assert.deepEqual(
      back.data.map((s: { id: string }) => s.id),
      first5.data.map((s: { id: string }) => s.id),
    );
    assert.deepEqual(
      second5.data.map((s: { id: string }) => s.id),
      page1.data.slice(5, 10).map((s: { id: string }) => s.id),
    );
  });

  it('omits streams that went offline and filters by repeated user_id, user_login, game_id and language', async () => {
    const t = liveWorld(6);
    t.world.goOffline(t.users[5]!.id);
    const all = await t.get('/streams').then(json);
    assert.equal(all.data.length, 5);
    const byUser = await t
      .get(`/streams?user_id=${t.users[0]!.id}&user_login=CHAN1&user_id=${t.users[5]!.id}`)
      .then(json);
    assert.deepEqual(byUser.data.map((s: { user_login: string }) => s.user_login).sort(), ['chan0', 'chan1']);
    const byGame = await t.get('/streams?game_id=0&game_id=1').then(json);
    assert.deepEqual(byGame.data.map((s: { user_login: string }) => s.user_login).sort(), [
      'chan0',
      'chan1',
      'chan3',
      'chan4',
    ]);
    const byLanguage = await t.get('/streams?language=de').then(json);
    assert.deepEqual(byLanguage.data.map((s: { user_login: string }) => s.user_login).sort(), [
      'chan1',
      'chan3',
    ]);
  });

  it('answers 400 for a bad first, cursor or type, and for more than 100 values of a parameter', async () => {
    const t = liveWorld(2);
    for (const query of [
      'first=0',
      'first=101',
      'first=abc',
      'after=%%%',
      'after=bm90LWpzb24',
      'type=vodcast',
    ]) {
      const res = await t.get(`/streams?${query}`);
      assert.equal(res.status, 400, query);
      const body = await json(res);
      assert.equal(body.error, 'Bad Request');
      assert.equal(body.status, 400);
    }
    const many = Array.from({ length: 101 }, (_, i) => `user_id=${i}`).join('&');
    assert.equal((await t.get(`/streams?${many}`)).status, 400);
    const hundred = Array.from({ length: 100 }, (_, i) => `user_id=${i}`).join('&');
    assert.equal((await t.get(`/streams?${hundred}`)).status, 200);
    assert.equal((await t.get('/streams?first=100')).status, 200);
  });
});

describe('fake Helix: Get Users', () => {
  it('looks up repeated ids and logins, omitting unknown ones', async () => {
    const t = setup();
    const fox = t.world.addUser('PixelFox', { broadcasterType: 'affiliate' });
    const res = await t.get(`/users?id=${fox.id}&login=scoutbot&id=999&login=nobody`).then(json);
    assert.deepEqual(
      res.data.map((u: { login: string }) => u.login),
      ['pixelfox', 'scoutbot'],
    );
    assert.equal(res.data[0].display_name, 'PixelFox');
    assert.equal(res.data[0].broadcaster_type, 'affiliate');
  });

  it("returns the token's own user with a user token and no parameters; 400 with an app token", async () => {
    const t = setup();
    const own = await t.get('/users', t.userToken.accessToken).then(json);
    assert.deepEqual(
      own.data.map((u: { id: string }) => u.id),
      [t.bot.id],
    );
    assert.equal((await t.get('/users')).status, 400);
  });

  it('answers 400 for more than 100 ids and logins together', async () => {
    const t = setup();
    const query = [
      ...Array.from({ length: 60 }, (_, i) => `id=${i}`),
      ...Array.from({ length: 41 }, (_, i) => `login=u${i}`),
    ].join('&');
    assert.equal((await t.get(`/users?${query}`)).status, 400);
  });
});

describe('fake Helix: Create Clip and Get Clips', () => {
  function clipWorld() {
    const t = setup();
    const fox = t.world.addUser('PixelFox');
    t.world.goLive(fox.id, { title: 'late night build stream', viewerCount: 1287 });
    return { ...t, fox };
  }

  it('creates a clip (202) that Get Clips shows only after the processing delay', async () => {
    const t = clipWorld();
    const created = await t.post(`/clips?broadcaster_id=${t.fox.id}`);
    assert.equal(created.status, 202);
    const body = await json(created);
    const id = body.data[0].id as string;
    assert.equal(body.data[0].edit_url, `https://clips.twitch.tv/${id}/edit`);

    const early = await t.get(`/clips?id=${id}`).then(json);
    assert.deepEqual(early, { data: [], pagination: {} });
    await t.clock.advance(4_999);
    assert.equal((await t.get(`/clips?id=${id}`).then(json)).data.length, 0);
    await t.clock.advance(1);
    const clip = (await t.get(`/clips?id=${id}`).then(json)).data[0];
    assert.equal(clip.id, id);
    assert.equal(clip.broadcaster_id, t.fox.id);
    assert.equal(clip.broadcaster_name, 'PixelFox');
    assert.equal(clip.creator_id, t.bot.id);
    assert.equal(clip.embed_url, `https://clips.twitch.tv/embed?clip=${id}`);
    assert.equal(clip.title, 'late night build stream');
    assert.equal(clip.created_at, '2025-03-14T19:40:00Z');
    assert.ok(t.world.clips.has(id));
  });

  it('honours a changed processing delay, and "never"', async () => {
    const t = clipWorld();
    t.helix.setClipDelay(60_000);
    const slow = (await t.post(`/clips?broadcaster_id=${t.fox.id}`).then(json)).data[0].id;
    t.helix.setClipDelay('never');
    const lost = (await t.post(`/clips?broadcaster_id=${t.fox.id}`).then(json)).data[0].id;
    await t.clock.advance(30_000);
    assert.equal((await t.get(`/clips?id=${slow}&id=${lost}`).then(json)).data.length, 0);
    await t.clock.advance(30_000);
    const later = await t.get(`/clips?id=${lost}&id=${slow}`).then(json);
    assert.deepEqual(
      later.data.map((c: { id: string }) => c.id),
      [slow],
    );
  });

  it('refuses app tokens and tokens without clips:edit (401), disabled clipping (403), offline channels (404)', async () => {
    const t = clipWorld();
    const asApp = await t.post(`/clips?broadcaster_id=${t.fox.id}`, t.appToken.accessToken);
    assert.equal(asApp.status, 401);
    const noScope = t.world.issueUserToken(t.twitchApp.clientId, t.bot.id, ['chat:read']);
    const scopeless = await t.post(`/clips?broadcaster_id=${t.fox.id}`, noScope.accessToken);
    assert.equal(scopeless.status, 401);
    assert.deepEqual(await json(scopeless), {
      error: 'Unauthorized',
      status: 401,
      message: 'Missing scope: clips:edit',
    });
    const missing = await t.post('/clips');
    assert.equal(missing.status, 400);
    assert.equal((await json(missing)).message, 'Missing required parameter "broadcaster_id"');

    const quiet = t.world.addUser('quiet');
    const offline = await t.post(`/clips?broadcaster_id=${quiet.id}`);
    assert.equal(offline.status, 404);
    assert.deepEqual(await json(offline), {
      error: 'Not Found',
      status: 404,
      message: 'Clipping is not possible for an offline channel.',
    });

    t.world.disableClipping(t.fox.id);
    const disabled = await t.post(`/clips?broadcaster_id=${t.fox.id}`);
    assert.equal(disabled.status, 403);
    assert.equal((await json(disabled)).error, 'Forbidden');
    assert.equal(t.world.clips.size, 0);
  });

  it('accepts has_delay, title and duration', async () => {
    const t = clipWorld();
    t.helix.setClipDelay(0);
    const ok = await t
      .post(`/clips?broadcaster_id=${t.fox.id}&has_delay=true&title=gg&duration=12.5`)
      .then(json);
    const clip = (await t.get(`/clips?id=${ok.data[0].id}`).then(json)).data[0];
    assert.equal(clip.title, 'gg');
    assert.equal(clip.duration, 12.5);
    assert.equal((await t.post(`/clips?broadcaster_id=${t.fox.id}&duration=61`)).status, 400);
  });

  it('needs exactly one of id, broadcaster_id, game_id; lists a broadcaster with pagination', async () => {
    const t = clipWorld();
    t.helix.setClipDelay(0);
    assert.equal((await t.get('/clips')).status, 400);
    assert.equal((await t.get(`/clips?id=x&broadcaster_id=${t.fox.id}`)).status, 400);
    for (let i = 0; i < 3; i++) {
      await t.post(`/clips?broadcaster_id=${t.fox.id}`);
      await t.clock.advance(1_000);
    }
    const page1 = await t.get(`/clips?broadcaster_id=${t.fox.id}&first=2`).then(json);
    assert.equal(page1.data.length, 2);
    const page2 = await t
      .get(`/clips?broadcaster_id=${t.fox.id}&first=2&after=${page1.pagination.cursor}`)
      .then(json);
    assert.equal(page2.data.length, 1);
    assert.deepEqual(page2.pagination, {});
    const byGame = await t.get('/clips?game_id=509658').then(json);
    assert.equal(byGame.data.length, 3);
    const ids = page1.data.map((c: { id: string }) => c.id);
    const byId = await t.get(`/clips?id=${ids[1]}&id=nope&id=${ids[0]}&id=${ids[1]}`).then(json);
    assert.deepEqual(
      byId.data.map((c: { id: string }) => c.id),
      [ids[1], ids[0]],
    );
  });
});

describe('fake Helix: hooks', () => {
  it('injects failures for the next N calls of one endpoint, then answers normally', async () => {
    const t = setup();
    t.helix.failNext('GET /users', 503, { count: 2 });
    const first = await t.get('/users?login=scoutbot');
    assert.equal(first.status, 503);
    assert.deepEqual(await json(first), { error: 'Service Unavailable', status: 503, message: '' });
    assert.equal((await t.get('/streams')).status, 200, 'other endpoints are untouched');
    assert.equal((await t.get('/users?login=scoutbot')).status, 503);
    assert.equal((await t.get('/users?login=scoutbot')).status, 200);
    assert.equal(t.helix.calls('GET /users'), 3);
    assert.equal(t.helix.calls('GET /streams'), 1);
    assert.equal(t.helix.calls('POST /clips'), 0);
  });

  it('injects a 429 whose Ratelimit-Reset lies the given time ahead', async () => {
    const t = setup();
    t.helix.failNext('GET /streams', 429, { resetInMs: 3_000 });
    const res = await t.get('/streams');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('Ratelimit-Remaining'), '0');
    assert.equal(res.headers.get('Ratelimit-Reset'), String((START + 3_000) / 1000));
  });

  it('runs onCall listeners before answering, with the call number', async () => {
    const t = setup();
    const fox = t.world.addUser('fox');
    const seen: number[] = [];
    const off = t.helix.onCall('GET /streams', (n) => {
      seen.push(n);
      if (n === 2) t.world.goLive(fox.id);
    });
    assert.equal((await t.get('/streams').then(json)).data.length, 0);
    assert.equal((await t.get('/streams').then(json)).data.length, 1);
    off();
    await t.get('/streams');
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('fake Helix: shapes equal the documentation examples', () => {
  it('Get Streams, Get Users, Create Clip and Get Clips have the fixtures’ field names and JSON types', async () => {
    const t = setup();
    t.helix.setClipDelay(0);
    const fox = t.world.addUser('PixelFox');
    const owl = t.world.addUser('NightOwl');
    t.world.goLive(fox.id, { tags: ['English', 'Coding'] });
    t.world.goLive(owl.id);

    const streams = await t.get('/streams?first=1').then(json);
    assert.deepEqual(shape(streams), shape(fixture('get-streams.json')));
    const users = await t.get(`/users?id=${fox.id}`).then(json);
    assert.deepEqual(shape(users), shape(fixture('get-users.json')));
    const created = await t.post(`/clips?broadcaster_id=${fox.id}`).then(json);
    assert.deepEqual(shape(created), shape(fixture('create-clip.json')));
    const clips = await t.get(`/clips?id=${created.data[0].id}`).then(json);
    assert.deepEqual(shape(clips), shape(fixture('get-clips.json')));
  });
});
