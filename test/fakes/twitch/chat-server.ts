/**
 * The fake Twitch chat server: Twitch's IRC dialect over WebSocket (contracts/twitch.md §5) on
 * 127.0.0.1. Logins are checked against the shared world's tokens (`chat:read` required), JOIN
 * works for channels that exist in the world, and a test scripts the chat through this module:
 * `say` sends a PRIVMSG with Twitch's tags to every connection in a channel (`userNotice`,
 * `clearChat`, `clearMsg`, `notice` the other kinds), `reconnect`, `freeze` and `dropConnections`
 * break connections the ways Twitch does, and the join log records every JOIN and PART with its
 * world-clock time so tests can check which channels a client is in and how fast it joined.
 *
 * Lines queued in the same tick go out in one WebSocket frame, as Twitch does (§5.1), so clients
 * must split frames on `\r\n`. Only the WebSocket transport is faked, not IRC over TCP.
 *
 * @example
 * const chat = await startFakeChat({ world });
 * // connect a client to chat.url, join #pixelfox, then:
 * chat.say('pixelfox', { userLogin: 'nova_lynx', text: 'hello Kappa', emotes: { '25': 'Kappa' } });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Cancel } from '../../../pipeline/time/clock.ts';
import type { FakeUser, TwitchWorld } from './world.ts';

/** At most `count` attempts per user in any `windowMs` of world-clock time. */
export interface RateLimit {
  readonly count: number;
  readonly windowMs: number;
}

/** Twitch's published limits for a normal account (§5.8). */
export const TWITCH_JOIN_LIMIT: RateLimit = { count: 20, windowMs: 10_000 };
export const TWITCH_AUTH_LIMIT: RateLimit = { count: 20, windowMs: 10_000 };

export interface FakeChatOptions {
  readonly world: TwitchWorld;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** JOIN attempts per user beyond which the connection is closed (§5.8); `false` turns it off. */
  readonly joinLimit?: RateLimit | false;
  /** Login attempts (a PASS+NICK pair) per user beyond which the connection is closed. */
  readonly authLimit?: RateLimit | false;
  /** How often the server PINGs a connection, world-clock ms; Twitch: about 5 minutes. 0 = never. */
  readonly pingIntervalMs?: number;
  /** How long a server PING may go unanswered before the server closes the connection. */
  readonly pongTimeoutMs?: number;
}

