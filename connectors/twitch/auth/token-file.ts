/**
 * The token file: one JSON file, mode 0600, holding everything a job needs to act as the
 * authorized user — the app's client id and secret plus @twurple's `AccessToken` fields in
 * snake_case. It is rewritten atomically (temp file in the same folder, fsync, rename) every
 * time the refresh token rotates, so a crash never leaves half a file or loses the live token.
 *
 * `obtainment_timestamp` is wall-clock epoch ms, as @twurple writes and reads it to decide when
 * to refresh; our own timers never read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AccessToken } from '@twurple/auth';
import { explain, seedHint, TwitchAuthError } from './errors.ts';

/** The file's JSON (a file format of ours, snake_case like Twitch's token responses). */
interface TokenFileJson {
  client_id: string;
  /** May be left out when `TWITCH_CLIENT_SECRET` supplies it. */
  client_secret?: string;
  access_token: string;
  refresh_token: string;
  scope: string[];
  expires_in: number | null;
  obtainment_timestamp: number;
}

/** A user token that can be refreshed. */
export type RefreshableToken = AccessToken & { refreshToken: string };

export interface TokenFile {
  readonly clientId: string;
  /** As written in the file; `clientSecretOf` applies the `TWITCH_CLIENT_SECRET` override. */
  readonly clientSecret?: string;
  readonly token: RefreshableToken;
}

const REQUIRED_FIELDS = [
  'client_id',
  'access_token',
  'refresh_token',
  'scope',
  'expires_in',
  'obtainment_timestamp',
] as const;

/**
 * Reads and checks the token file. Throws a one-line `TwitchAuthError` naming the file and the
 * command to run when it is missing, unreadable, not JSON, or lacks a field.
 *
 * @example
 * const file = await readTokenFile('data/twitch-tokens.json');
 * const secret = clientSecretOf(file, 'data/twitch-tokens.json');
 */
export async function readTokenFile(path: string): Promise<TokenFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new TwitchAuthError(`Twitch token file ${path} not found: ${seedHint(path)}`);
    throw new TwitchAuthError(`cannot read the Twitch token file ${path}: ${explain(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TwitchAuthError(`the Twitch token file ${path} is not valid JSON: ${seedHint(path)} again`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TwitchAuthError(`the Twitch token file ${path} is not a JSON object: ${seedHint(path)} again`);
  }
  const raw = json as Record<string, unknown>;
  const clientId = typeof raw.client_id === 'string' ? raw.client_id : undefined;
  const missing = REQUIRED_FIELDS.filter((f) => raw[f] === undefined);
  if (missing.length > 0) {
    throw new TwitchAuthError(
      `the Twitch token file ${path} lacks ${missing.join(', ')}: ${seedHint(path, clientId)} again`,
    );
  }
  const bad = [
    !nonEmptyString(raw.client_id) && 'client_id',
    raw.client_secret !== undefined && !nonEmptyString(raw.client_secret) && 'client_secret',
    typeof raw.access_token !== 'string' && 'access_token',
    !nonEmptyString(raw.refresh_token) && 'refresh_token',
    !(Array.isArray(raw.scope) && raw.scope.every((s) => typeof s === 'string')) && 'scope',
    !(raw.expires_in === null || isCount(raw.expires_in)) && 'expires_in',
    !isCount(raw.obtainment_timestamp) && 'obtainment_timestamp',
  ].filter((f): f is string => f !== false);
  if (bad.length > 0) {
    throw new TwitchAuthError(
      `the Twitch token file ${path} has a bad ${bad.join(', ')}: ${seedHint(path, clientId)} again`,
    );
  }
  const f = raw as unknown as TokenFileJson;
  return {
    clientId: f.client_id,
    ...(f.client_secret !== undefined ? { clientSecret: f.client_secret } : {}),
    token: {
      accessToken: f.access_token,
      refreshToken: f.refresh_token,
      scope: [...f.scope],
      expiresIn: f.expires_in,
      obtainmentTimestamp: f.obtainment_timestamp,
    },
  };
}

/** The client secret to use: `TWITCH_CLIENT_SECRET` when set, else the file's. */
export function clientSecretOf(file: TokenFile, path: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env.TWITCH_CLIENT_SECRET || file.clientSecret;
  if (!secret) {
    throw new TwitchAuthError(
      `the Twitch token file ${path} has no client_secret and TWITCH_CLIENT_SECRET is not set: set it, or ${seedHint(path, file.clientId)} again`,
    );
  }
  return secret;
}

/**
 * Writes the token file atomically with mode 0600: a temp file in the same folder is written,
 * fsynced and renamed over the old one, so readers see the old file or the new one, never a
 * part. Creates the folder if needed. Throws a one-line `TwitchAuthError` (and leaves no temp
 * file) when that fails.
 */
export async function writeTokenFile(path: string, file: TokenFile): Promise<void> {
  const json: TokenFileJson = {
    client_id: file.clientId,
    ...(file.clientSecret !== undefined ? { client_secret: file.clientSecret } : {}),
    access_token: file.token.accessToken,
    refresh_token: file.token.refreshToken,
    scope: scopeArray(file.token.scope),
    expires_in: file.token.expiresIn,
    obtainment_timestamp: file.token.obtainmentTimestamp,
  };
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.chmod(0o600); // the umask can only narrow the mode; be sure it is exactly 0600
      await handle.writeFile(`${JSON.stringify(json, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new TwitchAuthError(`cannot write the Twitch token file ${path}: ${explain(error)}`);
  }
  await syncFolder(dir);
}

/** Makes the rename durable. Best effort: some platforms cannot open a folder for fsync. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // the file itself is already synced; only the rename's durability is at stake
  }
}

/** Twitch sends `scope` as an array, but one documented refresh example has a bare string: accept both. */
export function scopeArray(scope: unknown): string[] {
  if (Array.isArray(scope)) return scope.map(String);
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
