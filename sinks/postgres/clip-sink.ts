/**
 * Writes the highlights job's clips to Postgres (or PGlite). Each batch is one transaction: the
 * streamers' logins are upserted, then the clips are inserted a few hundred rows per statement with
 * `ON CONFLICT (clip_id) DO NOTHING`, so writing the same clips again (a replay after a crash, a
 * retry after a commit whose answer was lost) stores each clip once. Retries and backpressure are
 * table-sink.ts's.
 */

import type { Database, Queryable } from '../../connectors/postgres/database.ts';
import type { Clip } from '../../schemas/clip.ts';
import {
  type PostgresTableSink,
  type PostgresTableSinkOptions,
  placeholders,
  postgresTableSink,
  type TableSinkStats,
} from './table-sink.ts';

export {
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_ROWS_PER_STATEMENT,
} from './table-sink.ts';

export type PostgresClipSinkOptions = PostgresTableSinkOptions;
export type ClipSinkStats = TableSinkStats;
export type PostgresClipSink = PostgresTableSink<Clip>;

/**
 * A sink storing clips in the `streamers` and `clips` tables (run `scout migrate` first). Given a
 * `Database` the caller keeps owning it; given a factory, each opened writer opens its own and
 * closes it when the writer closes.
 *
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * const sink = postgresClipSink(db);
 * pipeline('store-clips').from(clipSource, { timestamp: (c) => c.detected_at }).to(sink);
 * const { rowsWritten, retries } = sink.stats();
 */
export function postgresClipSink(
  db: Database | (() => Promise<Database>),
  options: PostgresClipSinkOptions = {},
): PostgresClipSink {
  return postgresTableSink({ table: 'clips', rows: 'clips', writeBatch: writeClips }, db, options);
}

/** Upserts the streamers, then inserts the clips; returns how many clip rows were new. */
async function writeClips(
  tx: Queryable,
  clips: readonly Clip[],
  size: number,
): Promise<{ inserted: number }> {
  // One row per broadcaster (the last login in the batch wins): ON CONFLICT DO UPDATE refuses to
  // touch a row twice in one statement. Ascending ids make concurrent writers lock rows in the
  // same order, so they wait for each other instead of deadlocking.
  const logins = new Map<number, string>();
  for (const c of clips) logins.set(c.broadcaster_id, c.broadcaster_login);
  const streamers = [...logins].sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < streamers.length; i += size) {
    const rows = streamers.slice(i, i + size);
    await tx.query(
      `INSERT INTO streamers (broadcaster_id, streamer_login) VALUES ${placeholders(rows.length, 2)}
       ON CONFLICT (broadcaster_id) DO UPDATE SET streamer_login = EXCLUDED.streamer_login`,
      rows.flat(),
    );
  }
  let inserted = 0;
  for (let i = 0; i < clips.length; i += size) {
    const rows = clips.slice(i, i + size);
    const params: unknown[] = [];
    for (const c of rows)
      params.push(c.broadcaster_id, c.clip_id, c.embed_url, c.thumbnail_url, c.detected_at);
    const result = await tx.query(
      `INSERT INTO clips (broadcaster_id, clip_id, embed_url, thumbnail_url, detected_at)
       VALUES ${placeholders(rows.length, 5, (column, param) => (column === 4 ? detectedAt(param) : param))}
       ON CONFLICT (clip_id) DO NOTHING
       RETURNING id`,
      params,
    );
    inserted += result.length;
  }
  return { inserted };
}

/**
 * `detected_at` is epoch ms; the column is a TIMESTAMP holding UTC wall time. Converting in SQL
 * keeps the session's time zone out of it, and the bigint cast refuses a fractional or non-numeric
 * time instead of storing something near it.
 */
function detectedAt(param: string): string {
  return `to_timestamp(${param}::bigint / 1000.0) AT TIME ZONE 'UTC'`;
}
