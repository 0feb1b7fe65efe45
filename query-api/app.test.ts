import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Database, openDatabase, type Queryable } from '../connectors/postgres/database.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { ManualClock } from '../pipeline/time/clock.ts';
import { insertClipRow } from '../test/services.ts';
import { type ClipListResponse, createApp } from './index.ts';
import { EMPTY_MESSAGE } from './page.ts';
import { STATIC_DIR } from './static-files.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const CURVE = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg"/>')}`;

function insertClip(db: Queryable, clipId: string, broadcasterId: number, detectedAt: number) {
  const local = clipId.startsWith('local-');
  return insertClipRow(db, {
    clip_id: clipId,
    broadcaster_id: broadcasterId,
    embed_url: local ? CURVE : `https://clips.twitch.tv/embed?clip=${clipId}`,
    thumbnail_url: local ? CURVE : `https://clips-media-assets2.twitch.tv/${clipId}-preview-480x272.jpg`,
    detected_at: detectedAt,
    created_at: detectedAt + 25_000,
  });
}

/** A database that is down: every query fails the way `pg` reports a refused connection. */
const downDb: Queryable = {
  query: () =>
    Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect')),
};

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

function ids(body: Record<string, unknown>): string[] {
  return (body as unknown as ClipListResponse).clips.map((c) => c.clip_id);
}

