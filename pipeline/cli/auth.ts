/**
 * `scout auth`: the Twitch token file jobs run with. `seed` authorizes the app once in a browser
 * and writes the file; `check` loads and validates it (refreshing it if needed) and says whose
 * token it is, with what scopes, until when. Failures are one `TwitchAuthError` line, exit 1.
 * The connector is loaded only when a command runs, so `scout --help` stays fast.
 */
import { Command } from 'commander';
import { DEFAULT_TOKEN_FILE, REQUIRED_SCOPES } from '../../connectors/twitch/auth/defaults.ts';
import { SystemClock } from '../time/clock.ts';
import { UsageError } from './errors.ts';
import { parseDuration } from './parse.ts';

const DEFAULT_SCOPES = REQUIRED_SCOPES.join(',');
const DEFAULT_REDIRECT_URI = 'http://localhost:3000/callback';

export interface AuthCheckOptions {
  readonly tokenFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Loads and validates the token file, then prints one line about it, e.g.
 * `pixelfox (user 52419331): chat:read clips:edit; token valid until 2025-03-14T23:00:00Z (data/twitch-tokens.json)`.
 *
 * @example
 * await authCheckCommand({ tokenFile: 'data/twitch-tokens.json' }, (s) => process.stdout.write(s));
 */
export async function authCheckCommand(options: AuthCheckOptions, out: (s: string) => void): Promise<void> {
  const { openTwitchAuth } = await import('../../connectors/twitch/auth/index.ts');
  const tokenFile = options.tokenFile ?? DEFAULT_TOKEN_FILE;
  const auth = await openTwitchAuth({
    tokenFile,
    clock: new SystemClock(),
    ...(options.env ? { env: options.env } : {}),
  });
  try {
    const until = auth.expiryDate
      ? `valid until ${auth.expiryDate.toISOString().replace(/\.\d{3}Z$/, 'Z')}`
      : 'valid';
    const refreshed = auth.refreshedAtStart ? ', refreshed and saved' : '';
    out(
      `${auth.login} (user ${auth.userId}): ${auth.scopes.join(' ')}; token ${until}${refreshed} (${tokenFile})\n`,
    );
  } finally {
    await auth.close();
  }
}

function parseScopes(value: string): string[] {
  const scopes = value.split(/[\s,]+/).filter((s) => s !== '');
  if (scopes.length === 0)
    throw new UsageError(`--scopes takes scopes like ${DEFAULT_SCOPES}, got "${value}"`);
  return scopes;
}

/** The `auth` command and its subcommands, for main.ts to add. */
export function authCommand(out: (s: string) => void): Command {
  const auth = new Command('auth').description('the Twitch token file the Twitch jobs run with');

  auth
    .command('seed')
    .description(
      'authorize the app on Twitch in a browser (once) and write the token file; jobs refresh it after that',
    )
    .requiredOption('--client-id <id>', 'client id of the app registered in the Twitch developer console')
    .option('--client-secret <secret>', 'client secret of the app (default: env TWITCH_CLIENT_SECRET)')
    .option(
      '--redirect-uri <uri>',
      'an OAuth redirect URL registered for the app, on this machine; this command listens there',
      DEFAULT_REDIRECT_URI,
    )
    .option('--scopes <list>', 'scopes to request, comma separated', DEFAULT_SCOPES)
    .option('--out <file>', 'token file to write (mode 0600)', DEFAULT_TOKEN_FILE)
    .option('--timeout <duration>', 'give up when no authorization arrives in this time', '10m')
    .addHelpText(
      'after',
      '\nPrints a URL to open; after you click Authorize, Twitch redirects to --redirect-uri and the file is written.\nTWURPLE_MOCK_API_PORT points every call, this one included, at a local mock of Twitch.',
    )
    .action(async (o) => {
      const clientSecret = o.clientSecret ?? process.env.TWITCH_CLIENT_SECRET;
      if (!clientSecret) throw new UsageError('--client-secret (or env TWITCH_CLIENT_SECRET) is required');
      const timeoutMs = parseDuration(String(o.timeout), '--timeout');
      const { seedTokens } = await import('../../connectors/twitch/auth/index.ts');
      await seedTokens({
        clientId: String(o.clientId),
        clientSecret,
        redirectUri: String(o.redirectUri),
        scopes: parseScopes(String(o.scopes)),
        out: String(o.out),
        timeoutMs,
        print: (line) => out(`${line}\n`),
      });
    });

  auth
    .command('check')
    .description('validate the token file with Twitch and print whose token it is, its scopes and expiry')
    .option('--token-file <file>', 'the token file', DEFAULT_TOKEN_FILE)
    .addHelpText('after', '\nEnv TWITCH_CLIENT_SECRET, when set, replaces the client secret of the file.')
    .action(async (o) => {
      await authCheckCommand({ tokenFile: String(o.tokenFile) }, out);
    });

  return auth;
}
