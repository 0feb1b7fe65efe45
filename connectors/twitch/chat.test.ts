import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { StaticAuthProvider } from '@twurple/auth';
import { ManualClock } from '../../pipeline/time/clock.ts';
import type { ChatMessage } from '../../schemas/avro-types.ts';
import {
  type FakeChat,
  type FakeChatEvents,
  type FakeChatOptions,
  startFakeChat,
} from '../../test/fakes/twitch/chat-server.ts';
import { startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { TwitchWorld } from '../../test/fakes/twitch/world.ts';
import {
  chatConnectionOptions,
  DEFAULT_JOIN_RATE,
  DEFAULT_LIVENESS,
  TWITCH_CHAT_URL,
  TwitchChat,
  TwitchChatError,
  type TwitchChatOptions,
} from './chat.ts';

const T0 = 1_741_975_000_000;
/** Failure guard only: every wait below ends on a real event long before this. */
const GUARD_MS = 10_000;

function guarded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Resolves on the first `event` whose arguments pass `match`; subscribe before causing it. */
function expectEvent<K extends keyof FakeChatEvents>(
  events: EventEmitter<FakeChatEvents>,
  event: K,
  match: (...args: FakeChatEvents[K]) => boolean,
  what: string,
): Promise<FakeChatEvents[K]> {
  return guarded(
    new Promise((resolve) => {
      const listener = (...args: FakeChatEvents[K]) => {
        if (!match(...args)) return;
        events.off(event, listener as never);
        resolve(args);
      };
      events.on(event, listener as never);
    }),
    what,
  );
}

/** Resolves once `count` successful JOINs have happened on connection `connectionId`. */
function expectJoins(fake: FakeChat, count: number, connectionId?: number): Promise<void> {
  let seen = 0;
  return expectEvent(
    fake.events,
    'join',
    (e) =>
      e.outcome === 'ok' &&
      (connectionId === undefined || e.connectionId === connectionId) &&
      ++seen === count,
    `${count} joins`,
  ).then(() => undefined);
}

/** Resolves once the client has confirmed `count` more JOINs; subscribe before causing them. */
function clientJoins(chat: TwitchChat, count: number): Promise<void> {
  return guarded(
    new Promise<void>((resolve) => {
      let seen = 0;
      const listener = () => {
        if (++seen < count) return;
        chat.events.off('joined', listener);
        resolve();
      };
      chat.events.on('joined', listener);
    }),
    `${count} joins confirmed`,
  );
}

/** The records the client delivered, and a way to wait for the next ones. */
class Inbox {
  readonly records: ChatMessage[] = [];
  private wake?: () => void;

  push = (record: ChatMessage): void => {
    this.records.push(record);
    this.wake?.();
  };

  async waitFor(match: (r: ChatMessage) => boolean, what: string): Promise<ChatMessage> {
    const deadline = Date.now() + GUARD_MS;
    for (;;) {
      const found = this.records.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  text(text: string): Promise<ChatMessage> {
    return this.waitFor((r) => r.text === text, `the message "${text}"`);
  }
}

interface TestContext {
  after(fn: () => Promise<void> | void): void;
}

async function setup(t: TestContext, fakeOptions: Partial<FakeChatOptions> = {}) {
  const clock = new ManualClock(T0);
  const world = new TwitchWorld({ clock });
  const app = world.registerApp();
  const bot = world.addUser('scoutbot', { id: '77120456' });
  world.addUser('pixelfox', { id: '52419331' });
  world.addUser('quietkoala', { id: '61230457' });
  world.addUser('nova_lynx', { id: '90345172', displayName: 'Nova_Lynx' });
  // @twurple/auth validates the token (to learn the login) through the fake's mock-API layout.
  const http = await startFakeTwitch({ world });
  process.env.TWURPLE_MOCK_API_PORT = String(http.port);
  const fake = await startFakeChat({ world, ...fakeOptions });
  const token = world.issueUserToken(app.clientId, bot.id, ['chat:read']).accessToken;
  const inbox = new Inbox();
  const warnings: string[] = [];
  const clients: TwitchChat[] = [];
  const client = (options: Partial<TwitchChatOptions> = {}): TwitchChat => {
    const c = new TwitchChat({
      authProvider: new StaticAuthProvider(app.clientId, token),
      url: fake.url,
      clock,
      onMessage: inbox.push,
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
      ...options,
    });
    clients.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of clients) c.close();
    await fake.close();
    await http.close();
  });
  return { clock, world, app, bot, fake, token, inbox, warnings, client };
}

/** Connected and in #pixelfox and #quietkoala. */
async function connectedInTwo(s: Awaited<ReturnType<typeof setup>>): Promise<TwitchChat> {
  const chat = s.client();
  await guarded(chat.connect(), 'login');
  await guarded(Promise.all([chat.join('pixelfox'), chat.join('#QuietKoala')]), 'joins');
  return chat;
}

test('messages of two joined channels arrive as records: tags, escaping, code-point emotes', async (t) => {
  const s = await setup(t);
  const chat = await connectedInTwo(s);
  assert.deepEqual(chat.channels(), ['pixelfox', 'quietkoala']);
  assert.deepEqual(s.fake.joinedChannels(), ['pixelfox', 'quietkoala']);

  const text = '¡Olé! 🎉 Kappa für 🎉🎉 Kappa ✨ PogChamp';
  s.fake.say('pixelfox', {
    userLogin: 'nova_lynx',
    text,
    id: '2c6d3f1e-8b9a-4e70-a1d2-5f3e7c9b0a14',
    badges: { subscriber: '12', premium: '1' },
    subscribedMonths: 14,
    emotes: { '25': 'Kappa', emotesv2_4c3b4ed5: 'PogChamp' },
    // Escaped on the wire (§5.9); had the escaping failed, the tags after it would be garbage.
    tags: { 'reply-parent-msg-body': 'a;b c\\d', 'display-name': 'Nova Lynx;\\' },
  });
  await s.clock.advance(1_234);
  s.fake.say('quietkoala', {
    userLogin: 'scoutbot',
    text: 'waves',
    action: true,
    badges: { moderator: '1' },
  });

  const first = await s.inbox.text(text);
  assert.deepEqual(first, {
    broadcaster_id: 52419331,
    timestamp: T0,
    message_id: '2c6d3f1e-8b9a-4e70-a1d2-5f3e7c9b0a14',
    text,
    user_id: 90345172,
    user_name: 'nova_lynx',
    metadata: {
      emotes: { '25': ['8-12', '21-25'], emotesv2_4c3b4ed5: ['29-36'] },
      badges: { subscriber: '12', premium: '1' },
      is_subscriber: true,
      is_mod: false,
    },
    broadcaster_login: 'pixelfox',
  } satisfies ChatMessage);
  const points = [...text];
  assert.equal(points.slice(8, 13).join(''), 'Kappa');
  assert.equal(points.slice(21, 26).join(''), 'Kappa');
  assert.equal(points.slice(29, 37).join(''), 'PogChamp');

  const action = await s.inbox.text('waves');
  assert.equal(action.broadcaster_login, 'quietkoala');
  assert.equal(action.broadcaster_id, 61230457);
  assert.equal(action.timestamp, T0 + 1_234);
  assert.equal(action.metadata.is_mod, true);
  assert.deepEqual(chat.health(), { connected: true, lastMessageAt: T0 + 1_234, reconnects: 0 });
});

test('part stops delivery at once, even for messages already on their way', async (t) => {
  const s = await setup(t);
  const chat = await connectedInTwo(s);
  const parted = expectEvent(s.fake.events, 'part', (e) => e.channel === 'quietkoala', 'PART');
  chat.part('quietkoala');
  assert.deepEqual(chat.channels(), ['pixelfox']);
  // Sent before the server saw the PART: it still reaches the client, which must drop it.
  s.fake.say('quietkoala', { userLogin: 'nova_lynx', text: 'in flight' });
  await parted;
  s.fake.say('quietkoala', { userLogin: 'nova_lynx', text: 'after the part' });
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'still here' });
  await s.inbox.text('still here');
  assert.deepEqual(
    s.inbox.records.map((r) => r.text),
    ['still here'],
  );
  assert.deepEqual(s.fake.joinedChannels(), ['pixelfox']);
});