describe('query API', () => {
  let db: Database;
  let clock: ManualClock;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db);
    await db.query(
      `INSERT INTO streamers (broadcaster_id, streamer_login) VALUES (111, 'alpha'), (222, 'beta')`,
    );
    await insertClip(db, 'future', 111, NOW + MINUTE);
    await insertClip(db, 'fresh', 111, NOW - MINUTE);
    await insertClip(db, 'hour-old', 222, NOW - HOUR);
    await insertClip(db, 'unknown-streamer', 999, NOW - 2 * HOUR);
    await insertClip(db, 'local-111-1795', 111, NOW - 3 * HOUR);
    await insertClip(db, 'six-days', 111, NOW - 6 * DAY);
    await insertClip(db, 'eight-days', 111, NOW - 8 * DAY);
  });
  after(() => db.close());

  // Each test gets its own clock so advancing it in one cannot shift another's window.
  const fresh = () => {
    clock = new ManualClock(NOW);
    app = createApp({ db, clock });
  };

  describe('GET /v1.0/clip', () => {
    test('defaults to the 7 days before now, newest first, limit 100', async () => {
      fresh();
      const res = await app.request('/v1.0/clip');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await json(res);
      assert.equal(body.start, '2026-11-13T12:00:00.000Z');
      assert.equal(body.end, '2026-11-20T12:00:00.000Z');
      assert.equal(body.limit, 100);
      assert.deepEqual(ids(body), ['fresh', 'hour-old', 'unknown-streamer', 'local-111-1795', 'six-days']);
    });

    test('shows each clip with ISO times and the streamer login (the id when unknown)', async () => {
      fresh();
      const body = (await json(await app.request('/v1.0/clip'))) as unknown as ClipListResponse;
      assert.deepEqual(body.clips[0], {
        clip_id: 'fresh',
        broadcaster_id: 111,
        broadcaster_login: 'alpha',
        embed_url: 'https://clips.twitch.tv/embed?clip=fresh',
        thumbnail_url: 'https://clips-media-assets2.twitch.tv/fresh-preview-480x272.jpg',
        detected_at: '2026-11-20T11:59:00.000Z',
        created_at: '2026-11-20T11:59:25.000Z',
      });
      assert.equal(body.clips[2]?.broadcaster_login, '999');
    });

    test('the default window follows the injected clock', async () => {
      fresh();
      await clock.advance(2 * DAY);
      const body = await json(await app.request('/v1.0/clip'));
      assert.equal(body.end, '2026-11-22T12:00:00.000Z');
      assert.deepEqual(ids(body), ['future', 'fresh', 'hour-old', 'unknown-streamer', 'local-111-1795']);
    });

    test('takes start and end with zone offsets; start is inclusive, end exclusive', async () => {
      fresh();
      const q = `start=${encodeURIComponent('2026-11-20T13:00:00+02:00')}&end=2026-11-20T07:59:00-04:00`;
      const body = await json(await app.request(`/v1.0/clip?${q}`));
      assert.equal(body.start, '2026-11-20T11:00:00.000Z');
      assert.equal(body.end, '2026-11-20T11:59:00.000Z');
      assert.deepEqual(ids(body), ['hour-old']);
    });

    test('reads an unencoded + offset (which a query string turns into a space)', async () => {
      fresh();
      const body = await json(await app.request('/v1.0/clip?start=2026-11-20T13:00:00+02:00'));
      assert.equal(body.start, '2026-11-20T11:00:00.000Z');
      assert.deepEqual(ids(body), ['fresh', 'hour-old']);
    });

    test('with only end given, start is 7 days before it', async () => {
      fresh();
      const body = await json(await app.request('/v1.0/clip?end=2026-11-15T00:00:00Z'));
      assert.equal(body.start, '2026-11-08T00:00:00.000Z');
      assert.deepEqual(ids(body), ['six-days', 'eight-days']);
    });

    test('limit keeps the newest clips', async () => {
      fresh();
      const body = await json(await app.request('/v1.0/clip?limit=2'));
      assert.equal(body.limit, 2);
      assert.deepEqual(ids(body), ['fresh', 'hour-old']);
    });

    test('HEAD answers like GET without a body', async () => {
      fresh();
      const res = await app.request('/v1.0/clip', { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '');
    });

    const badRequests: [query: string, message: RegExp][] = [
      ['start=yesterday', /^start must be an ISO 8601 date-time with a zone, like .*; got "yesterday"$/],
      ['end=now', /^end must be an ISO 8601 date-time with a zone/],
      ['start=2026-11-20', /^start must be an ISO 8601 date-time with a zone/],
      ['start=2026-11-20T10:00:00', /^start must be an ISO 8601 date-time with a zone/],
      ['start=2026-02-30T10:00:00Z', /^start must be an ISO 8601 date-time with a zone/],
      ['start=2026-11-20T24:00:00Z', /^start must be an ISO 8601 date-time with a zone/],
      ['start=1795000000000', /^start must be an ISO 8601 date-time with a zone/],
      ['start=', /^start must be an ISO 8601 date-time with a zone.*; got ""$/],
      [
        'start=2026-11-20T12:00:00Z&end=2026-11-20T12:00:00Z',
        /^start \(2026-11-20T12:00:00.000Z\) must be before end \(2026-11-20T12:00:00.000Z\)$/,
      ],
      ['start=2026-11-21T00:00:00Z', /^start \(2026-11-21T00:00:00.000Z\) must be before end/],
      ['limit=0', /^limit must be a whole number from 1 to 1000; got "0"$/],
      ['limit=1001', /^limit must be a whole number from 1 to 1000; got "1001"$/],
      ['limit=-1', /^limit must be a whole number from 1 to 1000/],
      ['limit=1.5', /^limit must be a whole number from 1 to 1000/],
      ['limit=1e2', /^limit must be a whole number from 1 to 1000/],
      ['limit=ten', /^limit must be a whole number from 1 to 1000/],
      ['limit=', /^limit must be a whole number from 1 to 1000; got ""$/],
      ['limit=5&limit=6', /^"limit" is given more than once; give it once$/],
      ['limt=5', /^unknown query parameter "limt"; expected start, end and limit$/],
    ];
    for (const [query, message] of badRequests) {
      test(`400 for ?${query}`, async () => {
        fresh();
        const res = await app.request(`/v1.0/clip?${query}`);
        assert.equal(res.status, 400);
        const body = await json(res);
        assert.deepEqual(Object.keys(body), ['error']);
        assert.match(String(body.error), message);
      });
    }

    test('503 with one line when the database fails', async () => {
      const res = await createApp({ db: downDb, clock: new ManualClock(NOW) }).request('/v1.0/clip');
      assert.equal(res.status, 503);
      assert.deepEqual(await json(res), {
        error: 'database unavailable: connect ECONNREFUSED 127.0.0.1:5432 at TCPConnectWrap.afterConnect',
      });
    });
  });

  describe('GET /health', () => {
    test('200 when the database answers', async () => {
      fresh();
      const res = await app.request('/health');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await json(res), { status: 'ok', database: 'ok' });
    });

    test('503 degraded, with the error on one line, when it does not', async () => {
      const res = await createApp({ db: downDb, clock: new ManualClock(NOW) }).request('/health');
      assert.equal(res.status, 503);
      assert.deepEqual(await json(res), {
        status: 'degraded',
        database: 'connect ECONNREFUSED 127.0.0.1:5432 at TCPConnectWrap.afterConnect',
      });
    });
  });

  describe('methods and unknown paths', () => {
    for (const [method, path] of [
      ['POST', '/v1.0/clip'],
      ['PUT', '/'],
      ['DELETE', '/health'],
      ['PATCH', '/static/app.js'],
      ['OPTIONS', '/v1.0/clip'],
      ['POST', '/no/such/path'],
    ] as const) {
      test(`405 for ${method} ${path}`, async () => {
        fresh();
        const res = await app.request(path, { method });
        assert.equal(res.status, 405);
        assert.equal(res.headers.get('allow'), 'GET, HEAD');
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.match(
          String((await json(res)).error),
          new RegExp(`^method ${method} is not allowed; this API is read-only`),
        );
      });
    }

    for (const path of ['/nope', '/v1.0/clips', '/v1.0/clip/abc', '/static/', '/static/missing.js']) {
      test(`404 JSON for ${path}`, async () => {
        fresh();
        const res = await app.request(path);
        assert.equal(res.status, 404);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.match(String((await json(res)).error), /^no such resource: GET \/.*; try GET \/, \/health/);
      });
    }
  });

  describe('the page and its files', () => {
    test('GET / is the HTML shell with local assets only and a strict CSP', async () => {
      fresh();
      const res = await app.request('/');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/i);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*script-src 'self'/);
      const html = await res.text();
      assert.match(html, /<script src="\/static\/app\.js" defer><\/script>/);
      assert.match(html, /<link rel="stylesheet" href="\/static\/style\.css">/);
      assert.ok(html.includes(EMPTY_MESSAGE));
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no asset from another host');
    });

    for (const [name, type] of [
      ['app.js', /^text\/javascript; charset=utf-8$/],
      ['style.css', /^text\/css; charset=utf-8$/],
      ['favicon.svg', /^image\/svg\+xml$/],
    ] as const) {
      test(`/static/${name} is served as ${type.source}, cacheable`, async () => {
        fresh();
        const res = await app.request(`/static/${name}`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', type);
        assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(await res.text(), readFileSync(join(STATIC_DIR, name), 'utf8'));
      });
    }

    test('refuses to leave the static folder', async () => {
      // A servable file right next to the static folder: any traversal that worked would reach it.
      const root = mkdtempSync(join(tmpdir(), 'scout-static-'));
      mkdirSync(join(root, 'static'));
      writeFileSync(join(root, 'static', 'app.js'), 'inside');
      writeFileSync(join(root, 'secret.js'), 'outside');
      writeFileSync(join(root, 'static', '.hidden.js'), 'dot file');
      const jailed = createApp({ db, clock: new ManualClock(NOW), staticDir: join(root, 'static') });
      assert.equal(await (await jailed.request('/static/app.js')).text(), 'inside');
      for (const path of [
        '/static/../secret.js',
        '/static/..%2fsecret.js',
        '/static/%2e%2e%2fsecret.js',
        '/static/%2e%2e/secret.js',
        '/static/..%5csecret.js',
        '/static/.hidden.js',
        '/static/%2fetc%2fpasswd',
      ]) {
        const res = await jailed.request(path);
        assert.equal(res.status, 404, path);
        assert.doesNotMatch(await res.text(), /outside|dot file/, path);
      }
    });
  });
});
