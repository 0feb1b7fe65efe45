/**
 * The table sinks a run binds (`ctx.store(table)`), opened lazily: a job that stores nothing never
 * opens the database, and one that does opens it (PGlite under `./data`, or `DATABASE_URL`) and
 * applies the migrations when its sink starts, not when the graph is built.
 */
import { type Database, DEFAULT_PGLITE_DIR } from '../../connectors/postgres/database.ts';
import { openMigratedDatabase } from '../../connectors/postgres/migrate.ts';
import type { Sink } from '../../pipeline/types.ts';
import { postgresClipSink } from './clip-sink.ts';

export interface DatabaseTarget {
  /** A `postgres://` URL; without it, PGlite in `dataDir`. */
  readonly url?: string;
  readonly dataDir?: string;
}

/** The tables streamscout jobs store into, each bound to a sink on `target`. */
export function databaseStores(target: DatabaseTarget): ReadonlyMap<string, Sink<unknown>> {
  const open = async (): Promise<Database> => (await openMigratedDatabase(target)).db;
  const where = target.url ? 'postgres (DATABASE_URL)' : `PGlite at ${target.dataDir ?? DEFAULT_PGLITE_DIR}`;
  return new Map<string, Sink<unknown>>([['clips', postgresClipSink(open, { where }) as Sink<unknown>]]);
}
