/**
 * The clipper of the embedded default, where there is no Twitch: its "clip" records the moment —
 * the broadcaster, the time, the counts, and an SVG of the chat-activity curve around the spike —
 * so the whole path (detection → clip → store → web page) runs with no servers. Its clip ids are
 * derived from the detection, so replaying the same spike twice stores one clip.
 */
import { createHash } from 'node:crypto';
import type { Clip } from '../../schemas/clip.ts';
import type { Spike } from '../highlights/detector.ts';
import { activitySvg, svgDataUrl } from './activity-svg.ts';
import type { ClipHandle, Clipper } from './clipper.ts';

/**
 * A stable positive id for a channel known only by its login (generated chat, the datasets):
 * 48 bits of its SHA-256, well inside BIGINT and JavaScript's safe integers.
 */
export function localBroadcasterId(login: string): number {
  return Number.parseInt(createHash('sha256').update(login).digest('hex').slice(0, 12), 16);
}

export function localClipId(login: string, detectedAt: number): string {
  return `local-${login}-${detectedAt}`;
}

export function localClipper(): Clipper {
  return {
    describe: () => 'local clipper (activity curves, no Twitch)',
    async createClip(spike: Spike): Promise<ClipHandle> {
      const time = new Date(spike.detected_at).toISOString().slice(11, 19);
      const svg = activitySvg({
        counts: [...spike.history, spike.count],
        title: `${spike.broadcaster_login} · ${time} UTC`,
      });
      return {
        clipId: localClipId(spike.broadcaster_login, spike.detected_at),
        broadcasterId: spike.broadcaster_id ?? localBroadcasterId(spike.broadcaster_login),
        broadcasterLogin: spike.broadcaster_login,
        detectedAt: spike.detected_at,
        payload: svgDataUrl(svg),
      };
    },
    async fetchClip(handle: ClipHandle): Promise<Clip> {
      const url = handle.payload ?? svgDataUrl(activitySvg({ counts: [], title: handle.broadcasterLogin }));
      return {
        clip_id: handle.clipId,
        broadcaster_id: handle.broadcasterId,
        broadcaster_login: handle.broadcasterLogin,
        embed_url: url,
        thumbnail_url: url,
        detected_at: handle.detectedAt,
      };
    },
  };
}
