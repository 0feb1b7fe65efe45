/**
 * The Twitch clipper: Create Clip for a spike, Get Clips for its metadata (contracts/twitch.md
 * §3.5–3.6). It makes exactly one request per call — the highlights job (operators/clips/
 * clip-spikes.ts) owns the schedule: when to create, when to retry, when to look — so every HTTP
 * failure comes back as a `ClipError` carrying the status, for `isTransient` to judge.
 */
import { ClipError, type ClipHandle, type Clipper } from '../../operators/clips/clipper.ts';
import type { Spike } from '../../operators/highlights/detector.ts';
import type { Clip } from '../../schemas/clip.ts';
import { type HelixClient, HelixError, type TwitchClip } from './helix.ts';

export interface TwitchClipperOptions {
  /** Create Clip's `has_delay`: `true` adds a short delay before the capture. Default: not sent. */
  readonly hasDelay?: boolean;
}

/**
 * A Helix failure as the job sees it: an answer becomes a `ClipError` with its status (a missing
 * token counts as 401, so nothing retries it); a network failure or timeout stays as it is, which
 * `isTransient` treats as worth another try; so is a body we could not read.
 */
function toClipError(error: unknown): unknown {
  if (!(error instanceof HelixError)) return error;
  if (error.status !== undefined && error.kind !== 'bad-response')
    return new ClipError(error.message, error.status);
  if (error.kind === 'auth') return new ClipError(error.message, 401);
  return error;
}

/**
 * @example
 * const clipper = twitchClipper(new HelixClient({ authProvider, clock, clipUserId: botUserId }));
 * const { clips } = clipSpikes(spikes, clipper, { time: 'processing' });
 */
export function twitchClipper(helix: HelixClient, options: TwitchClipperOptions = {}): Clipper {
  const once = { retry: false } as const;
  /** The broadcaster's id: from the spike, else looked up by login. */
  const broadcasterOf = async (spike: Spike, signal: AbortSignal): Promise<number> => {
    if (spike.broadcaster_id !== undefined) return spike.broadcaster_id;
    const [user] = await helix.users({ logins: [spike.broadcaster_login] }, { ...once, signal });
    if (!user) throw new ClipError(`no Twitch channel named "${spike.broadcaster_login}"`, 404);
    return user.id;
  };
  return {
    describe: () => `Twitch clipper (Create Clip / Get Clips at ${helix.baseUrl})`,
    async createClip(spike: Spike, signal: AbortSignal): Promise<ClipHandle> {
      try {
        const broadcasterId = await broadcasterOf(spike, signal);
        const created = await helix.createClip(broadcasterId, {
          ...once,
          signal,
          ...(options.hasDelay !== undefined ? { hasDelay: options.hasDelay } : {}),
        });
        return {
          clipId: created.id,
          broadcasterId,
          broadcasterLogin: spike.broadcaster_login,
          detectedAt: spike.detected_at,
        };
      } catch (e) {
        throw toClipError(e);
      }
    },
    async fetchClip(handle: ClipHandle, signal: AbortSignal): Promise<Clip | undefined> {
      let clip: TwitchClip | undefined;
      try {
        [clip] = await helix.clipsById([handle.clipId], { ...once, signal });
      } catch (e) {
        throw toClipError(e);
      }
      if (!clip) return undefined; // still processing (or Twitch gave up on it: the job decides when)
      return {
        clip_id: clip.id,
        broadcaster_id: handle.broadcasterId,
        broadcaster_login: handle.broadcasterLogin,
        embed_url: clip.embedUrl,
        thumbnail_url: clip.thumbnailUrl,
        detected_at: handle.detectedAt,
      };
    },
  };
}