test('RECONNECT: the client opens a new connection itself, re-joins, and messages flow again', async (t) => {
  const s = await setup(t);
  const chat = await connectedInTwo(s);
  const [old] = s.fake.connections();
  const relogin = expectEvent(s.fake.events, 'login', (id) => id !== old!.id, 'a new login');
  const oldClosed = expectEvent(
    s.fake.events,
    'closed',
    (id) => id === old!.id,
    'the old connection closing',
  );
  // The server would close the old socket only a minute later: the client must not wait for that.
  s.fake.reconnect({ closeAfterMs: 60_000 });
  const [fresh] = await relogin;
  await expectJoins(s.fake, 2, fresh);
  await oldClosed;
  s.fake.say('quietkoala', { userLogin: 'nova_lynx', text: 'welcome back' });
  await s.inbox.text('welcome back');
  assert.deepEqual(chat.channels().sort(), ['pixelfox', 'quietkoala']);
  assert.deepEqual(chat.health(), { connected: true, lastMessageAt: T0, reconnects: 1 });

  // RECONNECT with the close right behind it: the late close of the replaced socket is no second loss.
  const again = expectEvent(s.fake.events, 'login', (id) => id > fresh, 'another login');
  s.fake.reconnect();
  const [third] = await again;
  await expectJoins(s.fake, 2, third);
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'and again' });
  await s.inbox.text('and again');
  assert.deepEqual(chat.health(), { connected: true, lastMessageAt: T0, reconnects: 2 });
});

