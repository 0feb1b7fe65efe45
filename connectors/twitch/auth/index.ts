/**
 * Twitch authentication for streamscout's jobs (contracts/twitch.md §1). `seedTokens` runs the
 * authorization code flow once (behind `scout auth seed`) and writes one 0600 token file with the
 * app's credentials and the user's token; `openTwitchAuth` loads that file into @twurple's
 * refreshing user provider and an app-token provider, validates at start-up and every hour on the
 * injected clock, writes every rotated refresh token back atomically, and ends the job through
 * `fatal` when the token dies. Every failure a user can hit is a one-line `TwitchAuthError` that
 * says what to run.
 *
 * @example
 * const auth = await openTwitchAuth({ clock: new SystemClock(), tokenFile: 'data/twitch-tokens.json' });
 * const chat = new ChatClient({ authProvider: auth.userProvider, channels: ['pixelfox'] });
 * await Promise.race([runJob(chat), auth.fatal]);
 * await auth.close();
 */
export { DEFAULT_TOKEN_FILE, REQUIRED_SCOPES, VALIDATE_EVERY_MS } from './defaults.ts';
export { TwitchAuthError } from './errors.ts';
export { openTwitchAuth, type TwitchAuth, type TwitchAuthOptions } from './provider.ts';
export { type SeedOptions, type SeedResult, seedTokens } from './seed.ts';
export {
  clientSecretOf,
  type RefreshableToken,
  readTokenFile,
  type TokenFile,
  writeTokenFile,
} from './token-file.ts';
