import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { ManualClock } from '../../../pipeline/time/clock.ts';
import { type EventSubSender, nanoTimestamp, signEventSubMessage } from './eventsub.ts';
import { fixture, shapeOf } from './fixtures.ts';
import { type FakeTwitch, fakeTwitchApp, startFakeTwitch } from './server.ts';
import { type FakeApp, type FakeToken, type FakeUser, TwitchWorld } from './world.ts';

const START = Date.parse('2025-03-14T18:00:00Z');
const SECRET = 'local-fake-secret-42';
const NANO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const HEADERS = [
  'twitch-eventsub-message-id',
  'twitch-eventsub-message-retry',
  'twitch-eventsub-message-type',
  'twitch-eventsub-message-signature',
  'twitch-eventsub-message-timestamp',
  'twitch-eventsub-subscription-type',
  'twitch-eventsub-subscription-version',
];

interface Received {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly json: {
    challenge?: string;
    subscription: { id: string; status: string; type: string };
    event?: Record<string, unknown>;
  };
}

type Answer = (message: Received) => Response | Promise<Response>;

/** An EventSub callback that records what it gets and answers as the test says. */
interface Callback {
  readonly url: string;
  readonly received: Received[];
  answer: Answer;
  /** Resolves once `count` messages have arrived in all. */
  waitForMessages(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers every message type correctly: the raw challenge as text/plain, 204 otherwise. */
const correctly: Answer = (m) =>
  m.json.challenge !== undefined
    ? new Response(m.json.challenge, { headers: { 'content-type': 'text/plain' } })
    : new Response(null, { status: 204 });

async function startCallback(): Promise<Callback> {
  const received: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const callback = { answer: correctly } as { answer: Answer };
  const app = new Hono();
  app.post('/eventsub', async (c) => {
    const body = await c.req.text();
    const message: Received = { headers: c.req.header(), body, json: JSON.parse(body) };
    received.push(message);
    for (const w of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return callback.answer(message);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(callback, {
    url: `http://127.0.0.1:${port}/eventsub`,
    received,
    waitForMessages: (count: number) =>
      received.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** Waits for the fake's next delivery until `done()` holds (each delivery is a real answer). */
async function until(sender: EventSubSender, done: () => boolean): Promise<void> {
  while (!done()) await once(sender.events, 'delivery');
}

function isValidlySigned(m: Received, secret = SECRET): boolean {
  const expected = signEventSubMessage(
    secret,
    m.headers['twitch-eventsub-message-id']!,
    m.headers['twitch-eventsub-message-timestamp']!,
    m.body,
  );
  return m.headers['twitch-eventsub-message-signature'] === expected;
}

describe('signing and timestamps', () => {
  test('the signature reproduces the contract test vector (§4.2)', () => {
    const v = fixture('eventsub-signature-vector.json') as Record<string, string>;
    assert.equal(Buffer.byteLength(v.body!), 487);
    assert.equal(signEventSubMessage(v.secret!, v.message_id!, v.timestamp!, v.body!), v.signature);
    assert.notEqual(signEventSubMessage(v.secret!, v.message_id!, v.timestamp!, `${v.body} `), v.signature);
  });

  test('timestamps are RFC 3339 UTC with nine fraction digits, the clock’s milliseconds first', () => {
    assert.equal(
      nanoTimestamp(Date.parse('2025-03-14T18:02:11.423Z'), 918_307),
      '2025-03-14T18:02:11.423918307Z',
    );
    assert.equal(nanoTimestamp(0), '1970-01-01T00:00:00.000000000Z');
  });
});

describe('fake EventSub subscription management (app.request)', () => {
  let clock: ManualClock;
  let world: TwitchWorld;
  let fake: ReturnType<typeof fakeTwitchApp>;
  let client: FakeApp;
  let appToken: FakeToken;
  let fox: FakeUser;
  let owl: FakeUser;

  let hanging: Server;
  let hangingCallback: string;
  let deadCallback: string;

  beforeEach(async () => {
    clock = new ManualClock(START);
    world = new TwitchWorld({ clock });
    fake = fakeTwitchApp(world);
    // A callback that accepts and never answers keeps subscriptions pending (the timeout runs on
    // the manual clock); a closed port fails their verification at once.
    hanging = createServer(() => {});
    hangingCallback = `http://127.0.0.1:${await listen(hanging)}/eventsub`;
    const closed = createServer();
    deadCallback = `http://127.0.0.1:${await listen(closed)}/eventsub`;
    await new Promise((resolve) => closed.close(resolve));
    client = world.registerApp();
    appToken = world.issueAppToken(client.clientId);
    fox = world.addUser('pixelfox', { id: '52419331', displayName: 'PixelFox' });
    owl = world.addUser('nightowl', { displayName: 'NightOwl' });
  });

  afterEach(async () => {
    fake.eventSub.close(); // aborts the requests the hanging callback holds
    await fake.eventSub.flush();
    await new Promise((resolve) => hanging.close(resolve));
  });

  function body(overrides: Record<string, unknown> = {}, transport: Record<string, unknown> = {}) {
    return {
      type: 'stream.online',
      version: '1',
      condition: { broadcaster_user_id: fox.id },
      transport: { method: 'webhook', callback: hangingCallback, secret: SECRET, ...transport },
      ...overrides,
    };
  }

  async function call(
    method: string,
    path: string,
    json?: unknown,
    headers: Record<string, string> = {
      authorization: `Bearer ${appToken.accessToken}`,
      'client-id': client.clientId,
    },
  ): Promise<Response> {
    return await fake.app.request(path, {
      method,
      headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
  }

  async function expectError(res: Response | Promise<Response>, status: number, message?: RegExp) {
    const r = await res;
    const json = (await r.json()) as { error: string; status: number; message: string };
    assert.equal(r.status, status, JSON.stringify(json));
    assert.equal(json.status, status);
    assert.equal(typeof json.error, 'string');
    if (message) assert.match(json.message, message);
  }

  test('a create answers 202 with the pending subscription and the fixture’s fields, never the secret', async () => {
    const res = await call('POST', '/helix/eventsub/subscriptions', body());
    assert.equal(res.status, 202);
    const json = (await res.json()) as { data: Record<string, unknown>[]; total: number; total_cost: number };
    assert.deepEqual(shapeOf(json), shapeOf(fixture('eventsub-create-subscription.json')));
    const [s] = json.data;
    assert.equal(s!.status, 'webhook_callback_verification_pending');
    assert.equal(s!.type, 'stream.online');
    assert.deepEqual(s!.condition, { broadcaster_user_id: fox.id });
    assert.deepEqual(s!.transport, { method: 'webhook', callback: hangingCallback });
    assert.match(String(s!.created_at), NANO_TIMESTAMP);
    assert.equal(s!.cost, 1);
    assert.equal(JSON.stringify(json).includes(SECRET), false);
    assert.equal(json.total, 1);
    assert.equal(json.total_cost, 1);
    assert.equal(res.headers.get('ratelimit-limit'), '800');
    assert.equal(res.headers.get('ratelimit-remaining'), '799');
  });

  test('the twurple mock layout /eventsub/subscriptions serves the same subscriptions', async () => {
    assert.equal((await call('POST', '/eventsub/subscriptions', body())).status, 202);
    const listed = (await (await call('GET', '/helix/eventsub/subscriptions')).json()) as { data: unknown[] };
    assert.equal(listed.data.length, 1);
  });

  test('costs 0 once the broadcaster authorized the app; total counts every subscription', async () => {
    world.issueUserToken(client.clientId, owl.id, ['clips:edit']);
    await call('POST', '/helix/eventsub/subscriptions', body());
    const res = await call(
      'POST',
      '/helix/eventsub/subscriptions',
      body({ condition: { broadcaster_user_id: owl.id } }),
    );
    const json = (await res.json()) as { data: { cost: number }[]; total: number; total_cost: number };
    assert.equal(json.data[0]!.cost, 0);
    assert.equal(json.total, 2);
    assert.equal(json.total_cost, 1);
  });

  test('401 without a token, with a dead token, a foreign Client-Id or a user token', async () => {
    const b = body();
    await expectError(call('POST', '/helix/eventsub/subscriptions', b, {}), 401, /missing/);
    await expectError(
      call('POST', '/helix/eventsub/subscriptions', b, {
        authorization: 'Bearer nope',
        'client-id': client.clientId,
      }),
      401,
      /Invalid OAuth token/,
    );
    const other = world.registerApp();
    await expectError(
      call('GET', '/helix/eventsub/subscriptions', undefined, {
        authorization: `Bearer ${appToken.accessToken}`,
        'client-id': other.clientId,
      }),
      401,
      /do not match/,
    );
    const userToken = world.issueUserToken(client.clientId, fox.id, []);
    await expectError(
      call('POST', '/helix/eventsub/subscriptions', b, {
        authorization: `Bearer ${userToken.accessToken}`,
        'client-id': client.clientId,
      }),
      401,
      /app access token/,
    );
    world.expireToken(appToken.accessToken);
    await expectError(call('DELETE', '/helix/eventsub/subscriptions?id=x'), 401, /Invalid OAuth token/);
  });

  test('400 for an unknown type/version, a bad condition, method, callback or secret', async () => {
    const bad: [string, unknown][] = [
      ['unknown type', body({ type: 'channel.follow' })],
      ['wrong version', body({ version: '2' })],
      ['no condition', body({ condition: undefined })],
      ['non-numeric user', body({ condition: { broadcaster_user_id: 'pixelfox' } })],
      ['unknown user', body({ condition: { broadcaster_user_id: '999' } })],
      ['websocket', body({}, { method: 'websocket' })],
      ['no callback', body({}, { callback: undefined })],
      ['not a URL', body({}, { callback: 'notifier' })],
      ['9-char secret', body({}, { secret: 'x'.repeat(9) })],
      ['101-char secret', body({}, { secret: 'x'.repeat(101) })],
      ['non-ASCII secret', body({}, { secret: 'sécrèt-sécrèt' })],
    ];
    for (const [why, b] of bad) {
      const res = await call('POST', '/helix/eventsub/subscriptions', b);
      assert.equal(res.status, 400, why);
    }
    const malformed = await fake.app.request('/helix/eventsub/subscriptions', {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken.accessToken}`, 'client-id': client.clientId },
      body: '{"type":',
    });
    assert.equal(malformed.status, 400);
    assert.equal(fake.eventSub.subscriptions.size, 0);
  });

  test('secrets of exactly 10 and 100 characters are fine', async () => {
    assert.equal(
      (await call('POST', '/helix/eventsub/subscriptions', body({}, { secret: 'x'.repeat(10) }))).status,
      202,
    );
    const offline = body({ type: 'stream.offline' }, { secret: 'y'.repeat(100) });
    assert.equal((await call('POST', '/helix/eventsub/subscriptions', offline)).status, 202);
  });

  test('callbacks must be HTTPS on 443 once plain HTTP is switched off', async () => {
    fake.eventSub.settings.allowInsecureCallbacks = false;
    await expectError(call('POST', '/helix/eventsub/subscriptions', body()), 400, /https/);
    await expectError(
      call(
        'POST',
        '/helix/eventsub/subscriptions',
        body({}, { callback: 'https://127.0.0.1:8443/eventsub' }),
      ),
      400,
      /443/,
    );
    const port9 = await call(
      'POST',
      '/helix/eventsub/subscriptions',
      body({}, { callback: 'https://127.0.0.1:9/x' }),
    );
    assert.equal(port9.status, 400, 'an explicit port other than 443 is refused too');
    const https = await call(
      'POST',
      '/helix/eventsub/subscriptions',
      body({}, { callback: 'https://127.0.0.1/x' }),
    );
    assert.equal(https.status, 202);
  });

  test('409 for a second active subscription of the same type and condition, from any callback', async () => {
    assert.equal((await call('POST', '/helix/eventsub/subscriptions', body())).status, 202);
    const again = body({}, { callback: deadCallback });
    await expectError(call('POST', '/helix/eventsub/subscriptions', again), 409);
    const offline = body({ type: 'stream.offline' });
    assert.equal((await call('POST', '/helix/eventsub/subscriptions', offline)).status, 202, 'another type');
    // Once verification has failed the subscription no longer blocks a new one.
    const owlOnline = body({ condition: { broadcaster_user_id: owl.id } }, { callback: deadCallback });
    assert.equal((await call('POST', '/helix/eventsub/subscriptions', owlOnline)).status, 202);
    await until(fake.eventSub, () =>
      [...fake.eventSub.subscriptions.values()].some((s) => s.status.endsWith('failed')),
    );
    assert.equal((await call('POST', '/helix/eventsub/subscriptions', owlOnline)).status, 202);
  });

  test('GET filters by status, type or user_id, one at a time, oldest first', async () => {
    const dead = { callback: deadCallback };
    await call('POST', '/helix/eventsub/subscriptions', body({}, dead));
    await call('POST', '/helix/eventsub/subscriptions', body({ type: 'stream.offline' }, dead));
    await call(
      'POST',
      '/helix/eventsub/subscriptions',
      body({ condition: { broadcaster_user_id: owl.id } }, dead),
    );
    await until(fake.eventSub, () => fake.eventSub.log.length === 3); // all three fail verification
    await call('POST', '/helix/eventsub/subscriptions', body()); // pending
    const list = async (q: string) => {
      const res = await call('GET', `/helix/eventsub/subscriptions${q}`);
      assert.equal(res.status, 200);
      return (await res.json()) as {
        data: { id: string; type: string; status: string; condition: { broadcaster_user_id: string } }[];
        total: number;
        total_cost: number;
        max_total_cost: number;
        pagination: object;
      };
    };
    const all = await list('');
    assert.equal(all.data.length, 4);
    assert.deepEqual(
      all.data.map((s) => s.status),
      [
        'webhook_callback_verification_failed',
        'webhook_callback_verification_failed',
        'webhook_callback_verification_failed',
        'webhook_callback_verification_pending',
      ],
    );
    assert.equal(all.total, 4);
    assert.equal(all.total_cost, 1, 'failed subscriptions cost nothing');
    assert.equal(all.max_total_cost, 10_000);
    assert.deepEqual(all.pagination, {});
    assert.equal((await list('?status=webhook_callback_verification_pending')).data.length, 1);
    assert.deepEqual(
      (await list('?type=stream.offline')).data.map((s) => s.type),
      ['stream.offline'],
    );
    const owls = await list(`?user_id=${owl.id}`);
    assert.deepEqual(
      owls.data.map((s) => s.condition.broadcaster_user_id),
      [owl.id],
    );
    assert.equal(owls.total, 4, 'total is the app’s whole count, not the filtered one');
    assert.deepEqual(
      (await list(`?subscription_id=${all.data[1]!.id}`)).data.map((s) => s.id),
      [all.data[1]!.id],
    );
    await expectError(
      call('GET', '/helix/eventsub/subscriptions?status=enabled&type=stream.online'),
      400,
      /one filter/,
    );
  });

  test('GET pages with `after` only (first is ignored), pagination {} at the end, 400 for a bad cursor', async () => {
    fake.eventSub.settings.pageSize = 2;
    for (const u of [fox, owl, world.addUser('a'), world.addUser('b'), world.addUser('c')]) {
      await call('POST', '/helix/eventsub/subscriptions', body({ condition: { broadcaster_user_id: u.id } }));
    }
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `?first=100${cursor ? `&after=${cursor}` : ''}`;
      const json = (await (await call('GET', `/helix/eventsub/subscriptions${q}`)).json()) as {
        data: { id: string }[];
        pagination: { cursor?: string };
      };
      ids.push(...json.data.map((s) => s.id));
      cursor = json.pagination.cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(ids, [...fake.eventSub.subscriptions.keys()]);
    await expectError(call('GET', '/helix/eventsub/subscriptions?after=garbage'), 400, /cursor/);
  });

  test('an app sees and deletes only its own subscriptions', async () => {
    await call('POST', '/helix/eventsub/subscriptions', body());
    const [mine] = fake.eventSub.subscriptions.keys();
    const other = world.registerApp();
    const otherToken = world.issueAppToken(other.clientId);
    const asOther = { authorization: `Bearer ${otherToken.accessToken}`, 'client-id': other.clientId };
    const listed = (await (
      await call('GET', '/helix/eventsub/subscriptions', undefined, asOther)
    ).json()) as {
      data: unknown[];
      total: number;
    };
    assert.deepEqual([listed.data.length, listed.total], [0, 0]);
    await expectError(call('DELETE', `/helix/eventsub/subscriptions?id=${mine}`, undefined, asOther), 404);
    assert.equal(fake.eventSub.subscriptions.size, 1);
  });

  test('DELETE answers 204 without a body, 404 for an unknown id, 400 without an id', async () => {
    await call('POST', '/helix/eventsub/subscriptions', body());
    const [id] = fake.eventSub.subscriptions.keys();
    const res = await call('DELETE', `/helix/eventsub/subscriptions?id=${id}`);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal(fake.eventSub.subscriptions.size, 0);
    await expectError(call('DELETE', `/helix/eventsub/subscriptions?id=${id}`), 404);
    await expectError(call('DELETE', '/helix/eventsub/subscriptions'), 400, /id/);
  });

  test('429 with Ratelimit-Remaining 0 once the app’s 800 points per minute are spent', async () => {
    for (let i = 0; i < 800; i++) await call('GET', '/helix/eventsub/subscriptions');
    const res = await call('GET', '/helix/eventsub/subscriptions');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('ratelimit-remaining'), '0');
    assert.equal(Number(res.headers.get('ratelimit-reset')), Math.ceil((START + 60_000) / 1000));
    await clock.advance(60_000);
    assert.equal((await call('GET', '/helix/eventsub/subscriptions')).status, 200);
  });
});

describe('fake EventSub sender (real HTTP)', () => {
  let clock: ManualClock;
  let world: TwitchWorld;
  let twitch: FakeTwitch;
  let callback: Callback;
  let client: FakeApp;
  let appToken: FakeToken;
  let fox: FakeUser;
  let owl: FakeUser;

  beforeEach(async () => {
    clock = new ManualClock(START);
    world = new TwitchWorld({ clock });
    twitch = await startFakeTwitch({ world });
    callback = await startCallback();
    client = world.registerApp();
    appToken = world.issueAppToken(client.clientId);
    fox = world.addUser('pixelfox', { id: '52419331', displayName: 'PixelFox' });
    owl = world.addUser('nightowl', { displayName: 'NightOwl' });
  });

  afterEach(async () => {
    await callback.close();
    await twitch.close();
  });

  /** Creates a subscription over HTTP and waits for its challenge to be answered. */
  async function subscribe(type: string, user: FakeUser, secret = SECRET): Promise<string> {
    const res = await fetch(`${twitch.url}/helix/eventsub/subscriptions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${appToken.accessToken}`,
        'client-id': client.clientId,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        type,
        version: '1',
        condition: { broadcaster_user_id: user.id },
        transport: { method: 'webhook', callback: callback.url, secret },
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { data } = (await res.json()) as { data: { id: string }[] };
    await twitch.eventSub.flush();
    return data[0]!.id;
  }

  function status(id: string): string | undefined {
    return twitch.eventSub.subscriptions.get(id)?.status;
  }

  test('the challenge is signed, carries all seven headers and the fixture’s fields; the raw answer enables', async () => {
    const id = await subscribe('stream.online', fox);
    assert.equal(status(id), 'enabled');
    const [challenge] = callback.received;
    assert.ok(challenge);
    for (const h of HEADERS) assert.ok(challenge.headers[h], `missing ${h}`);
    assert.equal(challenge.headers['content-type'], 'application/json');
    assert.equal(challenge.headers['twitch-eventsub-message-type'], 'webhook_callback_verification');
    assert.equal(challenge.headers['twitch-eventsub-message-retry'], '0');
    assert.equal(challenge.headers['twitch-eventsub-subscription-type'], 'stream.online');
    assert.equal(challenge.headers['twitch-eventsub-subscription-version'], '1');
    assert.match(challenge.headers['twitch-eventsub-message-signature']!, /^sha256=[0-9a-f]{64}$/);
    assert.match(challenge.headers['twitch-eventsub-message-timestamp']!, NANO_TIMESTAMP);
    assert.equal(
      challenge.headers['twitch-eventsub-message-timestamp']!.slice(0, 23),
      '2025-03-14T18:00:00.000',
    );
    assert.ok(isValidlySigned(challenge));
    assert.deepEqual(shapeOf(challenge.json), shapeOf(fixture('eventsub-verification.json')));
    assert.equal(challenge.json.subscription.status, 'webhook_callback_verification_pending');
    assert.deepEqual(
      twitch.eventSub.log.map((r) => [r.messageType, r.status]),
      [['webhook_callback_verification', 200]],
    );
  });

  test('a challenge answered quoted, as text/html, with another status or not at all fails verification', async () => {
    const wrong: Answer[] = [
      (m) => Response.json(m.json.challenge),
      (m) => new Response(m.json.challenge, { headers: { 'content-type': 'text/html' } }),
      (m) => new Response(m.json.challenge, { status: 202, headers: { 'content-type': 'text/plain' } }),
      () => new Response('not-the-challenge', { headers: { 'content-type': 'text/plain' } }),
      () => new Response(null, { status: 204 }),
    ];
    for (const answer of wrong) {
      callback.answer = answer;
      const id = await subscribe('stream.online', fox);
      assert.equal(status(id), 'webhook_callback_verification_failed', answer.toString());
    }
  });

  test('goLive sends one signed stream.online to each matching enabled subscription, shaped like the fixture', async () => {
    const online = await subscribe('stream.online', fox);
    await subscribe('stream.offline', fox);
    await subscribe('stream.online', owl);
    callback.received.length = 0;
    await clock.advance(5_000);
    const stream = world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 1);
    const [m] = callback.received;
    assert.equal(m!.headers['twitch-eventsub-message-type'], 'notification');
    assert.equal(m!.headers['twitch-eventsub-subscription-type'], 'stream.online');
    assert.ok(isValidlySigned(m!));
    assert.equal(m!.headers['twitch-eventsub-message-timestamp']!.slice(0, 19), '2025-03-14T18:00:05');
    assert.deepEqual(shapeOf(m!.json), shapeOf(fixture('eventsub-stream-online.json')));
    assert.equal(m!.json.subscription.id, online);
    assert.deepEqual(m!.json.event, {
      id: stream.id,
      broadcaster_user_id: fox.id,
      broadcaster_user_login: 'pixelfox',
      broadcaster_user_name: 'PixelFox',
      type: 'live',
      started_at: '2025-03-14T18:00:05Z',
    });
  });

  test('goOffline sends stream.offline without stream id or time, shaped like the fixture', async () => {
    await subscribe('stream.online', fox);
    const offline = await subscribe('stream.offline', fox);
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    callback.received.length = 0;
    world.goOffline(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 1);
    const [m] = callback.received;
    assert.equal(m!.headers['twitch-eventsub-subscription-type'], 'stream.offline');
    assert.ok(isValidlySigned(m!));
    assert.deepEqual(shapeOf(m!.json), shapeOf(fixture('eventsub-stream-offline.json')));
    assert.equal(m!.json.subscription.id, offline);
    assert.deepEqual(m!.json.event, {
      broadcaster_user_id: fox.id,
      broadcaster_user_login: 'pixelfox',
      broadcaster_user_name: 'PixelFox',
    });
  });

  test('each subscription is signed with its own secret', async () => {
    await subscribe('stream.online', fox, 'secret-number-one');
    await subscribe('stream.offline', fox, 'secret-number-two');
    world.goLive(fox.id);
    world.goOffline(fox.id);
    await twitch.eventSub.flush();
    const [online, offline] = callback.received.slice(2);
    assert.ok(isValidlySigned(online!, 'secret-number-one'));
    assert.ok(isValidlySigned(offline!, 'secret-number-two'));
    assert.equal(isValidlySigned(offline!, 'secret-number-one'), false);
  });

  test('a failing callback gets the same message id again with a rising retry count, then a revocation', async () => {
    const id = await subscribe('stream.online', fox);
    twitch.eventSub.settings.maxRetries = 2;
    callback.received.length = 0;
    callback.answer = (m) =>
      m.headers['twitch-eventsub-message-type'] === 'revocation'
        ? new Response(null, { status: 204 })
        : new Response('boom', { status: 500 });
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    const notes = callback.received.filter(
      (m) => m.headers['twitch-eventsub-message-type'] === 'notification',
    );
    assert.equal(notes.length, 3);
    assert.equal(new Set(notes.map((m) => m.headers['twitch-eventsub-message-id'])).size, 1);
    assert.deepEqual(
      notes.map((m) => m.headers['twitch-eventsub-message-retry']),
      ['0', '1', '2'],
    );
    assert.ok(notes.every((m) => isValidlySigned(m)));
    const revocation = callback.received.at(-1)!;
    assert.equal(revocation.headers['twitch-eventsub-message-type'], 'revocation');
    assert.ok(isValidlySigned(revocation));
    assert.deepEqual(shapeOf(revocation.json), shapeOf(fixture('eventsub-revocation.json')));
    assert.equal(revocation.json.subscription.status, 'notification_failures_exceeded');
    assert.equal(status(id), 'notification_failures_exceeded');
    assert.deepEqual(
      twitch.eventSub.log.slice(1).map((r) => [r.messageType, r.retry, r.status]),
      [
        ['notification', 0, 500],
        ['notification', 1, 500],
        ['notification', 2, 500],
        ['revocation', 0, 204],
      ],
    );
    // Nothing more is sent to a revoked subscription.
    callback.received.length = 0;
    world.goOffline(fox.id);
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 0);
  });

  test('a callback that recovers before the retries run out keeps its subscription', async () => {
    const id = await subscribe('stream.online', fox);
    let failures = 2;
    callback.answer = () =>
      failures-- > 0 ? new Response(null, { status: 503 }) : new Response(null, { status: 204 });
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.deepEqual(
      twitch.eventSub.log.slice(1).map((r) => r.status),
      [503, 503, 204],
    );
    assert.equal(status(id), 'enabled');
  });

  test('with a retry delay, the resend waits for the world clock', async () => {
    await subscribe('stream.online', fox);
    twitch.eventSub.settings.retryDelayMs = 5_000;
    let failures = 1;
    callback.answer = () =>
      failures-- > 0 ? new Response(null, { status: 500 }) : new Response(null, { status: 204 });
    const firstAnswer = once(twitch.eventSub.events, 'delivery');
    world.goLive(fox.id);
    const done = twitch.eventSub.flush();
    await firstAnswer;
    await clock.advance(4_999);
    assert.equal(twitch.eventSub.log.length, 2, 'no resend before the delay');
    await clock.advance(1);
    await done;
    assert.deepEqual(
      twitch.eventSub.log.slice(1).map((r) => [r.status, r.at - START]),
      [
        [500, 0],
        [204, 5_000],
      ],
    );
  });

  test('a callback that does not answer within the timeout counts as a failure', async () => {
    const id = await subscribe('stream.online', fox);
    twitch.eventSub.settings.maxRetries = 0;
    const released: (() => void)[] = [];
    callback.answer = (m) =>
      m.headers['twitch-eventsub-message-type'] === 'revocation'
        ? new Response(null, { status: 204 })
        : new Promise<Response>((resolve) =>
            released.push(() => resolve(new Response(null, { status: 204 }))),
          );
    world.goLive(fox.id);
    const done = twitch.eventSub.flush();
    await callback.waitForMessages(2); // the challenge, then the notification, which hangs
    await clock.advance(9_999);
    assert.equal(twitch.eventSub.log.length, 1, 'still waiting');
    await clock.advance(1);
    await done;
    assert.deepEqual(
      twitch.eventSub.log.slice(1).map((r) => [r.messageType, r.status]),
      [
        ['notification', 'timeout'],
        ['revocation', 204],
      ],
    );
    assert.equal(status(id), 'notification_failures_exceeded');
    for (const release of released) release();
  });

  test('hooks: a duplicate resends the same bytes; a stale one is old but validly signed; a bad signature fails', async () => {
    const id = await subscribe('stream.online', fox);
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    const original = callback.received.at(-1)!;

    const duplicate = await twitch.eventSub.sendDuplicate();
    const again = callback.received.at(-1)!;
    assert.equal(duplicate.status, 204);
    assert.equal(again.body, original.body);
    for (const h of ['id', 'timestamp', 'signature']) {
      assert.equal(
        again.headers[`twitch-eventsub-message-${h}`],
        original.headers[`twitch-eventsub-message-${h}`],
      );
    }
    assert.equal(twitch.eventSub.answers(duplicate.messageId).length, 2);

    await clock.advance(60_000);
    const stale = await twitch.eventSub.sendStale(id);
    const staleMessage = callback.received.at(-1)!;
    assert.ok(isValidlySigned(staleMessage));
    const age =
      clock.now() - Date.parse(staleMessage.headers['twitch-eventsub-message-timestamp']!.slice(0, 23) + 'Z');
    assert.equal(age, 11 * 60_000);
    assert.notEqual(stale.messageId, duplicate.messageId);
    assert.deepEqual(shapeOf(staleMessage.json), shapeOf(fixture('eventsub-stream-online.json')));

    await twitch.eventSub.sendBadSignature(id);
    const forged = callback.received.at(-1)!;
    assert.match(forged.headers['twitch-eventsub-message-signature']!, /^sha256=[0-9a-f]{64}$/);
    assert.equal(isValidlySigned(forged), false);
  });

  test('the log keeps what the callback answered to each message', async () => {
    const id = await subscribe('stream.online', fox);
    callback.answer = () => new Response('nope', { status: 403, headers: { 'content-type': 'text/plain' } });
    const record = await twitch.eventSub.sendBadSignature(id);
    assert.equal(record.status, 403);
    assert.equal(record.body, 'nope');
    assert.equal(record.contentType, 'text/plain');
    assert.deepEqual(twitch.eventSub.answers(record.messageId), [record]);
  });

  test('revoke sends a signed revocation with the reason and stops deliveries', async () => {
    const online = await subscribe('stream.online', fox);
    const offline = await subscribe('stream.offline', fox);
    await twitch.eventSub.revoke(online, 'authorization_revoked');
    await twitch.eventSub.revoke(offline, 'user_removed');
    const [first, second] = callback.received.slice(-2);
    assert.equal(first!.headers['twitch-eventsub-message-type'], 'revocation');
    assert.ok(isValidlySigned(first!));
    assert.equal(first!.json.subscription.status, 'authorization_revoked');
    assert.equal(second!.json.subscription.status, 'user_removed');
    callback.received.length = 0;
    world.goLive(fox.id);
    world.goOffline(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 0);
  });

  test('a deleted subscription gets nothing more', async () => {
    const id = await subscribe('stream.online', fox);
    const res = await fetch(`${twitch.url}/eventsub/subscriptions?id=${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${appToken.accessToken}`, 'client-id': client.clientId },
    });
    assert.equal(res.status, 204);
    callback.received.length = 0;
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 0);
  });

  test('close stops listening to the world', async () => {
    await subscribe('stream.online', fox);
    callback.received.length = 0;
    twitch.eventSub.close();
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(callback.received.length, 0);
    assert.equal(world.events.listenerCount('online'), 0);
  });
});
