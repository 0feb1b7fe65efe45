import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { ApiClient } from '@twurple/api';
import { AppTokenAuthProvider } from '@twurple/auth';
import { Hono } from 'hono';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { type FakeTwitch, startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { type FakeApp, type FakeUser, TwitchWorld } from '../../test/fakes/twitch/world.ts';
import {
  EventSubError,
  type EventSubOutcome,
  type EventSubRevocation,
  EventSubSubscriptions,
  eventSubHandler,
  eventSubSignature,
  isValidEventSubSignature,
  parseRfc3339,
  type StreamStatusEvent,
} from './eventsub.ts';

const SECRET = 'local-fake-secret-42';
const MINUTE = 60_000;

function fixtureText(name: string): string {
  return readFileSync(new URL(`../../test/fakes/twitch/fixtures/${name}`, import.meta.url), 'utf8');
}

/** The §4.2 test vector: a real stream.online notification with its signature. */
const VECTOR = JSON.parse(fixtureText('eventsub-signature-vector.json')) as {
  secret: string;
  message_id: string;
  timestamp: string;
  body: string;
  signature: string;
};
const VECTOR_AT = parseRfc3339(VECTOR.timestamp)!;

interface Message {
  id?: string;
  timestamp?: string;
  type?: string;
  body: string;
  secret?: string;
  signature?: string;
  /** Header names to leave out. */
  omit?: string[];
}

/** A request as Twitch would send it, signed unless `signature` says otherwise. */
function request(m: Message): RequestInit {
  const id = m.id ?? randomUUID();
  const timestamp = m.timestamp ?? VECTOR.timestamp;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'twitch-eventsub-message-id': id,
    'twitch-eventsub-message-retry': '0',
    'twitch-eventsub-message-type': m.type ?? 'notification',
    'twitch-eventsub-message-signature':
      m.signature ?? eventSubSignature(m.secret ?? SECRET, id, timestamp, m.body),
    'twitch-eventsub-message-timestamp': timestamp,
    'twitch-eventsub-subscription-type': 'stream.online',
    'twitch-eventsub-subscription-version': '1',
  };
  for (const h of m.omit ?? []) delete headers[h];
  return { method: 'POST', headers, body: m.body };
}

describe('signatures and timestamps', () => {
  test('the signature of the contract’s test vector matches, and any change to id, time or body breaks it', () => {
    const { secret, message_id: id, timestamp, body, signature } = VECTOR;
    assert.equal(eventSubSignature(secret, id, timestamp, body), signature);
    assert.equal(eventSubSignature(secret, id, timestamp, Buffer.from(body)), signature);
    assert.ok(isValidEventSubSignature(secret, id, timestamp, body, signature));
    assert.ok(
      isValidEventSubSignature(
        secret,
        id,
        timestamp,
        body,
        signature.toUpperCase().replace('SHA256', 'sha256'),
      ),
    );
    assert.equal(isValidEventSubSignature(secret, `${id}x`, timestamp, body, signature), false);
    assert.equal(
      isValidEventSubSignature(secret, id, '2025-03-14T18:02:11.423918308Z', body, signature),
      false,
    );
    assert.equal(
      isValidEventSubSignature(secret, id, timestamp, body.replace('pixelfox', 'pixelf0x'), signature),
      false,
    );
    assert.equal(isValidEventSubSignature('another-secret', id, timestamp, body, signature), false);
    assert.equal(isValidEventSubSignature(secret, id, timestamp, body, signature.slice(0, -1)), false);
    assert.equal(isValidEventSubSignature(secret, id, timestamp, body, ''), false);
  });

  test('RFC 3339 times parse with nine, three or no fraction digits and with offsets', () => {
    assert.equal(parseRfc3339('2025-03-14T18:02:11.423918307Z'), Date.parse('2025-03-14T18:02:11.423Z'));
    assert.equal(parseRfc3339('2025-03-14T18:02:09Z'), Date.parse('2025-03-14T18:02:09Z'));
    assert.equal(parseRfc3339('2025-03-14T18:02:09.5Z'), Date.parse('2025-03-14T18:02:09.500Z'));
    assert.equal(parseRfc3339('2025-03-14T19:02:09+01:00'), Date.parse('2025-03-14T18:02:09Z'));
    assert.equal(parseRfc3339('yesterday'), undefined);
    assert.equal(parseRfc3339('2025-03-14 18:02:09Z'), undefined);
    assert.equal(parseRfc3339('2025-13-14T18:02:09Z'), undefined);
  });
});

