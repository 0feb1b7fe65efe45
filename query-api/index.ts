/**
 * The query API: a thin, read-only Hono app over the highlights tables — the clip grid page at
 * `/`, its files under `/static/`, the clips of a time range at `/v1.0/clip`, and `/health` —
 * plus `startServer` to put it on a port. Requests are tested in-process with `app.request()`;
 * the page is tested in a real browser.
 *
 * @example
 * const db = await openDatabase();
 * await migrate(db);
 * const server = await startServer(createApp({ db, clock: new SystemClock() }), { port: 8080 });
 */
export { type AppOptions, type ClipListResponse, type ClipResponseItem, createApp } from './app.ts';
export {
  type ClipParams,
  type ClipParamsResult,
  DEFAULT_LIMIT,
  DEFAULT_WINDOW_MS,
  MAX_LIMIT,
  parseClipParams,
  parseIsoDateTime,
} from './clip-params.ts';
export { type RunningServer, type ServerOptions, startServer } from './server.ts';
