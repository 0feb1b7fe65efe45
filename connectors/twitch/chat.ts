/**
 * Reads Twitch chat over IRC (contracts/twitch.md §5) with @twurple/chat's `ChatClient` and turns
 * every PRIVMSG of a joined channel into a `ChatMessage` record. twurple does the protocol (login,
 * capabilities, PING/PONG, tag parsing, reconnecting when the socket closes); this class adds what
 * a long-running reader needs on top of it:
 *
 * - JOINs paced under Twitch's limit on the injected clock, re-joins after a reconnect included
 *   (twurple's own join limiter has a fixed wall-clock window, and its re-join skips it);
 * - a new connection when the server sends RECONNECT (twurple only parses that command);
 * - a liveness watchdog: after `idleMs` without a line it sends PING, and without an answer within
 *   `pongTimeoutMs` it reconnects, so a dead connection is noticed within 25 s by default
 *   (twurple's own check takes 70 s and cannot be configured through `ChatClient`);
 * - one-line errors for a failed login, an unreachable server and a failed JOIN.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AuthProvider } from '@twurple/auth';
import { ChatClient, type ChatClientOptions, LogLevel, Reconnect } from '@twurple/chat';
import type { Cancel, Clock } from '../../pipeline/time/clock.ts';
import type { ChatMessage } from '../../schemas/avro-types.ts';
import { MalformedChatMessageError, toChatMessage } from './chat.wire.ts';

/** Twitch chat over WebSocket with TLS (§5.1). */
export const TWITCH_CHAT_URL = 'wss://irc-ws.chat.twitch.tv:443';

export interface JoinRate {
  /** JOINs allowed in any `windowMs`. */
  readonly joins: number;
  readonly windowMs: number;
}

/**
 * Twitch allows 20 JOINs per 10 s per user and closes the connection beyond that (§5.8). The
 * window is a second longer so that network jitter (a first JOIN delayed, a 21st one fast) cannot
 * squeeze 21 into the server's 10 s; a shorter window risks a disconnect loop with many channels.
 */
export const DEFAULT_JOIN_RATE: JoinRate = { joins: 20, windowMs: 11_000 };

export interface Liveness {
  /** Send our own PING after this long without any line from the server. */
  readonly idleMs: number;
  /** Reconnect if nothing arrives this long after that PING. */
  readonly pongTimeoutMs: number;
}

/**
 * A dead connection is noticed at most `idleMs + pongTimeoutMs` = 25 s after the last line (the
 * requirement is 30 s). A shorter idle time only adds PINGs on quiet channels; a pong timeout much
 * below 10 s would reconnect on a merely slow server.
 */
export const DEFAULT_LIVENESS: Liveness = { idleMs: 15_000, pongTimeoutMs: 10_000 };

/** How long a JOIN may go unanswered before `join()` fails (twurple uses the same 10 s). */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;

export interface ChatLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface TwitchChatOptions {
  /** Gives the user token (scope `chat:read`); its login becomes the IRC nick. */
  readonly authProvider: AuthProvider;
  /** `ws://` or `wss://` origin of the chat server; default Twitch's, `TWITCH_CHAT_URL`. */
  readonly url?: string;
  readonly clock: Clock;
  /** Called once per chat message of a joined channel. Must not throw. */
  readonly onMessage: (record: ChatMessage) => void;
  /** Default: warnings to stderr, nothing else. twurple's warnings and errors go here too. */
  readonly logger?: ChatLogger;
  readonly joinRate?: JoinRate;
  readonly liveness?: Liveness;
  readonly joinTimeoutMs?: number;
}

export interface ChatHealth {
  /** Logged in on a live connection now. */
  readonly connected: boolean;
  /** Clock time the last chat message arrived, null before the first. */
  readonly lastMessageAt: number | null;
  /** Connections lost or replaced since the first login (drops, RECONNECTs, dead connections). */
  readonly reconnects: number;
}

/** What a `TwitchChat` reports as it happens (channels are logins without `#`). */
export interface TwitchChatEvents {
  /** Logged in, the first time and after every reconnect. */
  connected: [];
  /** The connection was lost or is being replaced; a reconnect follows. */
  disconnected: [reason: string];
  /** Twitch confirmed a JOIN (also each re-join after a reconnect). */
  joined: [channel: string];
  /** A JOIN failed for good; `join()` rejected with the same error. */
  joinFailed: [channel: string, error: TwitchChatError];
  parted: [channel: string];
}