describe('eventSubHandler (app.request)', () => {
  let clock: ManualClock;
  let events: StreamStatusEvent[];
  let revocations: EventSubRevocation[];
  let outcomes: EventSubOutcome[];
  let app: Hono;
  let failNext: number;

  function handler(extra: { maxRememberedIds?: number } = {}): Hono {
    return eventSubHandler({
      secret: SECRET,
      clock,
      onEvent: (e) => {
        if (failNext-- > 0) throw new Error('queue full');
        events.push(e);
      },
      onRevocation: (r) => {
        revocations.push(r);
      },
      onOutcome: (o) => outcomes.push(o),
      ...extra,
    });
  }

  beforeEach(() => {
    clock = new ManualClock(VECTOR_AT + 1_000);
    events = [];
    revocations = [];
    outcomes = [];
    failNext = 0;
    app = handler();
  });

  const send = async (m: Message) => app.request('/', request(m));
  const lastOutcome = () => outcomes.at(-1);

  test('the test-vector notification is delivered as one online event, then answered 204', async () => {
    const res = await send({ id: VECTOR.message_id, body: VECTOR.body, signature: VECTOR.signature });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.deepEqual(events, [
      {
        type: 'online',
        broadcasterId: 52419331,
        broadcasterLogin: 'pixelfox',
        broadcasterName: 'PixelFox',
        at: Date.parse('2025-03-14T18:02:09Z'),
        streamId: '41870032645',
        streamType: 'live',
        messageId: VECTOR.message_id,
      },
    ]);
    assert.deepEqual(lastOutcome(), { kind: 'delivered', messageId: VECTOR.message_id });
  });

  test('stream.offline is delivered with the message timestamp as its time', async () => {
    const res = await send({ body: fixtureText('eventsub-stream-offline.json') });
    assert.equal(res.status, 204);
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], messageId: undefined },
      {
        type: 'offline',
        broadcasterId: 52419331,
        broadcasterLogin: 'pixelfox',
        broadcasterName: 'PixelFox',
        at: VECTOR_AT,
        messageId: undefined,
      },
    );
  });

  test('a tampered signature, body or id is 403 and nothing is delivered', async () => {
    const flipped = VECTOR.signature.slice(0, -1) + (VECTOR.signature.endsWith('3') ? '4' : '3');
    const tries: Message[] = [
      { id: VECTOR.message_id, body: VECTOR.body, signature: flipped },
      { id: VECTOR.message_id, body: VECTOR.body.replace('"live"', '"rerun"'), signature: VECTOR.signature },
      { id: 'another-id', body: VECTOR.body, signature: VECTOR.signature },
      { body: VECTOR.body, secret: 'not-the-secret-at-all' },
      { body: VECTOR.body, signature: 'sha256=' },
      { body: VECTOR.body, signature: 'md5=abc' },
    ];
    for (const m of tries) {
      const res = await send(m);
      assert.equal(res.status, 403);
      assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 403, why: 'bad-signature' });
    }
    assert.deepEqual(events, []);
  });

  test('a missing id, timestamp, signature or type header is 403', async () => {
    for (const h of ['message-id', 'message-timestamp', 'message-signature', 'message-type']) {
      const res = await send({ body: VECTOR.body, omit: [`twitch-eventsub-${h}`] });
      assert.equal(res.status, 403, h);
      assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 403, why: 'missing-headers' });
    }
    assert.deepEqual(events, []);
  });

  test('a message older than 10 minutes is 403 even when signed; exactly 10 minutes still passes', async () => {
    await clock.advanceTo(VECTOR_AT + 10 * MINUTE + 1);
    const stale = await send({ body: VECTOR.body });
    assert.equal(stale.status, 403);
    assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 403, why: 'stale' });
    assert.deepEqual(events, []);
    clock = new ManualClock(VECTOR_AT + 10 * MINUTE);
    app = handler();
    assert.equal((await send({ body: VECTOR.body })).status, 204);
    assert.equal(events.length, 1);
  });

  test('a signed but unreadable timestamp is 403', async () => {
    const res = await send({ body: VECTOR.body, timestamp: 'Friday afternoon' });
    assert.equal(res.status, 403);
    assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 403, why: 'bad-timestamp' });
  });

  test('a replayed message id is answered 2xx but delivered once; a new id is delivered again', async () => {
    const first = await send({ id: 'm-1', body: VECTOR.body });
    const again = await send({ id: 'm-1', body: VECTOR.body });
    assert.equal(first.status, 204);
    assert.equal(again.status, 204);
    assert.equal(events.length, 1);
    assert.deepEqual(lastOutcome(), { kind: 'duplicate', messageId: 'm-1' });
    await send({ id: 'm-2', body: VECTOR.body });
    assert.equal(events.length, 2);
  });

  test('an id is remembered for 10 minutes past the later of its arrival and its timestamp', async () => {
    // Twitch's clock 5 minutes ahead of ours: the message stays fresh for 15 minutes of our time.
    const ahead = new Date(VECTOR_AT + 1_000 + 5 * MINUTE).toISOString();
    await send({ id: 'm-ahead', body: VECTOR.body, timestamp: ahead });
    await clock.advance(14 * MINUTE);
    const replay = await send({ id: 'm-ahead', body: VECTOR.body, timestamp: ahead });
    assert.equal(replay.status, 204);
    assert.equal(events.length, 1, 'still remembered at 14 minutes');
    await clock.advance(2 * MINUTE);
    assert.equal(
      (await send({ id: 'm-ahead', body: VECTOR.body, timestamp: ahead })).status,
      403,
      'stale by now',
    );
  });

  test('memory is bounded: past the limit the oldest ids are forgotten first', async () => {
    app = handler({ maxRememberedIds: 2 });
    for (const id of ['a', 'b', 'c']) await send({ id, body: VECTOR.body });
    assert.equal(events.length, 3);
    await send({ id: 'c', body: VECTOR.body });
    assert.equal(events.length, 3, 'c is remembered');
    await send({ id: 'a', body: VECTOR.body });
    assert.equal(events.length, 4, 'a was forgotten');
  });

  test('the challenge is answered 200 with the raw challenge as text/plain, after the signature check', async () => {
    const body = fixtureText('eventsub-verification.json');
    const res = await send({ type: 'webhook_callback_verification', body });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'c9f1e0d2-7a44-4b8e-b1f3-55aa10c2d9e7');
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    assert.deepEqual(lastOutcome(), {
      kind: 'verified',
      subscriptionId: '0b6c5e7a-91d2-4f0e-8a3b-2c4d6e8f0a1b',
      subscriptionType: 'stream.online',
    });
    const forged = await send({
      type: 'webhook_callback_verification',
      body,
      secret: 'someone-elses-secret',
    });
    assert.equal(forged.status, 403);
    assert.deepEqual(events, []);
  });

  test('a revocation reaches onRevocation with its reason and broadcaster, then 204', async () => {
    const res = await send({ type: 'revocation', body: fixtureText('eventsub-revocation.json') });
    assert.equal(res.status, 204);
    assert.deepEqual(revocations, [
      {
        subscriptionId: '0b6c5e7a-91d2-4f0e-8a3b-2c4d6e8f0a1b',
        subscriptionType: 'stream.online',
        reason: 'notification_failures_exceeded',
        broadcasterId: 52419331,
        at: VECTOR_AT,
      },
    ]);
    assert.deepEqual(events, []);
  });

  test('malformed JSON or a malformed event after a valid signature is 400, nothing delivered, id not burnt', async () => {
    const bad = [
      '{"subscription":',
      '[]',
      JSON.stringify({ subscription: JSON.parse(VECTOR.body).subscription }),
      VECTOR.body.replace('"52419331","broadcaster_user_login"', '"pixelfox","broadcaster_user_login"'),
      VECTOR.body.replace('2025-03-14T18:02:09Z', 'soon'),
    ];
    for (const body of bad) {
      const res = await send({ id: 'm-bad', body });
      assert.equal(res.status, 400, body);
      assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 400, why: 'malformed' });
    }
    assert.equal((await send({ type: 'revocation', body: '{"subscription":{}}' })).status, 400);
    assert.equal(
      (await send({ type: 'webhook_callback_verification', body: '{"challenge":1}' })).status,
      400,
    );
    assert.deepEqual(events, []);
    assert.deepEqual(revocations, []);
    assert.equal((await send({ id: 'm-bad', body: VECTOR.body })).status, 204);
    assert.equal(events.length, 1);
  });

  test('when delivery throws the answer is 500 and Twitch’s resend of the same id is delivered', async () => {
    failNext = 1;
    const failed = await send({ id: 'm-retry', body: VECTOR.body });
    assert.equal(failed.status, 500);
    assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 500, why: 'delivery-failed' });
    const resent = await send({ id: 'm-retry', body: VECTOR.body });
    assert.equal(resent.status, 204);
    assert.equal(events.length, 1);
  });

  test('other subscription types and unknown message types are acknowledged and dropped', async () => {
    const follow = VECTOR.body.replace('"stream.online"', '"channel.follow"');
    assert.equal((await send({ id: 'f', body: follow })).status, 204);
    assert.deepEqual(lastOutcome(), {
      kind: 'ignored',
      messageId: 'f',
      why: 'subscription type channel.follow',
    });
    assert.equal((await send({ id: 'n', type: 'new_kind_of_message', body: VECTOR.body })).status, 204);
    assert.deepEqual(events, []);
  });

  test('a body over 1 MiB is 413 before anything else', async () => {
    const res = await send({ body: `{"pad":"${'x'.repeat(1024 * 1024)}"}` });
    assert.equal(res.status, 413);
    assert.deepEqual(lastOutcome(), { kind: 'rejected', status: 413, why: 'too-large' });
  });

  test('a bad secret or a replay memory shorter than 10 minutes is a one-line configuration error', () => {
    const base = { clock, onEvent: () => {} };
    assert.throws(() => eventSubHandler({ ...base, secret: 'short' }), EventSubError);
    assert.throws(() => eventSubHandler({ ...base, secret: SECRET, dedupeTtlMs: 60_000 }), /at least 600000/);
    const api = new ApiClient({ authProvider: new AppTokenAuthProvider('id', 'secret') });
    assert.throws(() => new EventSubSubscriptions({ api, callbackUrl: 'x', secret: SECRET }), /not a URL/);
    assert.throws(
      () => new EventSubSubscriptions({ api, callbackUrl: 'https://a.example/e', secret: 'é'.repeat(12) }),
      /10 to 100 ASCII/,
    );
  });
});

