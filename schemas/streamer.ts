/**
 * A change to what is known about a streamer (the `streamers` table): a poll saw the channel live,
 * or Create Clip was refused because the channel does not allow clipping.
 */
export interface StreamerUpdate {
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  /** When a poll saw the channel live, epoch ms; absent for an update that is not a sighting. */
  readonly seen_at?: number;
  /** False once Create Clip was refused with 403 (clipping disabled). */
  readonly allows_clipping?: boolean;
}
