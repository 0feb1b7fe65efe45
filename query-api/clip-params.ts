/**
 * The query string of `GET /v1.0/clip`, checked as a pure decision: either the range to read or
 * one line telling the caller what is wrong and what is expected.
 */

/** The window the page shows and the API defaults to. */
export const DEFAULT_WINDOW_MS = 7 * 24 * 3600_000;
export const DEFAULT_LIMIT = 100;
/** Caps one response; the page never needs more, and a larger page would be a slow query. */
export const MAX_LIMIT = 1000;

export interface ClipParams {
  readonly start: number;
  readonly end: number;
  readonly limit: number;
}

export type ClipParamsResult =
  | { readonly ok: true; readonly value: ClipParams }
  | { readonly ok: false; readonly error: string };

const KNOWN = new Set(['start', 'end', 'limit']);

// Date and time are required, seconds and fraction optional, and the zone is required: a time
// without one would be read in the server's zone, which the caller cannot see. The zone may be
// ` hh:mm` because an unencoded `+` in a query string arrives as a space.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+\- ])(\d{2}):?(\d{2}))$/;

/**
 * Parses an ISO 8601 date-time with a zone (`2026-11-20T10:00:00Z`, `2026-11-20T12:00+02:00`) to
 * epoch ms; `undefined` for anything else, including impossible dates like February 30.
 */
export function parseIsoDateTime(text: string): number | undefined {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) =>
    s === undefined ? 0 : Number(s),
  ) as [number, number, number, number, number, number];
  const millis = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls day 31 of a 30-day month into the next month; a round trip catches it.
  if (day < 1 || new Date(local).getUTCDate() !== day) return undefined;
  if (m[8]) return local;
  const offsetHours = Number(m[10]);
  const offsetMinutes = Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = m[9] === '-' ? -1 : 1;
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/**
 * Checks the query of `GET /v1.0/clip`. Defaults: `end` = `now`, `start` = `end` − 7 days,
 * `limit` = 100.
 *
 * @example
 * const r = parseClipParams(new URLSearchParams('limit=5'), Date.now());
 * if (r.ok) console.log(r.value.limit); // 5
 */
export function parseClipParams(query: URLSearchParams, now: number): ClipParamsResult {
  const fail = (error: string): ClipParamsResult => ({ ok: false, error });
  for (const name of new Set(query.keys())) {
    if (!KNOWN.has(name)) {
      return fail(`unknown query parameter "${name}"; expected start, end and limit`);
    }
    if (query.getAll(name).length > 1) return fail(`"${name}" is given more than once; give it once`);
  }
  const time = (name: 'start' | 'end'): number | string | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    const parsed = parseIsoDateTime(raw.trim());
    if (parsed === undefined) {
      return `${name} must be an ISO 8601 date-time with a zone, like 2026-11-20T10:00:00Z or 2026-11-20T12:00:00+02:00; got ${JSON.stringify(raw)}`;
    }
    return parsed;
  };
  const end = time('end') ?? now;
  if (typeof end === 'string') return fail(end);
  const start = time('start') ?? end - DEFAULT_WINDOW_MS;
  if (typeof start === 'string') return fail(start);
  if (start >= end) {
    return fail(
      `start (${new Date(start).toISOString()}) must be before end (${new Date(end).toISOString()})`,
    );
  }
  let limit = DEFAULT_LIMIT;
  const rawLimit = query.get('limit');
  if (rawLimit !== null) {
    limit = /^\d{1,7}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      return fail(`limit must be a whole number from 1 to ${MAX_LIMIT}; got ${JSON.stringify(rawLimit)}`);
    }
  }
  return { ok: true, value: { start, end, limit } };
}
