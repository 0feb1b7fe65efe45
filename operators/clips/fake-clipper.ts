/**
 * A scripted clipper for tests: each call takes the next scripted outcome (an HTTP status, a
 * network failure, "not ready yet", or success) and is recorded with the clock's time, so a test
 * can assert the exact retry schedule on a manual clock.
 */

import type { Clock } from '../../pipeline/time/clock.ts';
import type { Clip } from '../../schemas/clip.ts';
import type { Spike } from '../highlights/detector.ts';
import { ClipError, type ClipHandle, type Clipper } from './clipper.ts';
import { localBroadcasterId } from './local-clipper.ts';

/** `ok` succeeds, a number answers with that HTTP status, `network` fails like a dropped connection, `not-ready` (fetch only) returns nothing yet. */
export type FakeOutcome = 'ok' | 'network' | 'not-ready' | number;

export interface FakeClipperCall {
  readonly kind: 'create' | 'fetch';
  readonly at: number;
  readonly broadcaster: string;
  readonly outcome: FakeOutcome;
}

export interface FakeClipper extends Clipper {
  readonly calls: FakeClipperCall[];
}

/**
 * @example
 * const clipper = fakeClipper(clock, { create: [503, 'ok'], fetch: ['not-ready', 'ok'] });
 */
export function fakeClipper(
  clock: Clock,
  script: { readonly create?: readonly FakeOutcome[]; readonly fetch?: readonly FakeOutcome[] } = {},
): FakeClipper {
  const create = [...(script.create ?? [])];
  const fetch = [...(script.fetch ?? [])];
  const calls: FakeClipperCall[] = [];
  const answer = (outcome: FakeOutcome) => {
    if (outcome === 'network') throw new TypeError('fetch failed: connect ECONNRESET');
    if (typeof outcome === 'number') throw new ClipError(`clip service answered ${outcome}`, outcome);
  };
  let serial = 0;
  return {
    calls,
    describe: () => 'fake clipper',
    async createClip(spike: Spike): Promise<ClipHandle> {
      const outcome = create.shift() ?? 'ok';
      calls.push({ kind: 'create', at: clock.now(), broadcaster: spike.broadcaster_login, outcome });
      answer(outcome);
      serial += 1;
      return {
        clipId: `FakeClip${serial}`,
        broadcasterId: spike.broadcaster_id ?? localBroadcasterId(spike.broadcaster_login),
        broadcasterLogin: spike.broadcaster_login,
        detectedAt: spike.detected_at,
      };
    },
    async fetchClip(handle: ClipHandle): Promise<Clip | undefined> {
      const outcome = fetch.shift() ?? 'ok';
      calls.push({ kind: 'fetch', at: clock.now(), broadcaster: handle.broadcasterLogin, outcome });
      if (outcome === 'not-ready') return undefined;
      answer(outcome);
      return {
        clip_id: handle.clipId,
        broadcaster_id: handle.broadcasterId,
        broadcaster_login: handle.broadcasterLogin,
        embed_url: `https://clips.twitch.tv/embed?clip=${handle.clipId}`,
        thumbnail_url: `https://clips-media-assets2.twitch.tv/${handle.clipId}-preview-480x272.jpg`,
        detected_at: handle.detectedAt,
      };
    },
  };
}
