// The clip page in a real Chromium against the app on a real port. The browser's clock is
// paused at the same instant as the app's ManualClock, so relative times are exact and the 15 s
// refresh runs when the test fast-forwards it, without sleeping.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Database, openDatabase, type Queryable } from '../connectors/postgres/database.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { ManualClock } from '../pipeline/time/clock.ts';
import { insertClipRow } from '../test/services.ts';
import { createApp, type RunningServer, startServer } from './index.ts';
import { EMPTY_MESSAGE } from './page.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../out/', import.meta.url).pathname;
const NOW = Date.parse('2026-11-20T12:00:00Z');
const MINUTE = 60_000;

/** An activity curve like the local clipper's: a flat baseline with one spike. */
function curve(spikeAt: number): string {
  const points = Array.from({ length: 60 }, (_, i) => {
    const y =
      150 - 20 - 12 * Math.sin(i / 3) - (Math.abs(i - spikeAt) < 3 ? 90 - 30 * Math.abs(i - spikeAt) : 0);
    return `${i * 10},${y.toFixed(1)}`;
  }).join(' ');
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 590 160">' +
    '<rect width="590" height="160" fill="#101018"/>' +
    `<polyline points="${points}" fill="none" stroke="#a970ff" stroke-width="3"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

function insertClip(db: Queryable, clipId: string, broadcasterId: number, detectedAt: number) {
  const local = clipId.startsWith('local-');
  const image = curve(8 + ([...clipId].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 1000, 7) % 45));
  return insertClipRow(db, {
    clip_id: clipId,
    broadcaster_id: broadcasterId,
    embed_url: local ? image : `https://clips.twitch.tv/embed?clip=${clipId}`,
    thumbnail_url: local ? image : `https://clips-media-assets2.twitch.tv/${clipId}-preview-480x272.jpg`,
    detected_at: detectedAt,
  });
}

