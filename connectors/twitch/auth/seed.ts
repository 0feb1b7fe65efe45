/**
 * `seedTokens`: the one-time authorization that makes the token file (contracts/twitch.md §1.1).
 * It prints Twitch's authorize URL for a person to open, listens on the redirect URI for the
 * callback, checks the `state` it sent, exchanges the code, checks the granted scopes and writes
 * the token file (0600, atomically). After that, jobs refresh the token by themselves.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exchangeCode, getTokenInfo } from '@twurple/auth';
import { type Clock, SystemClock } from '../../../pipeline/time/clock.ts';
import { DEFAULT_TOKEN_FILE, REQUIRED_SCOPES } from './defaults.ts';
import { explain, httpFailure, TwitchAuthError } from './errors.ts';
import { scopeArray, writeTokenFile } from './token-file.ts';

/** Twitch's OAuth base, where `/authorize` lives. */
const TWITCH_OAUTH_BASE = 'https://id.twitch.tv/oauth2';

/** How long to wait for the person to authorize: long enough to log in to Twitch, short enough not to hang a script. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export interface SeedOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * Must be registered for the app in the Twitch developer console, and point to this machine
   * (`http://localhost:<port>/<path>`). Port 0 listens on a free port and sends that in the URL.
   * Default `http://localhost:3000/callback`.
   */
  readonly redirectUri?: string;
  /** Default `chat:read`, `clips:edit`. */
  readonly scopes?: readonly string[];
  /** The token file to write; default `data/twitch-tokens.json`. */
  readonly out?: string;
  /**
   * The OAuth base to send the person to. Default Twitch's `https://id.twitch.tv/oauth2`, or
   * `http://localhost:<port>/auth` when `TWURPLE_MOCK_API_PORT` is set (as for every other auth call).
   */
  readonly authorizeBase?: string;
  /** Prints one line for the person (the URL to open, then the result). */
  readonly print: (line: string) => void;
  readonly clock?: Clock;
  /** Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Where `TWURPLE_MOCK_API_PORT` is read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface SeedResult {
  readonly path: string;
  readonly userId: string;
  readonly login: string;
  readonly scopes: readonly string[];
}

/**
 * Runs the authorization code flow once and writes the token file. Rejects with a one-line
 * `TwitchAuthError` on a refusal, a wrong `state`, a missing scope or a timeout.
 *
 * @example
 * await seedTokens({ clientId, clientSecret, print: (line) => console.log(line) });
 */
