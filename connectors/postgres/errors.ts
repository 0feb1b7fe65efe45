/**
 * Which database errors are worth retrying, and how to say any of them in one line. A transient
 * error is one where the same statement may well succeed later unchanged: the server is
 * unreachable, restarting, out of connections, or chose this transaction as the loser of a
 * conflict. Everything else (bad data, a missing table, a syntax error) fails the same way every
 * time, so retrying it would only hide it.
 */

/** Node socket error codes of a server that is down, unreachable or too slow to answer. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs outside the classes below that are transient: the server is shutting down or starting
 * (57P01–57P03), a serialization failure or a deadlock (40001, 40P01: retrying the transaction is
 * the documented remedy).
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01']);

/** SQLSTATE classes that are transient as a whole: 08 connection exception, 53 insufficient resources. */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '53']);

/** Errors the `pg` driver and its pool raise without a code when a connection fails or times out. */
const TRANSIENT_DRIVER_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
];

/** True when retrying the same work later may succeed. */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Connecting to a name with several addresses fails with one error per address.
  if (error instanceof AggregateError && error.errors.some(isTransientError)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return true;
  }
  if (TRANSIENT_DRIVER_MESSAGES.some((m) => error.message.startsWith(m))) return true;
  return error.cause !== undefined && error.cause !== error && isTransientError(error.cause);
}

/** The SQLSTATE of a server error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * `error` in one line. Node reports a refused connection to a name with several addresses as an
 * AggregateError with an empty message; its parts are listed instead.
 */
export function errorText(error: unknown): string {
  let text: string;
  if (error instanceof AggregateError && error.message === '') {
    text = error.errors.map(errorText).join('; ');
  } else if (error instanceof Error) {
    text = error.message || ((error as { code?: unknown }).code as string | undefined) || error.name;
  } else {
    text = String(error);
  }
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
