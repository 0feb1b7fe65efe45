/**
 * The auth a Twitch job runs with: the token file loaded into @twurple's `RefreshingAuthProvider`
 * (the user token, intent `chat`) plus an `AppTokenAuthProvider` (client credentials, for
 * EventSub subscriptions). Start-up, in order:
 *
 * 1. read the token file (one-line error if missing or garbled);
 * 2. validate the access token; if Twitch calls it invalid, refresh once and validate the new one
 *    (a refresh that fails means the grant is gone: one-line error telling to seed again);
 * 3. check it is a user token of this client with every required scope (the missing ones named);
 * 4. hand it to the provider, which refreshes it when it expires; every refresh is written back
 *    to the file atomically, because Twitch rotates refresh tokens and the old one dies;
 * 5. validate again every hour on the injected clock, as Twitch requires. A token that is dead and
 *    cannot be refreshed ends the job through `fatal` / `onFatal`; a validate call that merely
 *    fails (network, 5xx) is logged and retried at the next hour.
 */
import {
  type AccessToken,
  AppTokenAuthProvider,
  CachedRefreshFailureError,
  getTokenInfo,
  InvalidTokenError,
  RefreshingAuthProvider,
  refreshUserToken,
  type TokenInfo,
} from '@twurple/auth';
import type { Cancel, Clock } from '../../../pipeline/time/clock.ts';
import { DEFAULT_TOKEN_FILE, REQUIRED_SCOPES, VALIDATE_EVERY_MS } from './defaults.ts';
import { explain, httpFailure, seedHint, TwitchAuthError } from './errors.ts';
import { clientSecretOf, readTokenFile, writeTokenFile } from './token-file.ts';

export interface TwitchAuthOptions {
  readonly clock: Clock;
  /** Default `data/twitch-tokens.json`. */
  readonly tokenFile?: string;
  /** Scopes the token must carry; default `chat:read`, `clips:edit`. */
  readonly requiredScopes?: readonly string[];
  /** Time between validations; default one hour (Twitch's requirement — do not raise it). */
  readonly validateEveryMs?: number;
  /** Where `TWITCH_CLIENT_SECRET` is read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Called once when the token is found dead for good; the job must stop. `fatal` rejects too. */
  readonly onFatal?: (error: TwitchAuthError) => void;
  /** Refreshes and retried validations, one line each. */
  readonly log?: (line: string) => void;
}

export interface TwitchAuth {
  /** The user token (intent `chat`): chat, Create Clip, and any Helix read. */
  readonly userProvider: RefreshingAuthProvider;
  /** App tokens from the client credentials, for EventSub webhook subscriptions. */
  readonly appProvider: AppTokenAuthProvider;
  readonly clientId: string;
  readonly userId: string;
  readonly login: string;
  /** Scopes of the token at the last validation. */
  readonly scopes: readonly string[];
  /** When the access token expires, as of the last validation (@twurple's wall-clock estimate). */
  readonly expiryDate: Date | null;
  /** Whether start-up had to refresh the token (it was expired or invalid). */
  readonly refreshedAtStart: boolean;
  /**
   * Rejects with a `TwitchAuthError` when a validation finds the token dead and unrefreshable or a
   * refreshed token cannot be saved; never resolves. Race it against the job.
   */
  readonly fatal: Promise<never>;
  /** Resolves when the validation in flight (if any) is done and every refreshed token is on disk. */
  flush(): Promise<void>;
  /** Stops the hourly validation and waits for pending writes. */
  close(): Promise<void>;
}

/**
 * Opens the auth of a Twitch job, failing fast with a one-line `TwitchAuthError`.
 *
 * @example
 * const auth = await openTwitchAuth({ clock: new SystemClock(), onFatal: (e) => job.stop(e) });
 * const api = new ApiClient({ authProvider: auth.userProvider });
 * // …
 * await auth.close();
 */