/** What went wrong, for callers that react differently; the message says it for users. */
export type TwitchChatErrorCode = 'auth' | 'connect' | 'join' | 'closed' | 'config';

export class TwitchChatError extends Error {
  override name = 'TwitchChatError';

  constructor(
    readonly code: TwitchChatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const consoleLogger: ChatLogger = {
  info: () => {},
  warn: (message) => console.warn(message),
};

/** The texts Twitch ends a failed login with (`NOTICE * :…`, §5.2), lower-cased. */
const LOGIN_FAILURES = ['login authentication failed', 'improperly formatted auth', 'invalid nick'];

/** Why Twitch refused a JOIN, by the NOTICE's msg-id. */
const JOIN_FAILURES: Record<string, string> = {
  msg_channel_suspended: 'the channel does not exist or has been suspended',
  msg_banned: 'this account is banned from the channel',
};

/**
 * The `ChatClient` options that reach `url`. twurple builds `ws[s]://<hostName>:<80|443>` itself
 * and has no port option, so another port is reached by giving `ws` the socket to use.
 *
 * @example
 * chatConnectionOptions('wss://irc-ws.chat.twitch.tv:443'); // { hostName: 'irc-ws.chat.twitch.tv', ssl: true, webSocket: true }
 */
export function chatConnectionOptions(
  url: string,
): Pick<ChatClientOptions, 'hostName' | 'ssl' | 'webSocket' | 'connectionOptions'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TwitchChatError('config', `twitch chat: not a URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TwitchChatError('config', `twitch chat: the url must start with ws:// or wss://, got ${url}`);
  }
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    throw new TwitchChatError('config', `twitch chat: the url must have no path or query, got ${url}`);
  }
  const secure = parsed.protocol === 'wss:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const base = { hostName: host, ssl: secure, webSocket: true };
  // `URL` drops the scheme's default port, so an empty port is the one twurple would pick.
  if (parsed.port === '') return base;
  const port = Number(parsed.port);
  const createConnection = () =>
    secure ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
  return { ...base, connectionOptions: { wsOptions: { createConnection } } };
}

