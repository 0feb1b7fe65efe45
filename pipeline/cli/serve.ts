/**
 * `scout serve`: the query API and the clip page over the highlights tables. Opens the database
 * (a Postgres server when a URL is given, else the embedded PGlite folder), applies migrations so
 * the tables exist on a fresh machine, listens, and on SIGINT/SIGTERM stops listening and closes
 * the database.
 */

import type { Database } from '../../connectors/postgres/database.ts';
import { openMigratedDatabase } from '../../connectors/postgres/migrate.ts';
import { createApp } from '../../query-api/app.ts';
import { type RunningServer, startServer } from '../../query-api/server.ts';
import { type Clock, SystemClock } from '../time/clock.ts';

export interface ServeOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind (default `127.0.0.1`). */
  readonly hostname?: string;
  /** A `postgres://` URL; default `process.env.DATABASE_URL`; without either, PGlite is used. */
  readonly databaseUrl?: string;
  /** PGlite's folder when no URL is given (default `data/pglite`). */
  readonly dataDir?: string;
  /** Stops the server like SIGINT does (for tests and embedding). */
  readonly signal?: AbortSignal;
}

/**
 * Serves until SIGINT, SIGTERM or `signal`; resolves once the server and the database are closed.
 *
 * @example
 * await serveCommand({ port: 8080 }, (s) => process.stdout.write(s));
 */
export async function serveCommand(options: ServeOptions, out: (s: string) => void): Promise<void> {
  const { db, server } = await startClipServer({
    ...options,
    databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL,
    clock: new SystemClock(),
  });
  out(`serving ${server.url} (clips from ${db.describe()})\n`);

  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  await stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  options.signal?.removeEventListener('abort', stop);
  try {
    await server.close();
  } finally {
    await db.close();
  }
  out('stopped\n');
}

/**
 * Opens and migrates the database, then serves the query API and the clip page over it — what
 * `serve` and `demo` share. If the server cannot start, the database is closed again.
 */
export async function startClipServer(options: {
  readonly port: number;
  readonly hostname?: string | undefined;
  readonly databaseUrl?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly clock: Clock;
}): Promise<{ db: Database; server: RunningServer }> {
  const { db } = await openMigratedDatabase({ url: options.databaseUrl, dataDir: options.dataDir });
  try {
    const server = await startServer(createApp({ db, clock: options.clock }), {
      port: options.port,
      hostname: options.hostname,
    });
    return { db, server };
  } catch (error) {
    await db.close();
    throw error;
  }
}
