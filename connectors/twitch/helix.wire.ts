/**
 * Helix payloads exactly as Twitch sends them (contracts/twitch.md §2–3), snake_case. Only
 * connectors/twitch/helix.ts reads these; everything past it sees our own records.
 */

/** §2.2: every Helix error. `message` may be empty; branch on the status, never on the text. */
export interface HelixErrorBodyWire {
  readonly error: string;
  readonly status: number;
  readonly message: string;
}

/** §2.4: `{}` on the last page. */
export interface HelixPaginationWire {
  readonly cursor?: string;
}

export interface HelixListWire<T> {
  readonly data: readonly T[];
  readonly pagination?: HelixPaginationWire;
}

/** §3.1 Get Streams. */
export interface HelixStreamWire {
  readonly id: string;
  readonly user_id: string;
  readonly user_login: string;
  readonly user_name: string;
  readonly game_id: string;
  readonly game_name: string;
  /** `live`, or `""` on error. */
  readonly type: string;
  readonly title: string;
  readonly tags: readonly string[] | null;
  readonly viewer_count: number;
  /** RFC 3339. */
  readonly started_at: string;
  readonly language: string;
  /** With `{width}x{height}` placeholders. */
  readonly thumbnail_url: string;
  /** Deprecated, always `[]`. */
  readonly tag_ids?: readonly string[];
  /** Deprecated, always false. */
  readonly is_mature?: boolean;
}

/** §3.2 Get Users. */
export interface HelixUserWire {
  readonly id: string;
  readonly login: string;
  readonly display_name: string;
  readonly type: '' | 'admin' | 'global_mod' | 'staff';
  readonly broadcaster_type: '' | 'affiliate' | 'partner';
  readonly description: string;
  readonly profile_image_url: string;
  readonly offline_image_url: string;
  /** Deprecated, meaningless. */
  readonly view_count: number;
  /** Only with `user:read:email`, only for the token's own user. */
  readonly email?: string;
  /** RFC 3339. */
  readonly created_at: string;
}

/** §3.5 Create Clip (202). */
export interface HelixCreatedClipWire {
  readonly id: string;
  /** Opaque; valid for up to 24 h or until the clip is published. */
  readonly edit_url: string;
}

/** §3.6 Get Clips. */
export interface HelixClipWire {
  readonly id: string;
  readonly url: string;
  readonly embed_url: string;
  readonly broadcaster_id: string;
  readonly broadcaster_name: string;
  readonly creator_id: string;
  readonly creator_name: string;
  /** `""` while there is no VOD. */
  readonly video_id: string;
  readonly game_id: string;
  readonly language: string;
  readonly title: string;
  readonly view_count: number;
  /** RFC 3339. */
  readonly created_at: string;
  readonly thumbnail_url: string;
  /** Seconds, precision 0.1. */
  readonly duration: number;
  /** Seconds into the VOD; null for some minutes after creation. */
  readonly vod_offset: number | null;
  readonly is_featured?: boolean;
}
