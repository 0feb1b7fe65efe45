/**
 * The read-only HTTP app: the clip grid page, its static files, the clip list and the health
 * check. Failures answer with one line of JSON (never a stack trace): 400 says what was wrong with
 * the request and what is expected, 503 means the database did not answer.
 */
import { type Context, Hono } from 'hono';
import { listClips, type StoredClip } from '../connectors/postgres/clips-query.ts';
import type { Queryable } from '../connectors/postgres/database.ts';
import type { Clock } from '../pipeline/time/clock.ts';
import { parseClipParams } from './clip-params.ts';
import { PAGE_CSP, PAGE_HTML } from './page.ts';
import { STATIC_DIR, serveStaticFile } from './static-files.ts';

export interface AppOptions {
  /** Where the clips are read from. */
  readonly db: Queryable;
  /** Gives "now" for the default window of `/v1.0/clip`. */
  readonly clock: Clock;
  /** Folder served under `/static/` (default: `api/static`). */
  readonly staticDir?: string;
}

/** A clip as the API shows it: times as ISO 8601 strings. */
export interface ClipResponseItem {
  readonly clip_id: string;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  readonly embed_url: string;
  readonly thumbnail_url: string;
  readonly detected_at: string;
  readonly created_at: string;
}

export interface ClipListResponse {
  readonly start: string;
  readonly end: string;
  readonly limit: number;
  readonly clips: readonly ClipResponseItem[];
}

const ROUTES = 'GET /, /health, /v1.0/clip, /static/*';

/** One line of an error's message, short enough for a JSON field or a log line. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function toResponseItem(clip: StoredClip): ClipResponseItem {
  return {
    clip_id: clip.clip_id,
    broadcaster_id: clip.broadcaster_id,
    broadcaster_login: clip.broadcaster_login,
    embed_url: clip.embed_url,
    thumbnail_url: clip.thumbnail_url,
    detected_at: new Date(clip.detected_at).toISOString(),
    created_at: new Date(clip.created_at).toISOString(),
  };
}

/**
 * Builds the app; it does no I/O until a request arrives.
 *
 * @example
 * const app = createApp({ db: await openDatabase({ dataDir: 'memory://' }), clock: new SystemClock() });
 * const res = await app.request('/v1.0/clip?limit=10');
 */
export function createApp(options: AppOptions): Hono {
  const { db, clock } = options;
  const staticDir = options.staticDir ?? STATIC_DIR;
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      c.header('Allow', 'GET, HEAD');
      c.res = c.json(
        { error: `method ${c.req.method} is not allowed; this API is read-only (GET, HEAD)` },
        405,
      );
    } else {
      await next();
    }
    c.header('X-Content-Type-Options', 'nosniff');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  app.get('/', (c) => {
    c.header('Content-Security-Policy', PAGE_CSP);
    // The shell is fixed but small; revalidating keeps a new deploy's page from being stale.
    c.header('Cache-Control', 'no-cache');
    return c.html(PAGE_HTML);
  });

  app.get(
    '/static/:name',
    async (c) => (await serveStaticFile(c, staticDir, c.req.param('name'))) ?? notFound(c),
  );

  app.get('/health', async (c) => {
    try {
      await db.query('SELECT 1');
      return c.json({ status: 'ok', database: 'ok' });
    } catch (error) {
      return c.json({ status: 'degraded', database: oneLine(error) }, 503);
    }
  });

  app.get('/v1.0/clip', async (c) => {
    const parsed = parseClipParams(new URL(c.req.url).searchParams, clock.now());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const { start, end, limit } = parsed.value;
    let clips: StoredClip[];
    try {
      clips = await listClips(db, { start, end, limit });
    } catch (error) {
      return c.json({ error: `database unavailable: ${oneLine(error)}` }, 503);
    }
    const body: ClipListResponse = {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      limit,
      clips: clips.map(toResponseItem),
    };
    return c.json(body);
  });

  app.notFound(notFound);
  app.onError((error, c) => c.json({ error: `internal error: ${oneLine(error)}` }, 500));
  return app;
}

function notFound(c: Context): Response {
  return c.json({ error: `no such resource: ${c.req.method} ${c.req.path}; try ${ROUTES}` }, 404);
}