test('a dropped connection is re-established and its channels re-joined', async (t) => {
  const s = await setup(t);
  const chat = await connectedInTwo(s);
  const relogin = expectEvent(s.fake.events, 'login', (id) => id !== 1, 'a new login');
  s.fake.dropConnections();
  const [fresh] = await relogin;
  await expectJoins(s.fake, 2, fresh);
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'back again' });
  await s.inbox.text('back again');
  assert.equal(chat.health().reconnects, 1);
  assert.equal(chat.health().connected, true);
});

test('with the default settings a frozen server is noticed 25 s after its last line and replaced', async (t) => {
  // The requirement: a dead connection is noticed within 30 s.
  assert.ok(DEFAULT_LIVENESS.idleMs + DEFAULT_LIVENESS.pongTimeoutMs <= 30_000);
  const s = await setup(t);
  const chat = await connectedInTwo(s);
  s.fake.freeze();
  // At idleMs the client PINGs (the frozen server never reads it); the reconnect waits for the answer.
  await s.clock.advance(DEFAULT_LIVENESS.idleMs + DEFAULT_LIVENESS.pongTimeoutMs - 1);
  assert.equal(s.fake.connections().length, 1);
  assert.deepEqual(chat.health(), { connected: true, lastMessageAt: null, reconnects: 0 });
  const relogin = expectEvent(s.fake.events, 'login', (id) => id !== 1, 'a new login');
  await s.clock.advance(1);
  assert.equal(chat.health().reconnects, 1);
  const [fresh] = await relogin;
  await expectJoins(s.fake, 2, fresh);
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'alive' });
  await s.inbox.text('alive');
  assert.equal(chat.health().connected, true);

  // The dead socket ends only now, long after its replacement logged in: that is no lost connection.
  s.fake.dropConnections([1]);
  for (const text of ['still alive', 'and still']) {
    s.fake.say('pixelfox', { userLogin: 'nova_lynx', text });
    await s.inbox.text(text);
  }
  assert.deepEqual(chat.health(), { connected: true, lastMessageAt: T0 + 25_000, reconnects: 1 });
  assert.deepEqual(chat.channels().sort(), ['pixelfox', 'quietkoala']);
});

test('a quiet but live connection answers the watchdog PING and is kept', async (t) => {
  const s = await setup(t);
  const liveness = { idleMs: 2_000, pongTimeoutMs: 1_000 };
  const chat = s.client({ liveness });
  await guarded(chat.connect(), 'login');
  await guarded(chat.join('pixelfox'), 'join');
  const pinged = expectEvent(s.fake.events, 'line', (_, line) => line.startsWith('PING'), 'the PING');
  await s.clock.advance(liveness.idleMs);
  await pinged;
  // A message sent after the PONG arrives after it on the same socket: once it is here, so is the PONG.
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'after pong' });
  await s.inbox.text('after pong');
  await s.clock.advance(liveness.pongTimeoutMs);
  assert.equal(chat.health().reconnects, 0);
  assert.equal(s.fake.connections().filter((c) => c.state === 'open').length, 1);
});