/** A chat message to script; only `userLogin` and `text` are required. */
export interface ScriptedMessage {
  readonly userLogin: string;
  /** Default: the id of the world user with that login (required if there is none). */
  readonly userId?: string;
  readonly text: string;
  readonly displayName?: string;
  /** Badge name → version, e.g. `{ subscriber: '12', premium: '1' }`. */
  readonly badges?: Readonly<Record<string, string>>;
  /**
   * Emote id → the emote's code, e.g. `{ '25': 'Kappa' }`: every whole-word occurrence in the text
   * becomes a range, counted in code points as Twitch counts them.
   */
  readonly emotes?: Readonly<Record<string, string>>;
  /** The `emotes` tag verbatim instead of computing it (to send out-of-range positions). */
  readonly emotesTag?: string;
  /** Default: whether `badges` has `subscriber`. */
  readonly subscriber?: boolean;
  /** Exact months subscribed, for `badge-info`; default: the subscriber badge's version. */
  readonly subscribedMonths?: number;
  /** Default: whether `badges` has `moderator`. */
  readonly mod?: boolean;
  /** The message UUID; default: a fresh one. */
  readonly id?: string;
  /** A `/me` message: the text goes out wrapped in `\x01ACTION …\x01`. */
  readonly action?: boolean;
  readonly color?: string;
  /** More tags (`reply-parent-msg-body`, `bits`, …) or replacements; escaped on the wire like all others. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A USERNOTICE to script (§5.5). */
export interface ScriptedUserNotice {
  /** The `msg-id`: `sub`, `resub`, `subgift`, `raid`, … */
  readonly kind: string;
  readonly userLogin: string;
  readonly userId?: string;
  readonly displayName?: string;
  /** The human-readable `system-msg`. */
  readonly systemMsg: string;
  /** The `msg-param-*` tags, named without the prefix: `{ 'cumulative-months': '9' }`. */
  readonly params?: Readonly<Record<string, string>>;
  readonly badges?: Readonly<Record<string, string>>;
  /** The user's own message, if any. */
  readonly text?: string;
  readonly id?: string;
}

export interface JoinLogEntry {
  /** World-clock epoch ms. */
  readonly at: number;
  readonly connectionId: number;
  /** The login of the connection's user. */
  readonly userLogin: string;
  /** The channel's login, without `#`. */
  readonly channel: string;
  readonly kind: 'join' | 'part';
  /** `unknown-channel`: answered with the suspended NOTICE; `rate-limited`: the connection was closed. */
  readonly outcome: 'ok' | 'unknown-channel' | 'rate-limited';
}

export interface AuthLogEntry {
  readonly at: number;
  readonly connectionId: number;
  /** The NICK sent. */
  readonly nick: string;
  /** The login the token belongs to, when it was live. */
  readonly userLogin?: string;
  readonly outcome: 'ok' | 'bad-token' | 'malformed' | 'rate-limited';
}

export interface FakeChatConnectionInfo {
  readonly id: number;
  /** Set once logged in. */
  readonly userLogin?: string;
  readonly state: 'open' | 'frozen' | 'closed';
  readonly caps: readonly string[];
  /** Channels joined now, logins without `#`. */
  readonly channels: readonly string[];
  /** Successful JOINs over the connection's life. */
  readonly joins: number;
}

export interface FakeChatEvents {
  connection: [connectionId: number];
  /** A client logged in (after `376`). */
  login: [connectionId: number, userLogin: string];
  join: [entry: JoinLogEntry];
  part: [entry: JoinLogEntry];
  closed: [connectionId: number];
  /** Every line a client sent, before it is handled. */
  line: [connectionId: number, line: string];
}

export interface FakeChat {
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly events: EventEmitter<FakeChatEvents>;
  /** Every JOIN and PART, oldest first. */
  readonly joinLog: readonly JoinLogEntry[];
  /** Every login attempt, oldest first. */
  readonly authLog: readonly AuthLogEntry[];
  /** Sends a PRIVMSG to every connection in the channel; returns the message id. */
  say(channelLogin: string, message: ScriptedMessage): string;
  /** Sends a USERNOTICE (sub, resub, subgift, raid, …); returns its id. */
  userNotice(channelLogin: string, notice: ScriptedUserNotice): string;
  /** CLEARCHAT: a timeout (`banDurationS`), a ban (user only) or the whole chat (nothing). */
  clearChat(channelLogin: string, options?: { userLogin?: string; banDurationS?: number }): void;
  /** CLEARMSG: one message removed. */
  clearMsg(channelLogin: string, message: { id: string; userLogin: string; text: string }): void;
  /** A tagged NOTICE to the channel, e.g. `notice('pixelfox', 'msg_banned', 'You are …')`. */
  notice(channelLogin: string, msgId: string, text: string): void;
  /** Channels some open connection is in, sorted. */
  joinedChannels(): string[];
  connections(): FakeChatConnectionInfo[];
  /** Sends `PING :tmi.twitch.tv` to every logged-in connection now; unanswered ones close after `pongTimeoutMs`. */
  ping(): void;
  /**
   * Sends `RECONNECT` to every logged-in connection and closes them `closeAfterMs` (world clock)
   * later; 0 (the default) closes right after the line goes out.
   */
  reconnect(options?: { closeAfterMs?: number }): void;
  /**
   * Makes every current connection dead without closing it: nothing more is sent (not even PONG)
   * and nothing is read. New connections are served normally.
   */
  freeze(): void;
  /** Cuts connections (default: all) without a close handshake, as a network failure does. */
  dropConnections(connectionIds?: readonly number[]): void;
  close(): Promise<void>;
}

const HOST = 'tmi.twitch.tv';
const SUPPORTED_CAPS = ['twitch.tv/tags', 'twitch.tv/commands', 'twitch.tv/membership'];
const DEFAULT_PING_INTERVAL_MS = 300_000;
const DEFAULT_PONG_TIMEOUT_MS = 10_000;

type Tags = ReadonlyArray<readonly [string, string]>;

/** §5.9: `\` → `\\`, `;` → `\:`, space → `\s`, CR → `\r`, LF → `\n`. */
export function escapeTagValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\:')
    .replace(/ /g, '\\s')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n');
}

function formatTags(tags: Tags): string {
  return `@${tags.map(([k, v]) => `${k}=${escapeTagValue(v)}`).join(';')}`;
}

