/**
 * The table sinks a run binds (`ctx.store(table)`), opened lazily: a job that stores nothing never
 * opens the database, and one that does opens it (PGlite under `./data`, or `DATABASE_URL`) and
 * applies the migrations when its sink starts, not when the graph is built.
 */
import { type Database, DEFAULT_PGLITE_DIR } from '../../connectors/postgres/database.ts';
import { openMigratedDatabase } from '../../connectors/postgres/migrate.ts';
import type { Sink } from '../../pipeline/types.ts';
import { postgresClipSink } from './clip-sink.ts';
import { postgresStreamersSink } from './streamers-sink.ts';

export interface DatabaseTarget {
  /** A `postgres://` URL; without it, PGlite in `dataDir`. */
  readonly url?: string;
  readonly dataDir?: string;
}

const whereOf = (target: DatabaseTarget) =>
  target.url ? 'postgres (DATABASE_URL)' : `PGlite at ${target.dataDir ?? DEFAULT_PGLITE_DIR}`;

/** The tables streamscout jobs store into, each bound to a sink on `target`. */
export function databaseStores(target: DatabaseTarget): ReadonlyMap<string, Sink<unknown>> {
  const open = async (): Promise<Database> => (await openMigratedDatabase(target)).db;
  return new Map<string, Sink<unknown>>([
    ['clips', postgresClipSink(open, { where: whereOf(target) }) as Sink<unknown>],
    ['streamers', postgresStreamersSink(open, { where: whereOf(target) }) as Sink<unknown>],
  ]);
}

/**
 * As `databaseStores`, for sinks opened many times in one process (the partition tasks of a Kafka
 * job): the database is opened once, on the first sink's open, and closed by `close()`.
 */
export function sharedDatabaseStores(target: DatabaseTarget): {
  stores: ReadonlyMap<string, Sink<unknown>>;
  close(): Promise<void>;
} {
  let opened: Promise<Database> | undefined;
  const open = (): Promise<Database> => {
    opened ??= openMigratedDatabase(target).then((m) => m.db);
    return opened;
  };
  const shared = { where: whereOf(target), closesDatabase: false };
  return {
    stores: new Map<string, Sink<unknown>>([
      ['clips', postgresClipSink(open, shared) as Sink<unknown>],
      ['streamers', postgresStreamersSink(open, shared) as Sink<unknown>],
    ]),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