/** The most JOINs in any `windowMs` of the log. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
}

test('25 joins are paced: never more than 20 in 10 s, also when re-joining after a reconnect', async (t) => {
  // The fake enforces Twitch's 20 per 10 s and closes the connection on the 21st.
  const s = await setup(t);
  const logins = Array.from({ length: 25 }, (_, i) => `channel_${i}`);
  for (const login of logins) s.world.addUser(login);
  const chat = s.client();
  await guarded(chat.connect(), 'login');

  const firstBatch = expectJoins(s.fake, 20);
  const joins = logins.map((login) => chat.join(login));
  await firstBatch;
  await guarded(Promise.all(joins.slice(0, 20)), 'the first 20 joins');
  await s.clock.advance(DEFAULT_JOIN_RATE.windowMs - 1);
  assert.equal(s.fake.joinLog.length, 20);
  await s.clock.advance(1);
  await guarded(Promise.all(joins), 'all 25 joins');
  assert.deepEqual(
    s.fake.joinLog.map((e) => e.at - T0),
    [...Array(20).fill(0), ...Array(5).fill(11_000)],
  );

  // Re-joining all 25 after a reconnect goes through the same window.
  const relogin = expectEvent(s.fake.events, 'login', (id) => id !== 1, 'a new login');
  const firstRejoins = clientJoins(chat, 15);
  s.fake.dropConnections();
  const [fresh] = await relogin;
  // Wait for the client to have the confirmations, or the clock jump below would time them out.
  await firstRejoins;
  assert.equal(s.fake.joinLog.filter((e) => e.connectionId === fresh).length, 15);
  const rest = clientJoins(chat, 10);
  await s.clock.advance(DEFAULT_JOIN_RATE.windowMs);
  await rest;

  const log = s.fake.joinLog;
  assert.equal(log.filter((e) => e.outcome === 'rate-limited').length, 0);
  assert.ok(
    busiestWindow(
      log.map((e) => e.at),
      10_000,
    ) <= 20,
  );
  assert.equal(chat.channels().length, 25);
  assert.deepEqual(s.fake.joinedChannels(), [...logins].sort());
  assert.equal(chat.health().reconnects, 1);
});

test('a small configured join rate spreads joins over the clock', async (t) => {
  const s = await setup(t);
  const chat = s.client({ joinRate: { joins: 1, windowMs: 500 } });
  await guarded(chat.connect(), 'login');
  const both = Promise.all([chat.join('pixelfox'), chat.join('quietkoala')]);
  await expectJoins(s.fake, 1);
  await s.clock.advance(500);
  await guarded(both, 'both joins');
  assert.deepEqual(
    s.fake.joinLog.map((e) => [e.channel, e.at - T0]),
    [
      ['pixelfox', 0],
      ['quietkoala', 500],
    ],
  );
});

test('joins asked before connect() happen after the login', async (t) => {
  const s = await setup(t);
  const chat = s.client();
  const joined = chat.join('pixelfox');
  await guarded(chat.connect(), 'login');
  await guarded(joined, 'join');
  assert.deepEqual(chat.channels(), ['pixelfox']);
});

test('joining a channel that does not exist fails with a clear error', async (t) => {
  const s = await setup(t);
  const chat = s.client();
  await guarded(chat.connect(), 'login');
  await assert.rejects(guarded(chat.join('nosuchchan'), 'join'), (e: unknown) => {
    assert.ok(e instanceof TwitchChatError);
    assert.equal(e.code, 'join');
    assert.equal(
      e.message,
      'twitch chat: cannot join #nosuchchan: the channel does not exist or has been suspended',
    );
    return true;
  });
  await assert.rejects(chat.join('not a login!'), /twitch chat: not a channel login: not a login!/);
  assert.deepEqual(chat.channels(), []);
});

test('an unanswered JOIN fails after the join timeout', async (t) => {
  const s = await setup(t);
  const chat = s.client({ joinTimeoutMs: 3_000 });
  await guarded(chat.connect(), 'login');
  s.fake.freeze();
  const failed = assert.rejects(
    chat.join('pixelfox'),
    /twitch chat: no answer to JOIN #pixelfox within 3000 ms/,
  );
  await s.clock.advance(2_999);
  assert.deepEqual(s.fake.joinLog, []);
  await s.clock.advance(1);
  await failed;
});

test('an invalid token is a clear login error, and nothing retries', async (t) => {
  const s = await setup(t);
  const chat = s.client({ authProvider: new StaticAuthProvider(s.app.clientId, 'not-a-token') });
  await assert.rejects(guarded(chat.connect(), 'the login'), (e: unknown) => {
    assert.ok(e instanceof TwitchChatError);
    assert.equal(e.code, 'auth');
    assert.equal(
      e.message,
      'twitch chat: login failed: Invalid token supplied; the token must be a live user token with the chat:read scope',
    );
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.equal(chat.health().connected, false);
  await assert.rejects(chat.connect(), /the client is closed/);
});

test('a live token without chat:read is a clear login error naming the scope', async (t) => {
  const s = await setup(t);
  const withoutScope = s.world.issueUserToken(s.app.clientId, s.bot.id, ['clips:edit']).accessToken;
  const chat = s.client({ authProvider: new StaticAuthProvider(s.app.clientId, withoutScope) });
  await assert.rejects(guarded(chat.connect(), 'the login'), (e: unknown) => {
    assert.ok(e instanceof TwitchChatError);
    assert.equal(e.code, 'auth');
    assert.match(
      e.message,
      /^twitch chat: login failed: .*does not have any of the requested scopes \(chat:read\)/,
    );
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.deepEqual(s.fake.authLog, []);
});

test('a token the chat server refuses (no chat:read) is a clear login error', async (t) => {
  const s = await setup(t);
  const withoutScope = s.world.issueUserToken(s.app.clientId, s.bot.id, ['clips:edit']).accessToken;
  // The provider claims the scope, so only the chat server can tell.
  const authProvider = new StaticAuthProvider(s.app.clientId, withoutScope, ['chat:read']);
  const chat = s.client({ authProvider });
  await assert.rejects(
    guarded(chat.connect(), 'the login'),
    /^TwitchChatError: twitch chat: login failed: the server said "Login authentication failed"; the token must be a live user token with the chat:read scope$/,
  );
  assert.deepEqual(
    s.fake.authLog.map((e) => e.outcome),
    ['bad-token'],
  );
});

test('an unreachable server is a clear connect error', async (t) => {
  const s = await setup(t);
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const chat = s.client({ url: `ws://127.0.0.1:${port}` });
  await assert.rejects(guarded(chat.connect(), 'the failure'), (e: unknown) => {
    assert.ok(e instanceof TwitchChatError);
    assert.equal(e.code, 'connect');
    assert.match(e.message, new RegExp(`^twitch chat: cannot connect to ws://127\\.0\\.0\\.1:${port}: `));
    return true;
  });
});

test('the url maps to twurple options: Twitch by default, any host and port otherwise', () => {
  assert.deepEqual(chatConnectionOptions(TWITCH_CHAT_URL), {
    hostName: 'irc-ws.chat.twitch.tv',
    ssl: true,
    webSocket: true,
  });
  assert.deepEqual(chatConnectionOptions('ws://irc-ws.chat.twitch.tv:80'), {
    hostName: 'irc-ws.chat.twitch.tv',
    ssl: false,
    webSocket: true,
  });
  const local = chatConnectionOptions('ws://127.0.0.1:4567');
  assert.equal(local.hostName, '127.0.0.1');
  assert.equal(local.ssl, false);
  assert.equal(typeof local.connectionOptions?.wsOptions?.createConnection, 'function');
  assert.throws(() => chatConnectionOptions('http://127.0.0.1:1'), /must start with ws:\/\/ or wss:\/\//);
  assert.throws(() => chatConnectionOptions('ws://127.0.0.1:1/chat'), /no path/);
  assert.throws(() => chatConnectionOptions('nonsense'), /twitch chat: not a URL: nonsense/);
});