/** The `emotes` tag for `text`: whole-word occurrences of each code, code-point positions, inclusive. */
export function emotesTagFor(text: string, emotes: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [id, code] of Object.entries(emotes)) {
    const ranges: string[] = [];
    let position = 0;
    for (const word of text.split(' ')) {
      const length = [...word].length;
      if (word === code) ranges.push(`${position}-${position + length - 1}`);
      position += length + 1;
    }
    if (ranges.length > 0) parts.push(`${id}:${ranges.join(',')}`);
  }
  return parts.join('/');
}

function badgesTag(badges: Readonly<Record<string, string>>): string {
  return Object.entries(badges)
    .map(([name, version]) => `${name}/${version}`)
    .join(',');
}

function userPrefix(login: string): string {
  return `${login}!${login}@${login}.tmi.twitch.tv`;
}

/** A client line: command and parameters (the trailing one last); tags and prefix are dropped. */
function parseClientLine(line: string): { command: string; params: string[] } | undefined {
  let rest = line;
  if (rest.startsWith('@')) rest = rest.slice(rest.indexOf(' ') + 1 || rest.length);
  if (rest.startsWith(':')) rest = rest.slice(rest.indexOf(' ') + 1 || rest.length);
  let trailing: string | undefined;
  const colon = rest.indexOf(' :');
  if (colon >= 0) {
    trailing = rest.slice(colon + 2);
    rest = rest.slice(0, colon);
  }
  const params = rest.split(' ').filter((p) => p !== '');
  const command = params.shift()?.toUpperCase();
  if (command === undefined) return undefined;
  if (trailing !== undefined) params.push(trailing);
  return { command, params };
}

class Connection {
  readonly caps = new Set<string>();
  readonly channels = new Set<string>();
  joins = 0;
  state: 'open' | 'frozen' | 'closed' = 'open';
  pass?: string;
  nick?: string;
  /** Between `CAP LS` and `CAP END`, registration waits (IRCv3 capability negotiation). */
  negotiating = false;
  user?: { login: string; id?: string; displayName: string };
  private outbox: string[] = [];
  private cancelPing?: Cancel;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly socket: Socket,
  ) {}

  get loggedIn(): boolean {
    return this.user !== undefined;
  }

  /** Queues a line; the lines queued before the next microtask leave as one frame. */
  send(line: string): void {
    if (this.state !== 'open') return;
    this.outbox.push(line);
    if (this.outbox.length === 1) queueMicrotask(() => this.flush());
  }

  /** Sends a line, without tags when the client did not ask for `twitch.tv/tags`. */
  sendTagged(tags: Tags, rest: string): void {
    this.send(this.caps.has('twitch.tv/tags') ? `${formatTags(tags)} ${rest}` : rest);
  }

  flush(): void {
    if (this.outbox.length === 0 || this.state !== 'open') return;
    this.ws.send(`${this.outbox.join('\r\n')}\r\n`);
    this.outbox = [];
  }

  /** Sends what is queued, then closes. */
  close(): void {
    if (this.state !== 'open') return;
    this.flush();
    this.stopPinging();
    this.state = 'closed';
    this.ws.close();
  }

  freeze(): void {
    if (this.state !== 'open') return;
    this.state = 'frozen';
    this.outbox = [];
    this.stopPinging();
    // Not reading means not answering the WebSocket close handshake either: a dead peer.
    this.socket.pause();
  }

  pingEvery(intervalMs: number, pongTimeoutMs: number, clock: TwitchWorld['clock']): void {
    this.stopPinging();
    if (intervalMs <= 0) return;
    this.cancelPing = clock.schedule(clock.now() + intervalMs, () => this.pingNow(pongTimeoutMs, clock));
  }

  /** `PING :tmi.twitch.tv`; no PONG within the timeout closes the connection (§5.7). */
  pingNow(pongTimeoutMs: number, clock: TwitchWorld['clock']): void {
    if (this.state !== 'open') return;
    this.stopPinging();
    this.send(`PING :${HOST}`);
    this.cancelPing = clock.schedule(clock.now() + pongTimeoutMs, () => this.close());
  }

  stopPinging(): void {
    this.cancelPing?.();
    this.cancelPing = undefined;
  }
}

