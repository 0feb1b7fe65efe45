/**
 * A stored clip: what the highlights job writes to the `clips` topic and the Postgres `clips`
 * table, and what the read side serves. Times are epoch milliseconds (UTC).
 */
export interface Clip {
  /** Twitch's clip id, or `local-<broadcaster>-<detected_at>` for a clip of the local clipper. */
  readonly clip_id: string;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  /** Twitch: `https://clips.twitch.tv/embed?clip=…`; local: a `data:image/svg+xml` activity curve. */
  readonly embed_url: string;
  readonly thumbnail_url: string;
  /** When the spike was detected (event time of the bucket end). */
  readonly detected_at: number;
}

/** True for a clip made by the local clipper (no Twitch behind it). */
export function isLocalClip(clip: Pick<Clip, 'clip_id'>): boolean {
  return clip.clip_id.startsWith('local-');
}