function toLogin(channel: string): string {
  return channel.replace(/^#/, '').toLowerCase();
}

interface Waiter {
  resolve(): void;
  reject(error: TwitchChatError): void;
}

/**
 * A chat reader for many channels.
 *
 * @example
 * const chat = new TwitchChat({
 *   authProvider: new StaticAuthProvider(clientId, accessToken),
 *   clock: new SystemClock(),
 *   onMessage: (record) => console.log(record.broadcaster_login, record.text),
 * });
 * await chat.connect();
 * await chat.join('pixelfox');
 */
export class TwitchChat {
  readonly events = new EventEmitter<TwitchChatEvents>();
  private readonly chat: ChatClient;
  private readonly clock: Clock;
  private readonly logger: ChatLogger;
  private readonly onMessage: (record: ChatMessage) => void;
  private readonly url: string;
  private readonly joinRate: JoinRate;
  private readonly liveness: Liveness;
  private readonly joinTimeoutMs: number;

  /** Channels the caller asked for, in order; re-joined after every reconnect. */
  private readonly wanted = new Set<string>();
  /** Channels joined on the current connection; only their messages are delivered. */
  private readonly joined = new Set<string>();
  /** Channels waiting for a JOIN slot. */
  private queue: string[] = [];
  /** Channels whose JOIN is sent and unanswered, with their timeout. */
  private readonly inFlight = new Map<string, Cancel>();
  private readonly waiters = new Map<string, Waiter[]>();
  /** Clock times of the JOINs sent within the last window (all connections: Twitch counts per user). */
  private joinTimes: number[] = [];
  private cancelPump?: Cancel;

  private connected = false;
  private everConnected = false;
  private closed = false;
  private pendingConnect?: { resolve(): void; reject(error: TwitchChatError): void; done: Promise<void> };
  private reconnects = 0;
  private lastMessageAt: number | null = null;
  /** The last error twurple logged, to explain a failed login. */
  private lastLibraryError?: string;

  /** Lines received so far; the watchdog compares it before and after its PING. */
  private linesSeen = 0;
  private lastLineAt = 0;
  private linesAtPing?: number;
  private cancelWatchdog?: Cancel;

  constructor(options: TwitchChatOptions) {
    this.clock = options.clock;
    this.logger = options.logger ?? consoleLogger;
    this.onMessage = options.onMessage;
    this.url = options.url ?? TWITCH_CHAT_URL;
    this.joinRate = options.joinRate ?? DEFAULT_JOIN_RATE;
    this.liveness = options.liveness ?? DEFAULT_LIVENESS;
    this.joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    this.chat = new ChatClient({
      authProvider: options.authProvider,
      readOnly: true,
      ...chatConnectionOptions(this.url),
      // We re-join ourselves, through the pacing: twurple would send every JOIN at once.
      rejoinChannelsOnReconnect: false,
      logger: {
        minLevel: LogLevel.WARNING,
        custom: (level, message) => {
          // "Error fetching a token…" repeats the error we get anyway; the one before it says why.
          if (level <= LogLevel.ERROR && !message.startsWith('Error fetching a token')) {
            this.lastLibraryError = message;
          }
          this.logger.warn(`twitch chat (twurple): ${message.replace(/\s*\n\s*/g, ' ')}`);
        },
      },
    });
    this.listen();
  }

  /** Connects and logs in; rejects with a `TwitchChatError` if the login or the connection fails. */
  connect(): Promise<void> {
    if (this.closed)
      return Promise.reject(new TwitchChatError('closed', 'twitch chat: the client is closed'));
    if (this.connected) return Promise.resolve();
    if (this.pendingConnect) return this.pendingConnect.done;
    let resolve!: () => void;
    let reject!: (error: TwitchChatError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pendingConnect = { resolve, reject, done };
    this.logger.info(`twitch chat: connecting to ${this.url}`);
    this.chat.connect();
    return done;
  }

  /**
   * Joins a channel (login, with or without `#`); resolves once Twitch confirms. May be called
   * before `connect()`. JOINs beyond the rate wait for a slot.
   */
  join(channel: string): Promise<void> {
    const login = toLogin(channel);
    if (this.closed)
      return Promise.reject(new TwitchChatError('closed', 'twitch chat: the client is closed'));
    if (!/^[a-z0-9_]{1,25}$/.test(login)) {
      return Promise.reject(new TwitchChatError('join', `twitch chat: not a channel login: ${channel}`));
    }
    if (this.joined.has(login)) return Promise.resolve();
    this.wanted.add(login);
    const done = new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(login) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(login, list);
    });
    if (!this.queue.includes(login) && !this.inFlight.has(login)) this.queue.push(login);
    this.pump();
    return done;
  }

  /** Leaves a channel; its messages stop at once. */
  part(channel: string): void {
    const login = toLogin(channel);
    this.wanted.delete(login);
    this.queue = this.queue.filter((c) => c !== login);
    this.inFlight.get(login)?.();
    this.inFlight.delete(login);
    this.settle(login, new TwitchChatError('join', `twitch chat: left #${login} before the join completed`));
    if (this.joined.delete(login)) {
      if (this.connected) this.chat.part(login);
      this.events.emit('parted', login);
    }
  }

  /** Channels joined on the current connection, in join order. */
  channels(): string[] {
    return [...this.joined];
  }

  health(): ChatHealth {
    return { connected: this.connected, lastMessageAt: this.lastMessageAt, reconnects: this.reconnects };
  }

  /** Disconnects for good; pending `connect()` and `join()` calls reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.connected = false;
    this.pendingConnect?.reject(
      new TwitchChatError('closed', 'twitch chat: closed before the login completed'),
    );
    this.pendingConnect = undefined;
    for (const login of [...this.waiters.keys()]) {
      this.settle(login, new TwitchChatError('closed', `twitch chat: closed before #${login} was joined`));
    }
    this.chat.quit();
    // Called from inside twurple's disconnect event, the quit above is undone as soon as we
    // return: its connection then starts reconnecting, with retries forever if the server is
    // down. Quitting again once that call stack is done stops it.
    queueMicrotask(() => this.chat.quit());
  }

  private listen(): void {
    const chat = this.chat;
    chat.onConnect(() => {
      // twurple may still open a connection after close() (its login retry runs on a timer).
      if (this.closed) chat.quit();
    });
    chat.onAuthenticationSuccess(() => this.loggedIn());
    chat.onTokenFetchFailure((error) => this.loginFailed(`${error.message}${this.libraryDetail()}`));
    chat.irc.onNotice((target, _user, text) => {
      if (target === '*' && LOGIN_FAILURES.includes(text.toLowerCase()))
        this.loginFailed(`the server said "${text}"`);
    });
    chat.onDisconnect((manually, reason) => this.disconnected(manually, reason));
    chat.irc.onAnyMessage(() => {
      this.linesSeen++;
      this.lastLineAt = this.clock.now();
    });
    chat.irc.onTypedMessage(Reconnect, () => this.replaceConnection('the server sent RECONNECT'));
    chat.onJoin((channel, user) => {
      if (user === chat.irc.currentNick) this.joinConfirmed(toLogin(channel));
    });
    chat.onJoinFailure((channel, reason) => this.joinRefused(toLogin(channel), reason));
    chat.onPart((channel, user) => {
      if (user === chat.irc.currentNick) this.joined.delete(toLogin(channel));
    });
    chat.onMessage((channel, user, text, msg) => this.received(channel, user, text, msg.tags));
    chat.onAction((channel, user, text, msg) => this.received(channel, user, text, msg.tags));
  }

  /** twurple's last logged error, first line only, as ` (…)`; it often says why a token was refused. */
  private libraryDetail(): string {
    const first = this.lastLibraryError?.split('\n')[0];
    return first ? ` (${first})` : '';
  }

  private loggedIn(): void {
    if (this.closed) return;
    this.connected = true;
    this.everConnected = true;
    this.lastLibraryError = undefined;
    this.lastLineAt = this.clock.now();
    this.linesAtPing = undefined;
    this.armWatchdog(this.lastLineAt + this.liveness.idleMs);
    this.logger.info(`twitch chat: logged in as ${this.chat.irc.currentNick}`);
    this.pendingConnect?.resolve();
    this.pendingConnect = undefined;
    this.queue = [...this.wanted];
    this.pump();
    this.events.emit('connected');
  }

  private loginFailed(detail: string): void {
    if (this.closed) return;
    const error = new TwitchChatError(
      'auth',
      `twitch chat: login failed: ${detail}; the token must be a live user token with the chat:read scope`,
    );
    if (this.pendingConnect) {
      this.pendingConnect.reject(error);
      this.pendingConnect = undefined;
      // Twitch wants no login retries in a tight loop (§5.8); a bad token will not get better.
      this.close();
    } else {
      // Lost the login on a reconnect (token revoked or expired): twurple retries with back-off.
      this.logger.warn(error.message);
    }
  }

  private disconnected(manually: boolean, reason: Error | undefined): void {
    if (this.closed) return;
    // A socket we already replaced reports its end late: the current connection is fine.
    if (this.chat.isConnected || this.chat.isConnecting) return;
    const why = reason?.message ?? (manually ? 'closed' : 'connection lost');
    if (this.pendingConnect && !this.everConnected) {
      this.pendingConnect.reject(
        new TwitchChatError('connect', `twitch chat: cannot connect to ${this.url}: ${why}`),
      );
      this.pendingConnect = undefined;
      this.close();
      return;
    }
    if (this.connected) this.connectionLost(why);
  }

  /** Forgets the per-connection state; twurple reconnects (or we do) and `loggedIn` re-joins. */
  private connectionLost(why: string): void {
    this.connected = false;
    this.reconnects++;
    this.joined.clear();
    for (const cancel of this.inFlight.values()) cancel();
    this.inFlight.clear();
    this.cancelPump?.();
    this.cancelPump = undefined;
    this.cancelWatchdog?.();
    this.cancelWatchdog = undefined;
    this.logger.warn(`twitch chat: disconnected (${why}); reconnecting`);
    this.events.emit('disconnected', why);
  }

  private replaceConnection(why: string): void {
    if (this.closed || !this.connected) return;
    this.connectionLost(why);
    this.chat.reconnect();
  }

  private pump(): void {
    this.cancelPump?.();
    this.cancelPump = undefined;
    while (this.connected && this.queue.length > 0) {
      const now = this.clock.now();
      this.joinTimes = this.joinTimes.filter((t) => t > now - this.joinRate.windowMs);
      if (this.joinTimes.length >= this.joinRate.joins) {
        this.cancelPump = this.clock.schedule(this.joinTimes[0]! + this.joinRate.windowMs, () => this.pump());
        return;
      }
      const login = this.queue.shift()!;
      this.joinTimes.push(now);
      this.inFlight.set(
        login,
        this.clock.schedule(now + this.joinTimeoutMs, () => this.joinTimedOut(login)),
      );
      this.chat.irc.join(`#${login}`);
    }
  }

  private joinConfirmed(login: string): void {
    this.inFlight.get(login)?.();
    this.inFlight.delete(login);
    if (!this.wanted.has(login)) {
      // Parted (or timed out) while the JOIN was on its way.
      this.chat.part(login);
      return;
    }
    this.joined.add(login);
    this.settle(login);
    this.events.emit('joined', login);
  }

  private joinRefused(login: string, reason: string): void {
    this.inFlight.get(login)?.();
    this.inFlight.delete(login);
    this.wanted.delete(login);
    const why = JOIN_FAILURES[reason] ?? reason;
    this.failJoin(login, new TwitchChatError('join', `twitch chat: cannot join #${login}: ${why}`));
  }

  private joinTimedOut(login: string): void {
    this.inFlight.delete(login);
    this.wanted.delete(login);
    this.failJoin(
      login,
      new TwitchChatError('join', `twitch chat: no answer to JOIN #${login} within ${this.joinTimeoutMs} ms`),
    );
  }

  private failJoin(login: string, error: TwitchChatError): void {
    this.settle(login, error);
    this.events.emit('joinFailed', login, error);
  }

  private settle(login: string, error?: TwitchChatError): void {
    const list = this.waiters.get(login);
    this.waiters.delete(login);
    for (const w of list ?? []) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  private received(channel: string, login: string, text: string, tags: ReadonlyMap<string, string>): void {
    if (!this.joined.has(toLogin(channel))) return;
    let record: ChatMessage;
    try {
      record = toChatMessage({ channel, login, text, tags });
    } catch (error) {
      if (!(error instanceof MalformedChatMessageError)) throw error;
      this.logger.warn(`twitch chat: skipped a message in #${toLogin(channel)}: ${error.message}`);
      return;
    }
    this.lastMessageAt = this.clock.now();
    this.onMessage(record);
  }

  private armWatchdog(at: number): void {
    this.cancelWatchdog?.();
    this.cancelWatchdog = this.clock.schedule(at, () => this.checkLiveness());
  }

  /**
   * Runs `idleMs` after the last line: quiet → PING and check again `pongTimeoutMs` later; still
   * nothing since the PING → the connection is dead, replace it.
   */
  private checkLiveness(): void {
    if (!this.connected) return;
    const now = this.clock.now();
    if (this.linesAtPing !== undefined) {
      if (this.linesSeen > this.linesAtPing) {
        this.linesAtPing = undefined;
        this.armWatchdog(this.lastLineAt + this.liveness.idleMs);
      } else {
        this.linesAtPing = undefined;
        this.replaceConnection(`no answer to PING within ${this.liveness.pongTimeoutMs} ms`);
      }
      return;
    }
    if (now < this.lastLineAt + this.liveness.idleMs) {
      this.armWatchdog(this.lastLineAt + this.liveness.idleMs);
      return;
    }
    this.linesAtPing = this.linesSeen;
    this.chat.irc.sendRaw(`PING :${now}`);
    this.armWatchdog(now + this.liveness.pongTimeoutMs);
  }

  private stopTimers(): void {
    this.cancelPump?.();
    this.cancelWatchdog?.();
    for (const cancel of this.inFlight.values()) cancel();
    this.inFlight.clear();
  }
}
