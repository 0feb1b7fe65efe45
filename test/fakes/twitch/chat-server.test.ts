import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../pipeline/time/clock.ts';
import {
  emotesTagFor,
  escapeTagValue,
  type FakeChat,
  type FakeChatOptions,
  startFakeChat,
} from './chat-server.ts';
import { type FakeUser, TwitchWorld } from './world.ts';

const T0 = 1_741_975_000_000;
/** Failure guard only: every wait below ends on a real event long before this. */
const GUARD_MS = 5_000;

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** §5.9 decoding, written from the contract as the test's oracle. */
function unescapeTagValue(value: string): string {
  const map: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };
  return value.replace(/\\(.?)/gs, (_, c: string) => map[c] ?? c);
}

interface Line {
  tags: Map<string, string>;
  prefix?: string;
  command: string;
  params: string[];
}

function parseLine(raw: string): Line {
  let rest = raw;
  const tags = new Map<string, string>();
  if (rest.startsWith('@')) {
    const end = rest.indexOf(' ');
    for (const pair of rest.slice(1, end).split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) tags.set(pair, '');
      else tags.set(pair.slice(0, eq), unescapeTagValue(pair.slice(eq + 1)));
    }
    rest = rest.slice(end + 1);
  }
  let prefix: string | undefined;
  if (rest.startsWith(':')) {
    const end = rest.indexOf(' ');
    prefix = rest.slice(1, end);
    rest = rest.slice(end + 1);
  }
  let trailing: string | undefined;
  const colon = rest.indexOf(' :');
  if (colon >= 0) {
    trailing = rest.slice(colon + 2);
    rest = rest.slice(0, colon);
  }
  const params = rest.split(' ');
  const command = params.shift()!;
  if (trailing !== undefined) params.push(trailing);
  return { tags, ...(prefix !== undefined ? { prefix } : {}), command, params };
}

/** Tag names, and which tags hold integers, must match between the fake's line and the contract's. */
function assertSameShape(actual: Line, expected: Line, what: string): void {
  assert.equal(actual.command, expected.command, `${what}: command`);
  assert.deepEqual([...actual.tags.keys()].sort(), [...expected.tags.keys()].sort(), `${what}: tag names`);
  for (const [name, value] of expected.tags) {
    if (/^-?\d+$/.test(value))
      assert.match(actual.tags.get(name)!, /^-?\d+$/, `${what}: ${name} is an integer`);
  }
}

/** A bare WebSocket client that records lines and frames. */
class RawClient {
  readonly frames: string[] = [];
  readonly lines: string[] = [];
  readonly closed: Promise<number>;
  private cursor = 0;
  private wake?: () => void;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = data.toString();
      this.frames.push(frame);
      for (const l of frame.split('\r\n')) if (l !== '') this.lines.push(l);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('close', () => this.wake?.());
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  send(...lines: string[]): void {
    this.ws.send(lines.map((l) => `${l}\r\n`).join(''));
  }