export async function seedTokens(options: SeedOptions): Promise<SeedResult> {
  const clock = options.clock ?? new SystemClock();
  const scopes = options.scopes ?? REQUIRED_SCOPES;
  const out = options.out ?? DEFAULT_TOKEN_FILE;
  const callback = parseRedirectUri(options.redirectUri ?? 'http://localhost:3000/callback');
  const state = randomBytes(16).toString('hex');

  const server = createServer();
  const port = await listen(server, callback.listenHost, callback.port);
  const redirectUri = callback.port === 0 ? withPort(callback.uri, port) : callback.uri;

  const url = new URL(`${authorizeBase(options).replace(/\/+$/, '')}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: redirectUri,
    scope: scopes.join(' '),
    state,
    // Always show the consent screen, so the person sees which account they are authorizing.
    force_verify: 'true',
  }).toString();

  options.print('Open this URL in a browser and authorize the app:');
  options.print(url.toString());
  options.print(`Waiting for Twitch to redirect to ${redirectUri} …`);

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let cancelTimeout = () => {};
  try {
    return await new Promise<SeedResult>((resolve, reject) => {
      // The first callback decides; anything after it (a reload, a second tab) only gets a page.
      let answered = false;
      cancelTimeout = clock.schedule(clock.now() + timeoutMs, () => {
        answered = true;
        reject(
          new TwitchAuthError(
            `no authorization arrived at ${redirectUri} within ${minutes(timeoutMs)}: run the command again and open the URL it prints`,
          ),
        );
      });
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const at = new URL(req.url ?? '/', redirectUri);
        if (req.method !== 'GET' || at.pathname !== callback.path) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        if (answered) {
          page(res, 410, 'This authorization is already finished. You can close this tab.');
          return;
        }
        answered = true;
        cancelTimeout();
        finish(at.searchParams).then(
          (result) => {
            page(res, 200, `Done: streamscout can now act as ${result.login}. You can close this tab.`);
            resolve(result);
          },
          (error: unknown) => {
            page(res, 400, `Authorization failed: ${explain(error)}`);
            reject(error);
          },
        );
      });
    });
  } finally {
    cancelTimeout();
    await close(server);
  }

  async function finish(q: URLSearchParams): Promise<SeedResult> {
    if (q.get('state') !== state) {
      throw new TwitchAuthError(
        'the callback carried a state this command did not send (a stale or forged redirect): run the command again',
      );
    }
    const refusal = q.get('error');
    if (refusal !== null) {
      const why = q.get('error_description');
      throw new TwitchAuthError(
        `Twitch did not authorize the app (${refusal}${why ? `: ${why}` : ''}): run the command again and click Authorize`,
      );
    }
    const code = q.get('code');
    if (!code)
      throw new TwitchAuthError('the callback carried neither a code nor an error: run the command again');
    let token: Awaited<ReturnType<typeof exchangeCode>>;
    try {
      token = await exchangeCode(options.clientId, options.clientSecret, code, redirectUri);
    } catch (error) {
      const failure = httpFailure(error);
      throw new TwitchAuthError(
        failure
          ? `Twitch refused to exchange the code (${failure.message || `HTTP ${failure.status}`}): check --client-id, --client-secret and --redirect-uri`
          : `cannot reach Twitch to exchange the code: ${explain(error)}`,
      );
    }
    if (!token.refreshToken)
      throw new TwitchAuthError('Twitch returned no refresh token: run the command again');
    const grantedScopes = scopeArray(token.scope);
    const granted = new Set(grantedScopes);
    const missing = scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) {
      throw new TwitchAuthError(
        `Twitch granted ${grantedScopes.join(', ') || 'no scope'} but not ${missing.join(', ')}: run the command again and allow every permission`,
      );
    }
    let userId: string | null;
    let login: string | null;
    try {
      const info = await getTokenInfo(token.accessToken, options.clientId);
      userId = info.userId;
      login = info.userName;
    } catch (error) {
      throw new TwitchAuthError(`cannot validate the new token: ${explain(error)}`);
    }
    if (!userId || !login)
      throw new TwitchAuthError('Twitch issued a token without a user: run the command again');
    await writeTokenFile(out, {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      token: { ...token, scope: grantedScopes, refreshToken: token.refreshToken },
    });
    options.print(`Saved a token for ${login} (${grantedScopes.join(', ')}) to ${out}`);
    return { path: out, userId, login, scopes: grantedScopes };
  }
}

function authorizeBase(options: SeedOptions): string {
  if (options.authorizeBase) return options.authorizeBase;
  const mockPort = (options.env ?? process.env).TWURPLE_MOCK_API_PORT;
  return mockPort ? `http://localhost:${mockPort}/auth` : TWITCH_OAUTH_BASE;
}

interface Callback {
  readonly uri: string;
  readonly listenHost: string;
  readonly port: number;
  readonly path: string;
}

function parseRedirectUri(uri: string): Callback {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TwitchAuthError(
      `the redirect URI ${uri} is not a URL (expected e.g. http://localhost:3000/callback)`,
    );
  }
  const hosts: Record<string, string> = { localhost: '127.0.0.1', '127.0.0.1': '127.0.0.1', '[::1]': '::1' };
  const listenHost = hosts[url.hostname];
  if (url.protocol !== 'http:' || listenHost === undefined) {
    throw new TwitchAuthError(
      `the redirect URI ${uri} must be http://localhost:<port>/<path>, so this command can receive the callback`,
    );
  }
  return { uri, listenHost, port: url.port === '' ? 80 : Number(url.port), path: url.pathname };
}

function withPort(uri: string, port: number): string {
  const url = new URL(uri);
  url.port = String(port);
  return url.toString();
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new TwitchAuthError(
          error.code === 'EADDRINUSE'
            ? `port ${port} of the redirect URI is in use: stop what listens there, or register another redirect URI and pass --redirect-uri`
            : `cannot listen on ${host}:${port} for the callback: ${explain(error)}`,
        ),
      ),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function page(res: ServerResponse, status: number, text: string): void {
  const escaped = text.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' })
    .end(
      `<!doctype html><meta charset="utf-8"><title>streamscout</title><p style="font:16px system-ui;margin:3em">${escaped}</p>\n`,
    );
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return Number.isInteger(m) ? `${m} minute${m === 1 ? '' : 's'}` : `${Math.round(ms / 1000)} s`;
}
