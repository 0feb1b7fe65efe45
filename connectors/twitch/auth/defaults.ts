/** Where the token file lives and what a token must allow, shared by the provider, the seed and the CLI. */

/** The token file a job and `scout auth` use unless told otherwise (relative to the working folder). */
export const DEFAULT_TOKEN_FILE = 'data/twitch-tokens.json';

/** What the jobs need: `chat:read` to read chat over IRC, `clips:edit` for Create Clip. */
export const REQUIRED_SCOPES: readonly string[] = ['chat:read', 'clips:edit'];

/** Twitch requires a `/validate` call at start-up and every hour after (contracts/twitch.md §1.4). */
export const VALIDATE_EVERY_MS = 60 * 60_000;