  /** The next unread line matching `match`; lines before it are skipped. */
  async next(match: (line: Line) => boolean, what: string): Promise<Line> {
    const deadline = Date.now() + GUARD_MS;
    for (;;) {
      while (this.cursor < this.lines.length) {
        const line = parseLine(this.lines[this.cursor++]!);
        if (match(line)) return line;
      }
      if (this.ws.readyState !== WebSocket.OPEN) throw new Error(`closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(guard);
          resolve();
        };
      });
    }
  }

  command(name: string): Promise<Line> {
    return this.next((l) => l.command === name, name);
  }

  /** Reads everything that arrives until the server answers a PING: a barrier for "nothing else came". */
  async sync(token = `sync-${Math.random()}`): Promise<Line[]> {
    const start = this.cursor;
    this.send(`PING :${token}`);
    await this.next((l) => l.command === 'PONG' && l.params.at(-1) === token, 'PONG');
    return this.lines.slice(start, this.cursor - 1).map(parseLine);
  }

  close(): void {
    this.ws.terminate();
  }
}

interface Setup {
  clock: ManualClock;
  world: TwitchWorld;
  fake: FakeChat;
  bot: FakeUser;
  token: string;
  clientId: string;
}

async function setup(
  t: { after(fn: () => Promise<void> | void): void },
  options: Partial<FakeChatOptions> = {},
) {
  const clock = new ManualClock(T0);
  const world = new TwitchWorld({ clock });
  const app = world.registerApp();
  const bot = world.addUser('scoutbot', { id: '77120456' });
  world.addUser('pixelfox', { id: '52419331' });
  world.addUser('quietkoala', { id: '61230457', displayName: 'QuietKoala' });
  world.addUser('nova_lynx', { id: '90345172', displayName: 'Nova_Lynx' });
  const token = world.issueUserToken(app.clientId, bot.id, ['chat:read']).accessToken;
  const fake = await startFakeChat({ world, ...options });
  t.after(() => fake.close());
  return { clock, world, fake, bot, token, clientId: app.clientId } satisfies Setup;
}

async function loggedIn(
  s: Setup,
  caps = 'twitch.tv/tags twitch.tv/commands twitch.tv/membership',
): Promise<RawClient> {
  const c = await RawClient.open(s.fake.url);
  c.send(`CAP REQ :${caps}`, `PASS oauth:${s.token}`, 'NICK scoutbot');
  await c.command('376');
  await c.sync();
  return c;
}

async function joined(s: Setup, channel = 'pixelfox'): Promise<RawClient> {
  const c = await loggedIn(s);
  c.send(`JOIN #${channel}`);
  await c.command('ROOMSTATE');
  return c;
}

test('the handshake answers like the contract: ACK, 001–004, MOTD, GLOBALUSERSTATE, in one frame', async (t) => {
  const s = await setup(t);
  const expected = fixture<{ request: string[]; reply: string[] }>('chat-handshake.json');
  const c = await RawClient.open(s.fake.url);
  c.send(expected.request[0]!, `PASS oauth:${s.token}`, 'NICK scoutbot');
  const replies: Line[] = [];
  for (const want of expected.reply.map(parseLine)) {
    const got = await c.next(() => true, want.command);
    assertSameShape(got, want, want.command);
    assert.deepEqual(got.params, want.params, `${want.command} params`);
    replies.push(got);
  }
  assert.equal(replies.at(-1)!.tags.get('user-id'), s.bot.id);
  // The 001…GLOBALUSERSTATE burst is one frame of several lines: clients must split frames.
  assert.ok(
    c.frames.some((f) => f.split('\r\n').length > 5),
    'several lines in one frame',
  );
  assert.deepEqual(
    s.fake.authLog.map((e) => [e.userLogin, e.outcome]),
    [['scoutbot', 'ok']],
  );
});

test('CAP LS lists the three caps and holds the login until CAP END; an unknown cap is NAKed', async (t) => {
  const s = await setup(t);
  const c = await RawClient.open(s.fake.url);
  c.send('CAP LS 302');
  const ls = await c.command('CAP');
  assert.deepEqual(ls.params, ['*', 'LS', 'twitch.tv/tags twitch.tv/commands twitch.tv/membership']);
  c.send('CAP REQ :twitch.tv/tags multi-prefix');
  assert.deepEqual((await c.command('CAP')).params, ['*', 'NAK', 'twitch.tv/tags multi-prefix']);
  c.send('CAP REQ :twitch.tv/tags twitch.tv/commands', `PASS oauth:${s.token}`, 'NICK scoutbot');
  assert.deepEqual((await c.command('CAP')).params, ['*', 'ACK', 'twitch.tv/tags twitch.tv/commands']);
  const before = await c.sync();
  assert.ok(!before.some((l) => l.command === '001'), 'no welcome before CAP END');
  c.send('CAP END');
  await c.command('376');
  const gus = await c.command('GLOBALUSERSTATE');
  assert.equal(gus.tags.get('display-name'), 'scoutbot');
});

test('without tags and commands caps, lines carry no tags and there is no GLOBALUSERSTATE', async (t) => {
  const s = await setup(t);
  const c = await RawClient.open(s.fake.url);
  c.send(`PASS oauth:${s.token}`, 'NICK scoutbot', 'JOIN #pixelfox');
  await c.command('366');
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'plain' });
  const msg = await c.command('PRIVMSG');
  assert.equal(msg.tags.size, 0);
  assert.deepEqual(msg.params, ['#pixelfox', 'plain']);
  assert.ok(!c.lines.some((l) => /GLOBALUSERSTATE|ROOMSTATE|USERSTATE/.test(l)));
});

test('a bad, expired or scope-less token gets "Login authentication failed" and the connection closes', async (t) => {
  const s = await setup(t);
  const noScope = s.world.issueUserToken(s.clientId, s.bot.id, ['clips:edit']).accessToken;
  const expired = s.world.issueUserToken(s.clientId, s.bot.id, ['chat:read']).accessToken;
  s.world.expireToken(expired);
  for (const token of ['not-a-token', noScope, expired]) {
    const c = await RawClient.open(s.fake.url);
    c.send('CAP REQ :twitch.tv/tags', `PASS oauth:${token}`, 'NICK scoutbot');
    const notice = await c.command('NOTICE');
    assert.deepEqual(notice.params, ['*', 'Login authentication failed']);
    await c.closed;
    assert.ok(!c.lines.some((l) => / 001 /.test(l)));
  }
  const c = await RawClient.open(s.fake.url);
  c.send(`PASS ${s.token}`, 'NICK scoutbot');
  assert.deepEqual((await c.command('NOTICE')).params, ['*', 'Improperly formatted auth']);
  await c.closed;
  assert.deepEqual(
    s.fake.authLog.map((e) => e.outcome),
    ['bad-token', 'bad-token', 'bad-token', 'malformed'],
  );
});

test('justinfan logs in anonymously without PASS', async (t) => {
  const s = await setup(t);
  const c = await RawClient.open(s.fake.url);
  c.send('NICK justinfan12345', 'JOIN #pixelfox');
  assert.deepEqual((await c.command('001')).params, ['justinfan12345', 'Welcome, GLHF!']);
  await c.command('366');
});

test('JOIN answers JOIN, 353, 366, USERSTATE and ROOMSTATE like the contract; PART echoes', async (t) => {
  const s = await setup(t);
  const expected = fixture<{ reply: string[]; part: string }>('chat-join.json');
  const c = await loggedIn(s);
  c.send('JOIN #pixelfox');
  for (const want of expected.reply.map(parseLine)) {
    const got = await c.next(() => true, want.command);
    assertSameShape(got, want, want.command);
    assert.deepEqual(got.params, want.params, `${want.command} params`);
    assert.equal(got.prefix, want.prefix, `${want.command} prefix`);
  }
  assert.deepEqual(s.fake.joinedChannels(), ['pixelfox']);
  c.send('PART #pixelfox');
  const part = await c.command('PART');
  assert.equal(part.prefix, parseLine(expected.part).prefix);
  assert.deepEqual(s.fake.joinedChannels(), []);
  assert.deepEqual(
    s.fake.joinLog.map((e) => [e.kind, e.channel, e.outcome, e.at]),
    [
      ['join', 'pixelfox', 'ok', T0],
      ['part', 'pixelfox', 'ok', T0],
    ],
  );
});

test('JOIN of an unknown channel gets the msg_channel_suspended NOTICE; JOIN #a,#b joins both', async (t) => {
  const s = await setup(t);
  const expected = parseLine(fixture<{ suspended: string }>('chat-join.json').suspended);
  const c = await loggedIn(s);
  c.send('JOIN #nosuchchan');
  const notice = await c.command('NOTICE');
  assertSameShape(notice, expected, 'NOTICE');
  assert.deepEqual(notice.params, expected.params);
  assert.equal(notice.tags.get('msg-id'), 'msg_channel_suspended');
  c.send('JOIN #pixelfox,#quietkoala');
  const rooms = [await c.command('ROOMSTATE'), await c.command('ROOMSTATE')];
  assert.deepEqual(
    rooms.map((r) => [r.params[0], r.tags.get('room-id')]),
    [
      ['#pixelfox', '52419331'],
      ['#quietkoala', '61230457'],
    ],
  );
  assert.deepEqual(s.fake.joinedChannels(), ['pixelfox', 'quietkoala']);
  assert.deepEqual(
    s.fake.connections().map((x) => x.joins),
    [2],
  );
});

test('say sends a PRIVMSG shaped like the contract to every connection in the channel, and only there', async (t) => {
  const s = await setup(t);
  const expected = parseLine(fixture<{ line: string }>('chat-privmsg.json').line);
  const inChannel = [await joined(s), await joined(s)];
  const elsewhere = await joined(s, 'quietkoala');
  const id = s.fake.say('pixelfox', {
    userLogin: 'nova_lynx',
    text: 'hello Kappa and Kappa again',
    badges: { subscriber: '12', premium: '1' },
    subscribedMonths: 14,
    emotes: { '25': 'Kappa' },
  });
  for (const c of inChannel) {
    const msg = await c.command('PRIVMSG');
    assertSameShape(msg, expected, 'PRIVMSG');
    assert.equal(msg.prefix, expected.prefix);
    assert.deepEqual(msg.params, expected.params);
    // The contract's example says `25:6-10,18-22`, which does not fit its own text (the second
    // Kappa starts at code point 16); the fake computes the positions.
    assert.equal(msg.tags.get('emotes'), '25:6-10,16-20');
    for (const name of ['badges', 'badge-info', 'room-id', 'user-id', 'display-name', 'subscriber', 'mod']) {
      assert.equal(msg.tags.get(name), expected.tags.get(name), name);
    }
    assert.equal(msg.tags.get('id'), id);
    assert.equal(msg.tags.get('tmi-sent-ts'), String(T0));
  }
  const other = await elsewhere.sync();
  assert.ok(!other.some((l) => l.command === 'PRIVMSG'), 'no PRIVMSG in another channel');
});

test('messages said in one tick leave in one frame', async (t) => {
  const s = await setup(t);
  const c = await joined(s);
  const framesBefore = c.frames.length;
  for (const text of ['one', 'two', 'three']) s.fake.say('pixelfox', { userLogin: 'nova_lynx', text });
  await c.next((l) => l.params.at(-1) === 'three', 'third message');
  assert.equal(c.frames.length, framesBefore + 1);
  assert.equal(c.frames.at(-1)!.split('\r\n').filter(Boolean).length, 3);
});

test('tag values are escaped per §5.9 and emote positions count code points', async (t) => {
  const s = await setup(t);
  const c = await joined(s);
  const text = '🎉 héllo Kappa 🎉🎉 Kappa';
  const nasty = 'semi;colon space back\\slash cr\rlf\n end';
  s.fake.say('pixelfox', {
    userLogin: 'nova_lynx',
    text,
    emotes: { '25': 'Kappa' },
    tags: { 'reply-parent-msg-body': nasty },
  });
  const raw = await c.next((l) => l.command === 'PRIVMSG', 'PRIVMSG');
  assert.equal(raw.tags.get('reply-parent-msg-body'), nasty);
  const wire = c.lines.at(-1)!;
  assert.ok(
    wire.includes('reply-parent-msg-body=semi\\:colon\\sspace\\sback\\\\slash\\scr\\rlf\\n\\send'),
    wire,
  );
  assert.equal(raw.tags.get('emotes'), '25:8-12,17-21');
  const codePoints = [...text];
  assert.equal(codePoints.slice(8, 13).join(''), 'Kappa');
  assert.equal(codePoints.slice(17, 22).join(''), 'Kappa');
  assert.equal(escapeTagValue(''), '');
  assert.equal(
    emotesTagFor('Kappa Keepo Kappa', { '25': 'Kappa', '1902': 'Keepo', '9': 'none' }),
    '25:0-4,12-16/1902:6-10',
  );
});

test('a /me message is wrapped in ACTION and keeps positions in the action text', async (t) => {
  const s = await setup(t);
  const c = await joined(s);
  s.fake.say('pixelfox', {
    userLogin: 'nova_lynx',
    text: 'waves Kappa',
    emotes: { '25': 'Kappa' },
    action: true,
  });
  const msg = await c.command('PRIVMSG');
  assert.equal(msg.params[1], '\x01ACTION waves Kappa\x01');
  assert.equal(msg.tags.get('emotes'), '25:6-10');
});

test('USERNOTICE, CLEARCHAT, CLEARMSG and NOTICE are shaped like the contract', async (t) => {
  const s = await setup(t);
  const c = await joined(s);
  const notices = fixture<Record<'sub' | 'resub' | 'subgift' | 'raid', string>>('chat-usernotice.json');
  const params = (line: string) =>
    Object.fromEntries(
      [...parseLine(line).tags].filter(([k]) => k.startsWith('msg-param-')).map(([k, v]) => [k.slice(10), v]),
    );
  for (const kind of ['sub', 'resub', 'subgift', 'raid'] as const) {
    const want = parseLine(notices[kind]);
    s.fake.userNotice('pixelfox', {
      kind,
      userLogin: 'quietkoala',
      systemMsg: want.tags.get('system-msg')!,
      params: params(notices[kind]),
      badges: { subscriber: '1' },
      ...(want.params[1] !== undefined ? { text: want.params[1] } : {}),
    });
    const got = await c.command('USERNOTICE');
    assertSameShape(got, want, kind);
    assert.deepEqual(got.params, want.params, `${kind} params`);
    assert.equal(got.tags.get('system-msg'), want.tags.get('system-msg'));
  }
  const moderation =
    fixture<Record<'timeout' | 'ban' | 'clear' | 'clearmsg' | 'notice', string>>('chat-moderation.json');
  s.fake.clearChat('pixelfox', { userLogin: 'nova_lynx', banDurationS: 600 });
  s.fake.clearChat('pixelfox', { userLogin: 'nova_lynx' });
  s.fake.clearChat('pixelfox');
  for (const kind of ['timeout', 'ban', 'clear'] as const) {
    const want = parseLine(moderation[kind]);
    const got = await c.command('CLEARCHAT');
    assertSameShape(got, want, kind);
    assert.deepEqual(got.params, want.params, `${kind} params`);
  }
  const clearMsg = parseLine(moderation.clearmsg);
  s.fake.clearMsg('pixelfox', {
    id: clearMsg.tags.get('target-msg-id')!,
    userLogin: 'nova_lynx',
    text: clearMsg.params[1]!,
  });
  const gotClear = await c.command('CLEARMSG');
  assertSameShape(gotClear, clearMsg, 'CLEARMSG');
  assert.deepEqual(gotClear.params, clearMsg.params);
  const notice = parseLine(moderation.notice);
  s.fake.notice('pixelfox', 'msg_banned', notice.params[1]!);
  const gotNotice = await c.command('NOTICE');
  assertSameShape(gotNotice, notice, 'NOTICE');
  assert.deepEqual(gotNotice.params, notice.params);
});

test('PING is answered with PONG echoing the parameter', async (t) => {
  const s = await setup(t);
  const c = await loggedIn(s);
  c.send('PING :hello-42');
  const pong = await c.command('PONG');
  assert.equal(pong.prefix, 'tmi.twitch.tv');
  assert.deepEqual(pong.params, ['tmi.twitch.tv', 'hello-42']);
});

test('the server PINGs periodically and closes a connection that does not PONG', async (t) => {
  const s = await setup(t, { pingIntervalMs: 300_000, pongTimeoutMs: 10_000 });
  const polite = await loggedIn(s);
  const rude = await loggedIn(s);
  await s.clock.advance(300_000);
  for (const c of [polite, rude]) assert.deepEqual((await c.command('PING')).params, ['tmi.twitch.tv']);
  polite.send('PONG :tmi.twitch.tv');
  await polite.sync();
  await s.clock.advance(10_000);
  await rude.closed;
  assert.equal(polite.ws.readyState, WebSocket.OPEN);
  // The polite one is pinged again one interval after its PONG.
  await s.clock.advance(290_000);
  await polite.command('PING');
});

test('reconnect() sends RECONNECT and closes; with closeAfterMs it closes only later', async (t) => {
  const s = await setup(t);
  const now = await loggedIn(s);
  s.fake.reconnect();
  assert.equal((await now.command('RECONNECT')).prefix, 'tmi.twitch.tv');
  await now.closed;
  const later = await loggedIn(s);
  s.fake.reconnect({ closeAfterMs: 5_000 });
  await later.command('RECONNECT');
  await later.sync();
  assert.equal(later.ws.readyState, WebSocket.OPEN);
  await s.clock.advance(5_000);
  await later.closed;
});

test('freeze() makes current connections dead but serves new ones; dropConnections() cuts without a close frame', async (t) => {
  const s = await setup(t);
  const frozen = await joined(s);
  const linesBefore = frozen.lines.length;
  s.fake.freeze();
  frozen.send('PING :anyone');
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'lost' });
  const fresh = await joined(s);
  s.fake.say('pixelfox', { userLogin: 'nova_lynx', text: 'seen' });
  await fresh.next((l) => l.params.at(-1) === 'seen', 'message on the new connection');
  await fresh.sync();
  assert.deepEqual(frozen.lines.slice(linesBefore), [], 'the frozen connection got nothing');
  assert.deepEqual(
    s.fake.connections().map((c) => c.state),
    ['frozen', 'open'],
  );
  s.fake.dropConnections();
  assert.equal(await fresh.closed, 1006);
  frozen.close();
});

