/**
 * What the highlights job needs from whoever makes clips: create one for a spike, then look it up.
 * The Twitch clipper (Create Clip / Get Clips) comes with the Twitch connectors; the local clipper
 * serves the embedded default; tests use the fake. Errors say whether they are worth retrying.
 */
import type { Clip } from '../../schemas/clip.ts';
import type { Spike } from '../highlights/detector.ts';

/** A clip that was asked for and accepted; its metadata may not be readable yet. */
export interface ClipHandle {
  readonly clipId: string;
  readonly broadcasterId: number;
  readonly broadcasterLogin: string;
  readonly detectedAt: number;
  /** Clipper-specific data carried from create to fetch (the local clipper's rendered curve). */
  readonly payload?: string;
}

export interface Clipper {
  /** Short description for logs and `scout plan`. */
  describe(): string;
  /** Asks for a clip of the moment of `spike`. Rejects with a `ClipError` (or a network error). */
  createClip(spike: Spike, signal: AbortSignal): Promise<ClipHandle>;
  /**
   * The clip's metadata, or undefined while it is not available yet (Twitch takes a while to
   * process a clip; the caller keeps asking).
   */
  fetchClip(handle: ClipHandle, signal: AbortSignal): Promise<Clip | undefined>;
}

/** An HTTP answer from a clip service that was not a success. */
export class ClipError extends Error {
  override name = 'ClipError';
  constructor(
    message: string,
    /** The HTTP status. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** The clip was accepted but is not readable yet; worth asking again. */
export class ClipNotReadyError extends Error {
  override name = 'ClipNotReadyError';
}

/**
 * Whether an error is worth another attempt: rate limiting (429), server errors (5xx), timeouts
 * and network failures are; every other 4xx means the request itself is wrong (403: clipping
 * disabled, 404: channel offline) and repeating it cannot help.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ClipNotReadyError) return true;
  if (error instanceof ClipError) return error.status === 429 || error.status >= 500;
  // Anything else that reached us is a network failure or a timeout (fetch's TypeError, an abort).
  return true;
}