/** Per-user attempt times, for the JOIN and login limits. */
class AttemptLog {
  private readonly attempts = new Map<string, number[]>();

  constructor(private readonly limit: RateLimit | false) {}

  /** Records an attempt at `now`; false if it is one too many. */
  admit(key: string, now: number): boolean {
    const limit = this.limit;
    if (limit === false) return true;
    const recent = (this.attempts.get(key) ?? []).filter((t) => t > now - limit.windowMs);
    recent.push(now);
    this.attempts.set(key, recent);
    return recent.length <= limit.count;
  }
}

export async function startFakeChat(options: FakeChatOptions): Promise<FakeChat> {
  const { world } = options;
  const clock = world.clock;
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  const pongTimeoutMs = options.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS;
  const joinAttempts = new AttemptLog(options.joinLimit ?? TWITCH_JOIN_LIMIT);
  const authAttempts = new AttemptLog(options.authLimit ?? TWITCH_AUTH_LIMIT);
  const events = new EventEmitter<FakeChatEvents>();
  const joinLog: JoinLogEntry[] = [];
  const authLog: AuthLogEntry[] = [];
  const connections = new Map<number, Connection>();
  const delayedCloses = new Set<Cancel>();
  let nextConnectionId = 1;

  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  wss.on('connection', (ws, request) => {
    const conn = new Connection(nextConnectionId++, ws, request.socket);
    connections.set(conn.id, conn);
    ws.on('message', (data) => {
      if (conn.state !== 'open') return;
      for (const line of data.toString().split(/\r?\n/)) {
        if (line === '') continue;
        events.emit('line', conn.id, line);
        handle(conn, line);
        if (conn.state !== 'open') break;
      }
    });
    ws.on('close', () => {
      conn.state = 'closed';
      conn.stopPinging();
      events.emit('closed', conn.id);
    });
    ws.on('error', () => {
      // The close event follows; a reset by the client is not the fake's problem.
    });
    events.emit('connection', conn.id);
  });

  function handle(conn: Connection, line: string): void {
    const parsed = parseClientLine(line);
    if (!parsed) return;
    const { command, params } = parsed;
    switch (command) {
      case 'CAP':
        handleCap(conn, params);
        return;
      case 'PASS':
        conn.pass = params[0];
        return;
      case 'NICK':
        conn.nick = params[0]?.toLowerCase();
        tryLogin(conn);
        return;
      case 'USER':
        return;
      case 'PING':
        conn.send(`:${HOST} PONG ${HOST} :${params[params.length - 1] ?? ''}`);
        return;
      case 'PONG':
        conn.pingEvery(pingIntervalMs, pongTimeoutMs, clock);
        return;
      case 'QUIT':
        conn.close();
        return;
    }
    if (!conn.loggedIn) return;
    switch (command) {
      case 'JOIN':
        handleJoin(conn, params[0] ?? '');
        return;
      case 'PART':
        handlePart(conn, params[0] ?? '');
        return;
      case 'PRIVMSG':
        // Sending chat is not faked: a reader never sends.
        return;
      default:
        conn.send(`:${HOST} 421 ${conn.user?.login} ${command} :Unknown command`);
    }
  }

  function handleCap(conn: Connection, params: string[]): void {
    const sub = params[0]?.toUpperCase();
    if (sub === 'LS') {
      // Not in the contract, but Twitch answers it and @twurple/chat waits for the answer.
      conn.negotiating = true;
      conn.send(`:${HOST} CAP * LS :${SUPPORTED_CAPS.join(' ')}`);
    } else if (sub === 'REQ') {
      const requested = (params[params.length - 1] ?? '').trim();
      const caps = requested.split(' ').filter((c) => c !== '');
      if (caps.every((c) => SUPPORTED_CAPS.includes(c))) {
        for (const c of caps) conn.caps.add(c);
        conn.send(`:${HOST} CAP * ACK :${requested}`);
      } else {
        conn.send(`:${HOST} CAP * NAK :${requested}`);
      }
    } else if (sub === 'END') {
      conn.negotiating = false;
      tryLogin(conn);
    }
  }

  function tryLogin(conn: Connection): void {
    if (conn.loggedIn || conn.negotiating || conn.nick === undefined) return;
    const nick = conn.nick;
    const log = (outcome: AuthLogEntry['outcome'], userLogin?: string) =>
      authLog.push({
        at: clock.now(),
        connectionId: conn.id,
        nick,
        outcome,
        ...(userLogin ? { userLogin } : {}),
      });

    let user: Connection['user'];
    if (/^justinfan\d+$/.test(nick)) {
      // Anonymous read-only login: any or no PASS (§5.2).
      user = { login: nick, displayName: nick };
    } else if (conn.pass === undefined || !conn.pass.startsWith('oauth:')) {
      log('malformed');
      conn.send(`:${HOST} NOTICE * :Improperly formatted auth`);
      conn.close();
      return;
    } else {
      const token = world.liveToken(conn.pass.slice('oauth:'.length));
      const owner: FakeUser | undefined = token?.userId ? world.users.get(token.userId) : undefined;
      if (!token || !owner || !token.scopes.includes('chat:read')) {
        log('bad-token');
        conn.send(`:${HOST} NOTICE * :Login authentication failed`);
        conn.close();
        return;
      }
      user = { login: owner.login, id: owner.id, displayName: owner.displayName };
    }
    if (!authAttempts.admit(user.id ?? user.login, clock.now())) {
      log('rate-limited', user.login);
      conn.close();
      return;
    }
    log('ok', user.login);
    conn.user = user;
    const me = user.login;
    for (const [code, text] of [
      ['001', 'Welcome, GLHF!'],
      ['002', `Your host is ${HOST}`],
      ['003', 'This server is rather new'],
      ['004', '-'],
      ['375', '-'],
      ['372', 'You are in a maze of twisty passages, all alike.'],
      ['376', '>'],
    ] as const) {
      conn.send(`:${HOST} ${code} ${me} :${text}`);
    }
    if (conn.caps.has('twitch.tv/tags') && conn.caps.has('twitch.tv/commands')) {
      conn.sendTagged(
        [
          ['badge-info', ''],
          ['badges', ''],
          ['color', '#1E90FF'],
          ['display-name', user.displayName],
          ['emote-sets', '0'],
          ['user-id', user.id ?? ''],
          ['user-type', ''],
        ],
        `:${HOST} GLOBALUSERSTATE`,
      );
    }
    conn.pingEvery(pingIntervalMs, pongTimeoutMs, clock);
    events.emit('login', conn.id, me);
  }

  function handleJoin(conn: Connection, target: string): void {
    const user = conn.user!;
    for (const raw of target.split(',')) {
      const channel = raw.replace(/^#/, '').toLowerCase();
      if (channel === '') continue;
      const entry = (outcome: JoinLogEntry['outcome']): JoinLogEntry => ({
        at: clock.now(),
        connectionId: conn.id,
        userLogin: user.login,
        channel,
        kind: 'join',
        outcome,
      });
      // §5.8: every channel of a JOIN counts; too many closes the connection.
      if (!joinAttempts.admit(user.id ?? user.login, clock.now())) {
        const e = entry('rate-limited');
        joinLog.push(e);
        events.emit('join', e);
        conn.close();
        return;
      }
      const room = world.userByLogin(channel);
      if (!room) {
        conn.sendTagged(
          [['msg-id', 'msg_channel_suspended']],
          `:${HOST} NOTICE #${channel} :This channel does not exist or has been suspended.`,
        );
        const e = entry('unknown-channel');
        joinLog.push(e);
        events.emit('join', e);
        continue;
      }
      conn.channels.add(channel);
      conn.joins++;
      const me = user.login;
      conn.send(`:${userPrefix(me)} JOIN #${channel}`);
      conn.send(`:${me}.${HOST} 353 ${me} = #${channel} :${me}`);
      conn.send(`:${me}.${HOST} 366 ${me} #${channel} :End of /NAMES list`);
      if (conn.caps.has('twitch.tv/commands')) {
        conn.sendTagged(
          [
            ['badge-info', ''],
            ['badges', ''],
            ['color', '#1E90FF'],
            ['display-name', user.displayName],
            ['emote-sets', '0'],
            ['mod', '0'],
            ['subscriber', '0'],
            ['user-type', ''],
          ],
          `:${HOST} USERSTATE #${channel}`,
        );
        conn.sendTagged(
          [
            ['emote-only', '0'],
            ['followers-only', '-1'],
            ['r9k', '0'],
            ['room-id', room.id],
            ['slow', '0'],
            ['subs-only', '0'],
          ],
          `:${HOST} ROOMSTATE #${channel}`,
        );
      }
      const e = entry('ok');
      joinLog.push(e);
      events.emit('join', e);
    }
  }

  function handlePart(conn: Connection, target: string): void {
    const user = conn.user!;
    for (const raw of target.split(',')) {
      const channel = raw.replace(/^#/, '').toLowerCase();
      if (!conn.channels.delete(channel)) continue;
      conn.send(`:${userPrefix(user.login)} PART #${channel}`);
      const e: JoinLogEntry = {
        at: clock.now(),
        connectionId: conn.id,
        userLogin: user.login,
        channel,
        kind: 'part',
        outcome: 'ok',
      };
      joinLog.push(e);
      events.emit('part', e);
    }
  }

  function room(channelLogin: string): { login: string; id: string } {
    const login = channelLogin.replace(/^#/, '').toLowerCase();
    const user = world.userByLogin(login);
    if (!user) throw new Error(`fake chat: no channel ${login} in the world`);
    return { login, id: user.id };
  }

  function sender(
    login: string,
    userId: string | undefined,
  ): { login: string; id: string; displayName: string } {
    const user = world.userByLogin(login);
    const id = userId ?? user?.id;
    if (id === undefined) throw new Error(`fake chat: no user ${login} in the world; pass userId`);
    return { login: login.toLowerCase(), id, displayName: user?.displayName ?? login };
  }

  /** Every connection in the channel that still talks. */
  function audience(channel: string, needsCommands = false): Connection[] {
    return [...connections.values()].filter(
      (c) =>
        c.state === 'open' && c.channels.has(channel) && (!needsCommands || c.caps.has('twitch.tv/commands')),
    );
  }

  function say(channelLogin: string, m: ScriptedMessage): string {
    const r = room(channelLogin);
    const from = sender(m.userLogin, m.userId);
    const badges = m.badges ?? {};
    const subscriber = m.subscriber ?? 'subscriber' in badges;
    const id = m.id ?? randomUUID();
    const months = m.subscribedMonths ?? badges.subscriber;
    const tags = new Map<string, string>([
      ['badge-info', months !== undefined ? `subscriber/${months}` : ''],
      ['badges', badgesTag(badges)],
      ['client-nonce', randomBytes(16).toString('hex')],
      ['color', m.color ?? ''],
      ['display-name', m.displayName ?? from.displayName],
      ['emotes', m.emotesTag ?? emotesTagFor(m.text, m.emotes ?? {})],
      ['first-msg', '0'],
      ['flags', ''],
      ['id', id],
      ['mod', (m.mod ?? 'moderator' in badges) ? '1' : '0'],
      ['returning-chatter', '0'],
      ['room-id', r.id],
      ['subscriber', subscriber ? '1' : '0'],
      ['tmi-sent-ts', String(clock.now())],
      ['turbo', '0'],
      ['user-id', from.id],
      ['user-type', ''],
    ]);
    for (const [k, v] of Object.entries(m.tags ?? {})) tags.set(k, v);
    // Twitch sends them sorted by name (§5.4's example); clients must not rely on it.
    const sorted = [...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const text = m.action ? `\x01ACTION ${m.text}\x01` : m.text;
    for (const c of audience(r.login)) {
      c.sendTagged(sorted, `:${userPrefix(from.login)} PRIVMSG #${r.login} :${text}`);
    }
    return id;
  }

  function userNotice(channelLogin: string, n: ScriptedUserNotice): string {
    const r = room(channelLogin);
    const from = sender(n.userLogin, n.userId);
    const badges = n.badges ?? {};
    const id = n.id ?? randomUUID();
    const tags: Array<[string, string]> = [
      ['badge-info', badges.subscriber !== undefined ? `subscriber/${badges.subscriber}` : ''],
      ['badges', badgesTag(badges)],
      ['color', ''],
      ['display-name', n.displayName ?? from.displayName],
      ['emotes', ''],
      ['flags', ''],
      ['id', id],
      ['login', from.login],
      ['mod', 'moderator' in badges ? '1' : '0'],
      ['msg-id', n.kind],
      ...Object.entries(n.params ?? {}).map(([k, v]): [string, string] => [`msg-param-${k}`, v]),
      ['room-id', r.id],
      ['subscriber', 'subscriber' in badges ? '1' : '0'],
      ['system-msg', n.systemMsg],
      ['tmi-sent-ts', String(clock.now())],
      ['user-id', from.id],
      ['user-type', ''],
    ];
    const trailing = n.text !== undefined ? ` :${n.text}` : '';
    for (const c of audience(r.login, true)) c.sendTagged(tags, `:${HOST} USERNOTICE #${r.login}${trailing}`);
    return id;
  }

  function clearChat(channelLogin: string, o: { userLogin?: string; banDurationS?: number } = {}): void {
    const r = room(channelLogin);
    const tags: Array<[string, string]> = [];
    if (o.userLogin !== undefined && o.banDurationS !== undefined)
      tags.push(['ban-duration', String(o.banDurationS)]);
    tags.push(['room-id', r.id]);
    if (o.userLogin !== undefined) tags.push(['target-user-id', sender(o.userLogin, undefined).id]);
    tags.push(['tmi-sent-ts', String(clock.now())]);
    const trailing = o.userLogin !== undefined ? ` :${o.userLogin.toLowerCase()}` : '';
    for (const c of audience(r.login, true)) c.sendTagged(tags, `:${HOST} CLEARCHAT #${r.login}${trailing}`);
  }

  function clearMsg(channelLogin: string, m: { id: string; userLogin: string; text: string }): void {
    const r = room(channelLogin);
    const tags: Tags = [
      ['login', m.userLogin.toLowerCase()],
      ['room-id', r.id],
      ['target-msg-id', m.id],
      ['tmi-sent-ts', String(clock.now())],
    ];
    for (const c of audience(r.login, true)) c.sendTagged(tags, `:${HOST} CLEARMSG #${r.login} :${m.text}`);
  }

  function notice(channelLogin: string, msgId: string, text: string): void {
    const r = room(channelLogin);
    for (const c of audience(r.login))
      c.sendTagged([['msg-id', msgId]], `:${HOST} NOTICE #${r.login} :${text}`);
  }

  function loggedIn(): Connection[] {
    return [...connections.values()].filter((c) => c.state === 'open' && c.loggedIn);
  }

  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    events,
    joinLog,
    authLog,
    say,
    userNotice,
    clearChat,
    clearMsg,
    notice,
    joinedChannels: () => [...new Set(loggedIn().flatMap((c) => [...c.channels]))].sort(),
    connections: () =>
      [...connections.values()].map((c) => ({
        id: c.id,
        ...(c.user ? { userLogin: c.user.login } : {}),
        state: c.state,
        caps: [...c.caps],
        channels: [...c.channels],
        joins: c.joins,
      })),
    ping: () => {
      for (const c of loggedIn()) c.pingNow(pongTimeoutMs, clock);
    },
    reconnect: ({ closeAfterMs = 0 } = {}) => {
      for (const c of loggedIn()) {
        if (c.caps.has('twitch.tv/commands')) c.send(`:${HOST} RECONNECT`);
        if (closeAfterMs <= 0) {
          c.close();
        } else {
          c.flush();
          const cancel = clock.schedule(clock.now() + closeAfterMs, () => {
            delayedCloses.delete(cancel);
            c.close();
          });
          delayedCloses.add(cancel);
        }
      }
    },
    freeze: () => {
      for (const c of connections.values()) c.freeze();
    },
    dropConnections: (connectionIds) => {
      for (const c of connections.values()) {
        if (connectionIds && !connectionIds.includes(c.id)) continue;
        c.stopPinging();
        c.ws.terminate();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const cancel of delayedCloses) cancel();
        for (const c of connections.values()) {
          c.stopPinging();
          c.ws.terminate();
        }
        wss.close(() => resolve());
      }),
  };
}

/**
 * A PING through every chat connection and its PONG back, twice: once the second PONG arrives, the
 * client has read every line the fake sent before (lines are ordered), and a JOIN the client sent
 * just before the first PING is confirmed to it too. Tests use it instead of waiting a while.
 */
export async function syncChat(
  chat: FakeChat,
  waitUntil: (what: string, check: () => boolean) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < 2; round++) {
    let ponged = false;
    const onLine = (_connection: number, line: string) => {
      if (/^PONG\b/i.test(line)) ponged = true;
    };
    chat.events.on('line', onLine);
    try {
      chat.ping();
      await waitUntil('a PONG from the chat client', () => ponged);
    } finally {
      chat.events.off('line', onLine);
    }
  }
}
