// Generated from schemas/avro/*.avsc by scripts/gen-schema-types.ts; do not edit.
// Regenerate with `node scripts/gen-schema-types.ts` (a test fails while this file is stale).

// chat-activity.avsc
/** Messages of one channel in one 5 s bucket (quiet buckets as zeros), with the trailing 5-minute baseline. Keyed by broadcaster_id when known, else broadcaster_login. */
export interface ChatActivity {
  readonly broadcaster_login: string;
  readonly broadcaster_id?: null | number;
  /** Inclusive, epoch milliseconds. */
  readonly bucket_start: number;
  /** Exclusive, epoch milliseconds. */
  readonly bucket_end: number;
  readonly count: number;
  /** Mean of the earlier buckets in the baseline span; null until there is one. */
  readonly baseline_mean?: null | number;
  readonly baseline_stddev?: null | number;
}

// chat-messages.avsc
export interface ChatMessageMetadata {
  /** Emote id to the character ranges it covers, as 'start-end' (the IRC emotes tag). */
  readonly emotes: Readonly<Record<string, ReadonlyArray<string>>>;
  /** Badge name to version (the IRC badges tag). */
  readonly badges: Readonly<Record<string, string>>;
  readonly is_subscriber: boolean;
  readonly is_mod: boolean;
}

/** One chat message of a live channel. Keyed by broadcaster_id. Field names follow the highlights spec's contract. */
export interface ChatMessage {
  /** Twitch's numeric id of the channel. */
  readonly broadcaster_id: number;
  /** Send time, epoch milliseconds (UTC). */
  readonly timestamp: number;
  /** Twitch's message id (a UUID). */
  readonly message_id: string;
  readonly text: string;
  /** Twitch's numeric id of the sender. */
  readonly user_id: number;
  /** The sender's login. */
  readonly user_name: string;
  readonly metadata: ChatMessageMetadata;
  /** The channel's login, lower case, when the producer knew it. */
  readonly broadcaster_login?: null | string;
}

// clip-failures.avsc
export interface Highlight {
  readonly broadcaster_login: string;
  readonly broadcaster_id?: null | number;
  /** End of the judged bucket, epoch milliseconds. */
  readonly detected_at: number;
  readonly bucket_start: number;
  readonly bucket_end: number;
  /** Messages in the judged bucket. */
  readonly count: number;
  readonly baseline_mean: number;
  readonly baseline_stddev: number;
  /** How far above the baseline, in the detector's unit of spread. */
  readonly z: number;
}

export type ClipStage = 'create' | 'fetch';

/** A spike whose clip could not be made after the retries. Keyed by broadcaster_id when known. */
export interface ClipFailure {
  readonly detection: Highlight;
  readonly stage: ClipStage;
  readonly error: string;
  readonly attempts: number;
  /** The HTTP status of the last attempt, when the clip service answered (403: clipping disabled). */
  readonly status?: null | number;
}

// clips.avsc
/** A clip made of a chat spike. Keyed by broadcaster_id. */
export interface Clip {
  /** Twitch's clip id, or local-<broadcaster>-<detected_at> for the local clipper. */
  readonly clip_id: string;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  readonly embed_url: string;
  readonly thumbnail_url: string;
  /** Epoch milliseconds. */
  readonly detected_at: number;
}

// dead-letter.avsc
/** A record a job could not read, on <topic>.dlq: where it came from, why it failed, and its original bytes. */
export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The original record's timestamp, epoch milliseconds. */
  readonly timestamp: number;
  readonly key?: null | Buffer;
  readonly value?: null | Buffer;
  readonly error: string;
  readonly job: string;
  /** Epoch milliseconds. */
  readonly failed_at: number;
}

// discovered-streams.avsc
/** A stream link found in a chat message. Keyed by the broadcaster_id of the chat it was found in. */
export interface DiscoveredStream {
  /** The link, normalised. */
  readonly url: string;
  /** twitch, youtube, kick, … or 'other'. */
  readonly platform: string;
  /** The channel or video the link names, when the platform's URL carries one. */
  readonly channel?: null | string;
  /** The chat it was posted in. */
  readonly broadcaster_id: number;
  readonly message_id: string;
  /** Epoch milliseconds. */
  readonly discovered_at: number;
  /** Live status when known. */
  readonly is_live?: null | boolean;
}

// highlights.avsc
// notifications.avsc
export type NotificationEventType = 'StreamStarted' | 'StreamEnded' | 'DeliveryFailed' | 'Unknown';

/** A go-live message for one Discord webhook, and how its delivery went. Keyed by broadcaster_id. */
export interface Notification {
  readonly notification_id: string;
  readonly webhook_id: string;
  readonly event_type: NotificationEventType;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  readonly game_name?: null | string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly attempts: number;
  /** Discord's last HTTP status. */
  readonly status_code?: null | number;
  readonly error?: null | string;
}

// recordings.avsc
export type RecordingEventType = 'started' | 'segment' | 'finished' | 'upload_started' | 'uploaded' | 'failed' | 'unknown';

/** One step of recording a live stream and archiving it to object storage. Keyed by broadcaster_id. */
export interface RecordingEvent {
  readonly recording_id: string;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  readonly event_type: RecordingEventType;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** The local file, while it is on disk. */
  readonly path?: null | string;
  /** The object in the bucket, once uploaded. */
  readonly object_key?: null | string;
  readonly bytes?: null | number;
  readonly error?: null | string;
}

// stream-lifecycle.avsc
export type StreamLifecycleEventType = 'online' | 'offline' | 'rank';

/** A stream went online, went offline, or changed rank in the top list. Keyed by broadcaster_id. Field names follow the highlights spec's contract. */
export interface StreamLifecycle {
  readonly event_type: StreamLifecycleEventType;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  /** 1-based position in the top list; null for EventSub-sourced events. */
  readonly rank?: null | number;
  /** When it happened, epoch seconds (UTC), as in the original contract. */
  readonly timestamp: number;
  /** 'poll' (the top-streams poll) or 'eventsub'. */
  readonly source?: null | string;
}

// stream-snapshots.avsc
/** One live stream as one poll of the top list saw it. Keyed by broadcaster_id. */
export interface StreamSnapshot {
  readonly stream_id: string;
  readonly broadcaster_id: number;
  readonly broadcaster_login: string;
  readonly broadcaster_name: string;
  readonly game_id: string;
  readonly game_name: string;
  readonly title: string;
  readonly viewer_count: number;
  readonly language: string;
  /** Epoch milliseconds (UTC). */
  readonly started_at: number;
  /** When the poll ran, epoch milliseconds (UTC). */
  readonly collected_at: number;
  /** 1-based position in this poll's top list. */
  readonly rank: number;
  readonly thumbnail_url?: null | string;
}
