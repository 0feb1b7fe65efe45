/** The one error the Twitch auth module throws at users: one line saying what is wrong and what to run. */
import { DEFAULT_TOKEN_FILE } from './defaults.ts';

export class TwitchAuthError extends Error {
  override name = 'TwitchAuthError';
}

/** "run `scout auth seed …`", with `--out` when the file is not the default one. */
export function seedHint(tokenFile: string, clientId?: string): string {
  const out = tokenFile === DEFAULT_TOKEN_FILE ? '' : ` --out ${tokenFile}`;
  return `run \`scout auth seed --client-id ${clientId ?? '<id>'} --client-secret <secret>${out}\``;
}

/**
 * The status and Twitch's `message` of a failed call, if `error` is @twurple's HttpStatusCodeError
 * (recognised by shape: the class is not exported by the packages we depend on).
 */
export function httpFailure(error: unknown): { status: number; message: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { statusCode, body } = error as Error & { statusCode?: unknown; body?: unknown };
  if (typeof statusCode !== 'number') return undefined;
  let message = typeof body === 'string' ? body.trim() : '';
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  return { status: statusCode, message: message.replace(/\s+/g, ' ').slice(0, 200) };
}

/** One line for an error that is not ours (network, parse): its message without line breaks. */
export function explain(error: unknown): string {
  const failure = httpFailure(error);
  if (failure) return `HTTP ${failure.status}${failure.message ? ` ${failure.message}` : ''}`;
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${message}${cause}`.replace(/\s*\n\s*/g, ' ').trim();
}