describe('clip page in a browser', {
  skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}`,
}, () => {
  let db: Database;
  let server: RunningServer;
  let emptyServer: RunningServer;
  let downServer: RunningServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db);
    await db.query(
      `INSERT INTO streamers (broadcaster_id, streamer_login) VALUES (111, 'alpha'), (222, 'beta'), (333, 'gamma_plays')`,
    );
    await insertClip(db, 'local-111-a', 111, NOW - MINUTE);
    await insertClip(db, 'TwitchClipOne', 222, NOW - 5 * MINUTE);
    await insertClip(db, 'local-111-b', 111, NOW - 120 * MINUTE);
    await insertClip(db, 'local-333-c', 333, NOW - 2 * 24 * 60 * MINUTE);
    server = await startServer(createApp({ db, clock: new ManualClock(NOW) }), { port: 0 });
    // Same data, but "now" is long before any clip: the page's empty state.
    emptyServer = await startServer(
      createApp({ db, clock: new ManualClock(Date.parse('2001-01-01T00:00:00Z')) }),
      {
        port: 0,
      },
    );
    const downDb: Queryable = {
      query: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
    };
    downServer = await startServer(createApp({ db: downDb, clock: new ManualClock(NOW) }), { port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: 1280, height: 800 },
    });
    // The machine has no outside network; anything not ours fails at once instead of timing out.
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await emptyServer?.close();
    await downServer?.close();
    await db?.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    // Paused at NOW: timers run only when a test fast-forwards, and relative times are exact.
    await page.clock.install({ time: NOW - 1000 });
    await page.clock.pauseAt(NOW);
    await page.goto(url);
    return page;
  }

  async function cardIds(page: Page): Promise<(string | null)[]> {
    const cards = page.locator('#clips > li');
    const ids: (string | null)[] = [];
    for (let i = 0; i < (await cards.count()); i++) ids.push(await cards.nth(i).getAttribute('data-clip-id'));
    return ids;
  }

  test('shows the cards newest first, with login and relative and absolute time', async () => {
    const page = await open(server.url);
    await page.locator('#clips > li').nth(3).waitFor();
    assert.deepEqual(await cardIds(page), ['local-111-a', 'TwitchClipOne', 'local-111-b', 'local-333-c']);
    const first = page.locator('#clips > li').first();
    assert.equal(await first.locator('.login').textContent(), 'alpha');
    assert.equal(await first.locator('time').textContent(), '1 minute ago');
    assert.equal(await first.locator('time').getAttribute('datetime'), '2026-11-20T11:59:00.000Z');
    assert.equal(await first.locator('.abs').textContent(), 'Nov 20, 2026, 11:59 AM');
    assert.equal(await page.locator('#clips > li').nth(3).locator('time').textContent(), '2 days ago');
    assert.equal(await page.locator('#status').textContent(), '4 clips · updated 12:00:00 PM');
    assert.equal(await page.locator('#empty').isVisible(), false);
    assert.equal(await page.locator('#announce').textContent(), '', 'the first load is not announced');
    // The Twitch thumbnail cannot load here; the card falls back to the login instead of a broken image.
    await page.locator('li[data-clip-id="TwitchClipOne"] .card-play.no-thumb').waitFor();
    assert.equal(await page.getByRole('img', { name: 'Chat activity curve of alpha' }).count(), 2);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: `${OUT}clip-page-desktop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${OUT}clip-page-mobile.png`, fullPage: true });
    await page.close();
  });

  test('a local clip plays as a large curve; a Twitch clip as an embed with parent and autoplay', async () => {
    const page = await open(server.url);
    await page
      .getByRole('button', { name: "Play alpha's activity curve from 1 minute ago (Nov 20, 2026, 11:59 AM)" })
      .click();
    const curve = page.locator('li[data-clip-id="local-111-a"].playing img.curve');
    await curve.waitFor();
    assert.match((await curve.getAttribute('src')) ?? '', /^data:image\/svg\+xml,/);
    assert.match((await curve.getAttribute('alt')) ?? '', /^Chat activity around alpha's spike at /);
    const box = await curve.boundingBox();
    assert.ok(box && box.width > 900, `the curve is shown large (width ${box?.width})`);
    await page.screenshot({ path: `${OUT}clip-page-playing.png` });
    assert.equal(
      await page
        .getByRole('button', { name: "Close alpha's clip" })
        .evaluate((b) => b === b.ownerDocument.activeElement),
      true,
    );

    await page.getByRole('button', { name: /^Play beta's clip from 5 minutes ago/ }).click();
    const frame = page.locator('li[data-clip-id="TwitchClipOne"].playing iframe');
    await frame.waitFor({ state: 'attached' });
    const src = new URL((await frame.getAttribute('src')) ?? '');
    assert.ok(src.href.startsWith('https://clips.twitch.tv/embed'), src.href);
    assert.equal(src.searchParams.get('clip'), 'TwitchClipOne');
    assert.equal(src.searchParams.get('parent'), '127.0.0.1');
    assert.equal(src.searchParams.get('autoplay'), 'true');
    assert.equal(await frame.getAttribute('title'), "beta's clip");
    // Only one clip plays at a time.
    assert.equal(await page.locator('li.playing').count(), 1);
    await page.close();
  });

  test('cards work from the keyboard: Enter plays, Escape closes and returns focus', async () => {
    const page = await open(server.url);
    const play = page.getByRole('button', { name: /^Play alpha's activity curve from 2 hours ago/ });
    await play.focus();
    await page.keyboard.press('Enter');
    await page.locator('li[data-clip-id="local-111-b"].playing img.curve').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('li[data-clip-id="local-111-b"]:not(.playing) .card-play').waitFor();
    assert.equal(await play.evaluate((b) => b === b.ownerDocument.activeElement), true);
    await page.close();
  });

  test('new clips appear on the next refresh without disturbing a playing clip', async () => {
    const page = await open(server.url);
    await page.getByRole('button', { name: /^Play beta's clip/ }).click();
    await page.locator('li[data-clip-id="TwitchClipOne"].playing iframe').waitFor({ state: 'attached' });
    await insertClip(db, 'local-222-new', 222, NOW - 10_000);
    try {
      await page.clock.runFor(15_000);
      await page.locator('#clips > li[data-clip-id="local-222-new"]').waitFor();
      assert.deepEqual(await cardIds(page), [
        'local-222-new',
        'local-111-a',
        'TwitchClipOne',
        'local-111-b',
        'local-333-c',
      ]);
      assert.equal(await page.locator('li[data-clip-id="TwitchClipOne"].playing iframe').count(), 1);
      assert.equal(await page.locator('#clips > li').first().locator('time').textContent(), '25 seconds ago');
      assert.equal(await page.locator('#announce').textContent(), '1 new clip');
    } finally {
      await db.query(`DELETE FROM clips WHERE clip_id = 'local-222-new'`);
    }
    await page.close();
  });

  test('says so when there are no clips in the past 7 days', async () => {
    const page = await open(emptyServer.url);
    const empty = page.locator('#empty');
    await empty.waitFor();
    assert.equal(await empty.textContent(), EMPTY_MESSAGE);
    assert.equal(await page.locator('#clips > li').count(), 0);
    assert.equal(await page.locator('#status').textContent(), '0 clips · updated 12:00:00 PM');
    await page.close();
  });

  test('says the database is down instead of showing a blank page', async () => {
    const page = await open(downServer.url);
    await page.locator('#status.error').waitFor();
    assert.equal(
      await page.locator('#status').textContent(),
      'Could not load clips (database unavailable: connect ECONNREFUSED 127.0.0.1:5432); trying again in 15 s',
    );
    assert.equal(await page.locator('#announce').textContent(), 'Could not load clips');
    await page.close();
  });
});