export async function openTwitchAuth(options: TwitchAuthOptions): Promise<TwitchAuth> {
  const path = options.tokenFile ?? DEFAULT_TOKEN_FILE;
  const clock = options.clock;
  const required = options.requiredScopes ?? REQUIRED_SCOPES;
  const everyMs = options.validateEveryMs ?? VALIDATE_EVERY_MS;
  const log = options.log ?? (() => {});

  let file = await readTokenFile(path);
  const { clientId } = file;
  const clientSecret = clientSecretOf(file, path, options.env);
  const reseed = () => seedHint(path, clientId);

  // Steps 2 and 3.
  const validateAtStart = async (accessToken: string) => {
    try {
      return await validate(accessToken, clientId);
    } catch (error) {
      throw new TwitchAuthError(`cannot reach Twitch to validate the token in ${path}: ${explain(error)}`);
    }
  };
  let info = await validateAtStart(file.token.accessToken);
  let refreshedAtStart = false;
  if (!info) {
    let fresh: AccessToken;
    try {
      fresh = await refreshUserToken(clientId, clientSecret, file.token.refreshToken);
    } catch (error) {
      throw refreshRefused(error, path, reseed);
    }
    file = { ...file, token: { ...fresh, refreshToken: fresh.refreshToken ?? file.token.refreshToken } };
    await writeTokenFile(path, file);
    refreshedAtStart = true;
    log(`Twitch token in ${path} was invalid; refreshed it`);
    info = await validateAtStart(file.token.accessToken);
    if (!info)
      throw new TwitchAuthError(
        `Twitch rejects even a freshly refreshed token from ${path}: ${reseed()} again`,
      );
  }
  checkToken(info, clientId, required, path, reseed);
  const userId = info.userId!;
  const login = info.userName ?? '';

  // Step 4.
  const userProvider = new RefreshingAuthProvider({ clientId, clientSecret });
  const appProvider = new AppTokenAuthProvider(clientId, clientSecret);
  let saving: Promise<void> = Promise.resolve();
  userProvider.onRefresh((_user, token) => {
    file = { ...file, token: { ...token, refreshToken: token.refreshToken ?? file.token.refreshToken } };
    const snapshot = file;
    log(`Twitch token refreshed; saving it to ${path}`);
    saving = saving.then(() =>
      writeTokenFile(path, snapshot).catch((error: unknown) =>
        die(
          error instanceof TwitchAuthError
            ? new TwitchAuthError(`${error.message} (the refreshed token would be lost on restart)`)
            : new TwitchAuthError(explain(error)),
        ),
      ),
    );
  });
  // Twitch's answer, not the file, says what the token may do (@twurple checks requests against it).
  userProvider.addUser(userId, { ...file.token, scope: [...info.scopes] }, ['chat']);

  // Step 5.
  let rejectFatal: (error: TwitchAuthError) => void = () => {};
  const fatal = new Promise<never>((_, reject) => {
    rejectFatal = reject;
  });
  fatal.catch(() => {}); // a job that only uses onFatal must not see an unhandled rejection
  let closed = false;
  let dead = false;
  let cancelTimer: Cancel = () => {};
  let checking: Promise<void> = Promise.resolve();
  let scopes: readonly string[] = info.scopes;
  let expiryDate = info.expiryDate;

  function die(error: TwitchAuthError): void {
    if (closed || dead) return;
    dead = true;
    cancelTimer();
    rejectFatal(error);
    options.onFatal?.(error);
  }

  async function check(): Promise<void> {
    try {
      const current = await userProvider.getAccessTokenForUser(userId);
      let latest = current ? await validate(current.accessToken, clientId) : null;
      if (!latest) {
        log('Twitch says the token is invalid; refreshing it');
        const fresh = await userProvider.refreshAccessTokenForUser(userId);
        latest = await validate(fresh.accessToken, clientId);
        if (!latest) throw new InvalidTokenError();
      }
      checkToken(latest, clientId, required, path, reseed);
      scopes = latest.scopes;
      expiryDate = latest.expiryDate;
    } catch (error) {
      if (error instanceof TwitchAuthError) return die(error);
      if (isDeadGrant(error)) {
        return die(
          new TwitchAuthError(
            `the Twitch token of ${login} was revoked or expired and cannot be refreshed (${explain(error)}): ${reseed()} again`,
          ),
        );
      }
      log(`could not validate the Twitch token (${explain(error)}); trying again at the next check`);
    }
  }

  function scheduleCheck(): void {
    cancelTimer = clock.schedule(clock.now() + everyMs, () => {
      if (closed || dead) return;
      checking = check().then(() => {
        if (!closed && !dead) scheduleCheck();
      });
    });
  }
  scheduleCheck();

  return {
    userProvider,
    appProvider,
    clientId,
    userId,
    login,
    get scopes() {
      return scopes;
    },
    get expiryDate() {
      return expiryDate;
    },
    refreshedAtStart,
    fatal,
    flush: async () => {
      // A check may refresh (queueing a write) and a write may fail into `die`: wait until both are quiet.
      for (;;) {
        const [c, w] = [checking, saving];
        await c;
        await w;
        if (c === checking && w === saving) return;
      }
    },
    close: async () => {
      closed = true;
      cancelTimer();
      await checking;
      await saving;
    },
  };
}

/** `getTokenInfo`, with `null` for a token Twitch calls invalid (401). Other failures throw. */
async function validate(accessToken: string, clientId: string): Promise<TokenInfo | null> {
  if (accessToken === '') return null;
  try {
    return await getTokenInfo(accessToken, clientId);
  } catch (error) {
    if (error instanceof InvalidTokenError) return null;
    throw error;
  }
}

/** Start-up and hourly checks: a user token, of our client, with every required scope. */
function checkToken(
  info: TokenInfo,
  clientId: string,
  required: readonly string[],
  path: string,
  reseed: () => string,
): void {
  if (!info.userId) {
    throw new TwitchAuthError(`the token in ${path} is an app token, not a user token: ${reseed()}`);
  }
  if (info.clientId !== clientId) {
    throw new TwitchAuthError(
      `the token in ${path} belongs to client ${info.clientId}, not ${clientId}: ${reseed()} again`,
    );
  }
  const has = new Set(info.scopes ?? []);
  const missing = required.filter((s) => !has.has(s));
  if (missing.length > 0) {
    throw new TwitchAuthError(
      `the Twitch token in ${path} lacks scope ${missing.join(', ')} (it has ${[...has].join(', ') || 'none'}): ${reseed()} again`,
    );
  }
}

/** A failure that says the grant itself is gone, as opposed to Twitch being unreachable. */
function isDeadGrant(error: unknown): boolean {
  if (error instanceof InvalidTokenError || error instanceof CachedRefreshFailureError) return true;
  const status = httpFailure(error)?.status;
  return status === 400 || status === 401 || status === 403;
}

function refreshRefused(error: unknown, path: string, reseed: () => string): TwitchAuthError {
  const failure = httpFailure(error);
  if (failure && failure.status >= 400 && failure.status < 500) {
    return new TwitchAuthError(
      `the Twitch token in ${path} is invalid and cannot be refreshed (${failure.message || `HTTP ${failure.status}`}): ${reseed()} again`,
    );
  }
  return new TwitchAuthError(`cannot reach Twitch to refresh the token in ${path}: ${explain(error)}`);
}
