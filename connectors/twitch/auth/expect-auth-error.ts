/** For the auth tests: a promise that must reject with a one-line `TwitchAuthError`. */
import assert from 'node:assert/strict';
import { TwitchAuthError } from './errors.ts';

export async function rejection(promise: Promise<unknown>): Promise<TwitchAuthError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TwitchAuthError, String(error));
  assert.doesNotMatch(error.message, /\n/, 'one line');
  return error;
}
