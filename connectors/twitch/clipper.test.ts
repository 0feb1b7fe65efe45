import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaticAuthProvider } from '@twurple/auth';
import { ClipError, isTransient } from '../../operators/clips/clipper.ts';
import type { Spike } from '../../operators/highlights/detector.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { TwitchWorld } from '../../test/fakes/twitch/world.ts';
import { twitchClipper } from './clipper.ts';
import { HelixClient } from './helix.ts';

const START = Date.parse('2025-03-14T19:40:00Z');
const DETECTED_AT = START - 10_000;

async function setup(scopes: readonly string[] = ['clips:edit']) {
  const clock = new ManualClock(START);
  const world = new TwitchWorld({ clock });
  const twitchApp = world.registerApp();
  const bot = world.addUser('scoutbot');
  const fox = world.addUser('PixelFox');
  world.goLive(fox.id);
  const token = world.issueUserToken(twitchApp.clientId, bot.id, scopes);
  const fake = await startFakeTwitch({ world });
  process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
  const helix = new HelixClient({
    authProvider: new StaticAuthProvider(twitchApp.clientId, token.accessToken),
    clock,
    clipUserId: bot.id,
  });
  const clipper = twitchClipper(helix);
  /** `id` null: a spike known only by its login (generated chat, the datasets). */
  const spike = (login = 'pixelfox', id: number | null = Number(fox.id)): Spike => ({
    broadcaster_login: login,
    ...(id === null ? {} : { broadcaster_id: id }),
    detected_at: DETECTED_AT,
    bucket_start: DETECTED_AT - 10_000,
    bucket_end: DETECTED_AT,
    count: 240,
    baseline_mean: 20,
    baseline_stddev: 5,
    z: 44,
    history: [18, 22, 20],
  });
  const signal = new AbortController().signal;
  return { clock, world, fake, fox, helix, clipper, spike, signal };
}

/** Runs `fn`, expecting a ClipError with `status`; returns it. */
async function clipError(fn: () => Promise<unknown>, status: number): Promise<ClipError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ClipError, `expected a ClipError, got ${String(e)}`);
    assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected a ClipError ${status}`);
}

describe('twitchClipper', () => {
  it('creates a clip (202) and fetches it once Twitch has processed it', async () => {
    const t = await setup();
    try {
      const handle = await t.clipper.createClip(t.spike(), t.signal);
      assert.ok(t.world.clips.has(handle.clipId));
      assert.deepEqual(
        { ...handle, clipId: undefined },
        {
          clipId: undefined,
          broadcasterId: Number(t.fox.id),
          broadcasterLogin: 'pixelfox',
          detectedAt: DETECTED_AT,
        },
      );
      assert.equal(await t.clipper.fetchClip(handle, t.signal), undefined, 'still processing');
      await t.clock.advance(5_000); // the fake's default processing delay
      assert.deepEqual(await t.clipper.fetchClip(handle, t.signal), {
        clip_id: handle.clipId,
        broadcaster_id: Number(t.fox.id),
        broadcaster_login: 'pixelfox',
        embed_url: `https://clips.twitch.tv/embed?clip=${handle.clipId}`,
        thumbnail_url: `https://clips-media-assets2.twitch.tv/${handle.clipId}-preview-480x272.jpg`,
        detected_at: DETECTED_AT,
      });
      assert.equal(t.fake.helix.calls('POST /clips'), 1);
      assert.equal(t.fake.helix.calls('GET /clips'), 2);
    } finally {
      await t.fake.close();
    }
  });

  it('looks the broadcaster up by login when the spike has no id', async () => {
    const t = await setup();
    try {
      const handle = await t.clipper.createClip(t.spike('PixelFox', null), t.signal);
      assert.equal(handle.broadcasterId, Number(t.fox.id));
      assert.equal(t.world.clips.get(handle.clipId)?.broadcasterId, t.fox.id);
      const unknown = await clipError(() => t.clipper.createClip(t.spike('nobody', null), t.signal), 404);
      assert.equal(isTransient(unknown), false);
    } finally {
      await t.fake.close();
    }
  });

  it('maps a channel with clipping disabled to a ClipError 403 that is not retried', async () => {
    const t = await setup();
    try {
      t.world.disableClipping(t.fox.id);
      const error = await clipError(() => t.clipper.createClip(t.spike(), t.signal), 403);
      assert.equal(isTransient(error), false);
      assert.match(error.message, /^Twitch Helix POST \/clips answered 403 Forbidden/);
    } finally {
      await t.fake.close();
    }
  });

  it('maps an offline channel to a ClipError 404', async () => {
    const t = await setup();
    try {
      t.world.goOffline(t.fox.id);
      const error = await clipError(() => t.clipper.createClip(t.spike(), t.signal), 404);
      assert.equal(isTransient(error), false);
      assert.match(error.message, /Clipping is not possible for an offline channel\./);
    } finally {
      await t.fake.close();
    }
  });

  it('leaves retrying a 503 or a 429 to the job: one request, a transient ClipError, nothing waiting', async () => {
    const t = await setup();
    try {
      t.fake.helix.failNext('POST /clips', 503);
      assert.equal(isTransient(await clipError(() => t.clipper.createClip(t.spike(), t.signal), 503)), true);
      t.fake.helix.failNext('POST /clips', 429, { resetInMs: 20_000 });
      assert.equal(isTransient(await clipError(() => t.clipper.createClip(t.spike(), t.signal), 429)), true);
      assert.equal(t.fake.helix.calls('POST /clips'), 2);
      assert.equal(t.clock.pending(), 0, 'no backoff or rate-limit wait was scheduled');
      assert.equal(t.world.clips.size, 0);

      const handle = await t.clipper.createClip(t.spike(), t.signal);
      t.fake.helix.failNext('GET /clips', 503);
      assert.equal(isTransient(await clipError(() => t.clipper.fetchClip(handle, t.signal), 503)), true);
      assert.equal(t.fake.helix.calls('GET /clips'), 1);
    } finally {
      await t.fake.close();
    }
  });

  it('maps a token without clips:edit to a ClipError 401 that is not retried', async () => {
    const t = await setup(['chat:read']);
    try {
      const error = await clipError(() => t.clipper.createClip(t.spike(), t.signal), 401);
      assert.equal(isTransient(error), false);
      assert.match(error.message, /Missing scope: clips:edit/);
    } finally {
      await t.fake.close();
    }
  });

  it('keeps answering "not ready" for a clip Twitch never publishes', async () => {
    const t = await setup();
    try {
      t.fake.helix.setClipDelay('never');
      const handle = await t.clipper.createClip(t.spike(), t.signal);
      await t.clock.advance(60_000);
      assert.equal(await t.clipper.fetchClip(handle, t.signal), undefined);
    } finally {
      await t.fake.close();
    }
  });
});