describe('EventSub against the fake Twitch (real HTTP)', () => {
  let clock: ManualClock;
  let world: TwitchWorld;
  let twitch: FakeTwitch;
  let client: FakeApp;
  let fox: FakeUser;
  let owl: FakeUser;
  let receiver: { url: string; close(): Promise<void> };
  let events: StreamStatusEvent[];
  let revocations: EventSubRevocation[];
  let subscriptions: EventSubSubscriptions;
  const savedPort = process.env.TWURPLE_MOCK_API_PORT;

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2025-03-14T18:00:00Z'));
    world = new TwitchWorld({ clock });
    twitch = await startFakeTwitch({ world });
    process.env.TWURPLE_MOCK_API_PORT = String(twitch.port);
    client = world.registerApp();
    fox = world.addUser('pixelfox', { id: '52419331', displayName: 'PixelFox' });
    owl = world.addUser('nightowl', { displayName: 'NightOwl' });
    events = [];
    revocations = [];
    const server = new Hono();
    server.route(
      '/eventsub',
      eventSubHandler({
        secret: SECRET,
        clock,
        onEvent: (e) => {
          events.push(e);
        },
        onRevocation: (r) => {
          revocations.push(r);
        },
      }),
    );
    receiver = await listen(server);
    subscriptions = new EventSubSubscriptions({
      api: new ApiClient({ authProvider: new AppTokenAuthProvider(client.clientId, client.clientSecret) }),
      callbackUrl: receiver.url,
      secret: SECRET,
    });
  });

  afterEach(async () => {
    await twitch.close();
    await receiver.close();
  });

  after(() => {
    if (savedPort === undefined) delete process.env.TWURPLE_MOCK_API_PORT;
    else process.env.TWURPLE_MOCK_API_PORT = savedPort;
  });

  /** The fake's view: `type/broadcaster → status` of every subscription to our callback. */
  function atTwitch(): Record<string, string> {
    return Object.fromEntries(
      [...twitch.eventSub.subscriptions.values()]
        .filter((s) => s.callback === receiver.url)
        .map((s) => [`${s.type}/${s.condition.broadcaster_user_id}`, s.status]),
    );
  }

  async function syncAndVerify(ids: number[]) {
    const result = await subscriptions.sync(ids);
    await twitch.eventSub.flush(); // the challenges have been answered
    return result;
  }

  test('sync subscribes to online and offline, our handler answers the challenges, both are enabled', async () => {
    const result = await syncAndVerify([Number(fox.id)]);
    assert.deepEqual(result.created.map((s) => [s.type, s.broadcasterId, s.status]).sort(), [
      ['stream.offline', 52419331, 'webhook_callback_verification_pending'],
      ['stream.online', 52419331, 'webhook_callback_verification_pending'],
    ]);
    assert.deepEqual([result.deleted, result.blocked, result.failed], [[], [], []]);
    assert.deepEqual(atTwitch(), {
      'stream.online/52419331': 'enabled',
      'stream.offline/52419331': 'enabled',
    });
    const [created] = twitch.eventSub.subscriptions.values();
    assert.equal(created!.secret, SECRET);
  });

  test('goLive delivers exactly one online event with the right ids; goOffline one offline', async () => {
    await syncAndVerify([Number(fox.id)]);
    const stream = world.goLive(fox.id);
    world.goLive(owl.id); // not tracked
    await twitch.eventSub.flush();
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], messageId: undefined },
      {
        type: 'online',
        broadcasterId: 52419331,
        broadcasterLogin: 'pixelfox',
        broadcasterName: 'PixelFox',
        at: Date.parse(stream.startedAt),
        streamId: stream.id,
        streamType: 'live',
        messageId: undefined,
      },
    );
    await clock.advance(90 * MINUTE);
    world.goOffline(fox.id);
    await twitch.eventSub.flush();
    assert.equal(events.length, 2);
    assert.equal(events[1]!.type, 'offline');
    assert.equal(events[1]!.broadcasterId, 52419331);
    assert.equal(events[1]!.at, clock.now());
  });

  test('a tampered signature and a stale message are refused with 403 and not delivered', async () => {
    await syncAndVerify([Number(fox.id)]);
    const online = [...twitch.eventSub.subscriptions.values()].find((s) => s.type === 'stream.online')!;
    const forged = await twitch.eventSub.sendBadSignature(online.id);
    const stale = await twitch.eventSub.sendStale(online.id);
    assert.deepEqual([forged.status, stale.status], [403, 403]);
    assert.deepEqual(events, []);
    const fresh = await twitch.eventSub.sendStale(online.id, 9 * MINUTE);
    assert.equal(fresh.status, 204, 'nine minutes old is still fine');
    assert.equal(events.length, 1);
  });

  test('a replayed message id is acknowledged and not delivered twice', async () => {
    await syncAndVerify([Number(fox.id)]);
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    const replay = await twitch.eventSub.sendDuplicate();
    assert.equal(replay.status, 204);
    assert.equal(events.length, 1);
  });

  test('a revocation reaches onRevocation; only fixable reasons of tracked broadcasters are re-subscribed', async () => {
    await syncAndVerify([Number(fox.id)]);
    const byType = (t: string) =>
      [...twitch.eventSub.subscriptions.values()].find((s) => s.type === t && s.status === 'enabled')!;
    const online = byType('stream.online');
    const offline = byType('stream.offline');

    const answer = await twitch.eventSub.revoke(offline.id, 'authorization_revoked');
    assert.equal(answer.status, 204);
    assert.deepEqual(revocations, [
      {
        subscriptionId: offline.id,
        subscriptionType: 'stream.offline',
        reason: 'authorization_revoked',
        broadcasterId: 52419331,
        at: clock.now(),
      },
    ]);
    assert.equal(await subscriptions.handleRevocation(revocations[0]!), 'dropped');

    await twitch.eventSub.revoke(online.id, 'notification_failures_exceeded');
    assert.equal(await subscriptions.handleRevocation(revocations[1]!), 'resubscribed');
    await twitch.eventSub.flush();
    assert.equal(twitch.eventSub.subscriptions.has(online.id), false, 'the revoked one is deleted');
    assert.deepEqual(atTwitch(), {
      'stream.online/52419331': 'enabled',
      'stream.offline/52419331': 'authorization_revoked',
    });
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(events.length, 1, 'the new subscription delivers');

    await subscriptions.sync([Number(owl.id)]);
    assert.equal(
      await subscriptions.handleRevocation(revocations[1]!),
      'dropped',
      'fox is no longer tracked',
    );
  });

  test('a callback that keeps failing gets its subscription revoked with notification_failures_exceeded', async () => {
    await syncAndVerify([Number(fox.id)]);
    twitch.eventSub.settings.maxRetries = 1;
    await receiver.close(); // nobody answers any more
    world.goLive(fox.id);
    await twitch.eventSub.flush();
    assert.equal(atTwitch()['stream.online/52419331'], 'notification_failures_exceeded');
    const answers = twitch.eventSub.log.slice(-3).map((r) => [r.messageType, r.retry, r.status]);
    assert.deepEqual(answers, [
      ['notification', 0, 'network-error'],
      ['notification', 1, 'network-error'],
      ['revocation', 0, 'network-error'],
    ]);
    receiver = { url: receiver.url, close: async () => {} };
  });

  test('sync adds and removes subscriptions as the tracked set changes, and is idempotent', async () => {
    await syncAndVerify([Number(fox.id)]);
    const both = await syncAndVerify([Number(fox.id), Number(owl.id)]);
    assert.deepEqual(
      both.created.map((s) => s.broadcasterId),
      [Number(owl.id), Number(owl.id)],
    );
    assert.equal(both.deleted.length, 0);
    assert.equal(Object.keys(atTwitch()).length, 4);

    const owlOnly = await syncAndVerify([Number(owl.id)]);
    assert.equal(owlOnly.created.length, 0);
    assert.deepEqual(owlOnly.deleted.map((s) => s.broadcasterId).sort(), [52419331, 52419331]);
    assert.deepEqual(atTwitch(), {
      [`stream.online/${owl.id}`]: 'enabled',
      [`stream.offline/${owl.id}`]: 'enabled',
    });

    const again = await syncAndVerify([Number(owl.id)]);
    assert.deepEqual([again.created, again.deleted, again.failed], [[], [], []]);

    const none = await syncAndVerify([]);
    assert.equal(none.deleted.length, 2);
    assert.deepEqual(atTwitch(), {});
  });

  test('sync reads every page of the listing', async () => {
    twitch.eventSub.settings.pageSize = 3;
    const ids = [fox, owl, world.addUser('a'), world.addUser('b')].map((u) => Number(u.id));
    assert.equal((await syncAndVerify(ids)).created.length, 8);
    const again = await syncAndVerify(ids);
    assert.deepEqual([again.created, again.deleted, again.failed], [[], [], []]);
    assert.equal((await subscriptions.list()).length, 8);
  });

  test('sync re-creates broken subscriptions, keeps ones revoked for good, and ignores other callbacks', async () => {
    await syncAndVerify([Number(fox.id), Number(owl.id)]);
    const subs = [...twitch.eventSub.subscriptions.values()];
    const foxOnline = subs.find(
      (s) => s.type === 'stream.online' && s.condition.broadcaster_user_id === fox.id,
    )!;
    const owlOnline = subs.find(
      (s) => s.type === 'stream.online' && s.condition.broadcaster_user_id === owl.id,
    )!;
    foxOnline.status = 'webhook_callback_verification_failed';
    owlOnline.status = 'user_removed';
    // Someone else's subscription on the same app, to another callback.
    const stranger = world.addUser('stranger');
    twitch.eventSub.create({
      clientId: client.clientId,
      type: 'stream.online',
      version: '1',
      broadcasterUserId: stranger.id,
      callback: 'http://127.0.0.1:9/elsewhere',
      secret: SECRET,
    });
    const result = await syncAndVerify([Number(fox.id), Number(owl.id)]);
    assert.deepEqual(
      result.deleted.map((s) => s.id),
      [foxOnline.id],
    );
    assert.deepEqual(
      result.created.map((s) => [s.type, s.broadcasterId]),
      [['stream.online', 52419331]],
    );
    assert.deepEqual(
      result.blocked.map((s) => s.id),
      [owlOnline.id],
    );
    assert.equal(atTwitch()['stream.online/52419331'], 'enabled');
    assert.equal(
      [...twitch.eventSub.subscriptions.values()].filter(
        (s) => s.condition.broadcaster_user_id === stranger.id,
      ).length,
      1,
      'not ours: left alone',
    );
  });

  test('a broadcaster Twitch refuses fails alone, with a one-line reason', async () => {
    const result = await syncAndVerify([Number(fox.id), 999]);
    assert.equal(result.created.length, 2);
    assert.equal(result.failed.length, 2);
    for (const f of result.failed) {
      assert.equal(f.broadcasterId, 999);
      assert.ok(f.error instanceof EventSubError);
      assert.match(
        f.error.message,
        /^Twitch EventSub: creating stream\.(online|offline) for broadcaster 999 failed: 400 /,
      );
      assert.equal(f.error.message.includes('\n'), false);
    }
  });

  test('a listing Twitch refuses is one EventSubError', async () => {
    const impostor = new EventSubSubscriptions({
      api: new ApiClient({ authProvider: new AppTokenAuthProvider(client.clientId, 'wrong-secret') }),
      callbackUrl: receiver.url,
      secret: SECRET,
    });
    await assert.rejects(impostor.sync([Number(fox.id)]), (error: unknown) => {
      assert.ok(error instanceof EventSubError);
      assert.match(error.message, /^Twitch EventSub: listing subscriptions failed: /);
      return true;
    });
  });
});

async function listen(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/eventsub`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
