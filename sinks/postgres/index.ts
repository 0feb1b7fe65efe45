/**
 * Sinks into Postgres (or PGlite): the highlights job's clips, stored idempotently in batches,
 * retrying while the database is unreachable so that an outage becomes backpressure instead of
 * lost clips.
 *
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * await migrate(db);
 * clips.to(postgresClipSink(db));
 */
export {
  type ClipSinkStats,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_ROWS_PER_STATEMENT,
  type PostgresClipSink,
  type PostgresClipSinkOptions,
  postgresClipSink,
} from './clip-sink.ts';
