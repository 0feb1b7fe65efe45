/**
 * The recorded-chat line format shared by the datasets, the synthetic generator and replays:
 * one JSON object per line, sorted by `ts`.
 */
export interface ChatLine {
  /** Channel the message was sent in, lower case. */
  readonly broadcaster_login: string;
  /** Twitch's numeric id of the channel, when the record carried one (`chat-messages` records do). */
  readonly broadcaster_id?: number;
  /** Send time, epoch milliseconds. */
  readonly ts: number;
  /** Sender (a login, or an opaque stable id in the datasets). */
  readonly user: string;
  readonly text: string;
}

/** A ground-truth interval written beside a generated stream as `<stream>.labels.json`. */
export interface Label {
  readonly start_ms: number;
  /** Exclusive. */
  readonly end_ms: number;
  readonly note: string;
}
