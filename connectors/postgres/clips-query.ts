/**
 * The read side of the `clips` table: the clips detected in a time range, newest first, with the
 * streamer's login from `streamers`. The columns are `TIMESTAMP` without zone holding UTC wall
 * times, so epoch-ms bounds are turned into UTC wall times in SQL rather than trusting the
 * session's time zone.
 */
import type { Clip } from '../../schemas/clip.ts';
import type { Queryable } from './database.ts';

export interface ClipRange {
  /** Inclusive lower bound on `detected_at`, epoch ms. */
  readonly start: number;
  /** Exclusive upper bound on `detected_at`, epoch ms. */
  readonly end: number;
  /** Most rows to return (a positive integer). */
  readonly limit: number;
}

/** A stored clip with the time its row was written. */
export type StoredClip = Clip & { readonly created_at: number };

/**
 * Clips with `detected_at` in `[start, end)`, newest first (ties broken by the later insert). A
 * clip whose broadcaster is not in `streamers` gets its id as the login, so it still shows.
 *
 * @example
 * const week = 7 * 24 * 3600_000;
 * const clips = await listClips(db, { start: Date.now() - week, end: Date.now(), limit: 100 });
 */
export async function listClips(db: Queryable, range: ClipRange): Promise<StoredClip[]> {
  if (!Number.isInteger(range.limit) || range.limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${range.limit}`);
  }
  return db.query<StoredClip>(
    `SELECT c.clip_id,
            c.broadcaster_id,
            COALESCE(s.streamer_login, c.broadcaster_id::text) AS broadcaster_login,
            c.embed_url,
            c.thumbnail_url,
            c.detected_at,
            COALESCE(c.created_at, c.detected_at) AS created_at
       FROM clips c
       LEFT JOIN streamers s ON s.broadcaster_id = c.broadcaster_id
      WHERE c.detected_at >= to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC'
        AND c.detected_at < to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC'
      ORDER BY c.detected_at DESC, c.id DESC
      LIMIT $3`,
    [range.start, range.end, range.limit],
  );
}