test('JOINs beyond the per-user limit close the connection; the window slides on the world clock', async (t) => {
  const s = await setup(t, { joinLimit: { count: 3, windowMs: 1_000 } });
  const c = await loggedIn(s);
  c.send('JOIN #pixelfox,#quietkoala', 'JOIN #nova_lynx');
  await c.next((l) => l.command === 'ROOMSTATE' && l.params[0] === '#nova_lynx', 'third join');
  c.send('JOIN #scoutbot');
  await c.closed;
  assert.deepEqual(
    s.fake.joinLog.map((e) => e.outcome),
    ['ok', 'ok', 'ok', 'rate-limited'],
  );
  // Counted per user, across connections: a new connection within the window is refused too.
  const again = await loggedIn(s);
  await s.clock.advance(999);
  again.send('JOIN #scoutbot');
  await again.closed;
  const later = await loggedIn(s);
  await s.clock.advance(1_000);
  later.send('JOIN #scoutbot');
  await later.command('ROOMSTATE');
});

test('logins beyond the auth limit close the connection', async (t) => {
  const s = await setup(t, { authLimit: { count: 2, windowMs: 10_000 } });
  await loggedIn(s);
  await loggedIn(s);
  const third = await RawClient.open(s.fake.url);
  third.send(`PASS oauth:${s.token}`, 'NICK scoutbot');
  await third.closed;
  assert.ok(!third.lines.some((l) => / 001 /.test(l)));
  assert.deepEqual(
    s.fake.authLog.map((e) => e.outcome),
    ['ok', 'ok', 'rate-limited'],
  );
});

test('say rejects a channel or sender that is not in the world', async (t) => {
  const s = await setup(t);
  assert.throws(() => s.fake.say('nobody', { userLogin: 'nova_lynx', text: 'x' }), /no channel nobody/);
  assert.throws(() => s.fake.say('pixelfox', { userLogin: 'ghost', text: 'x' }), /no user ghost/);
  assert.match(s.fake.say('pixelfox', { userLogin: 'ghost', userId: '5', text: 'x' }), /^[0-9a-f-]{36}$/);
});
