/**
 * From a spike to a stored clip, on the schedule of the highlights rules:
 *
 * 1. wait 10 s after the detection, so the clip (Twitch clips the ~30 s before the call) centres
 *    the moment;
 * 2. create the clip, retrying at +2 s and +4 s after the first attempt on transient errors only
 *    (429, 5xx, network) — never on another 4xx;
 * 3. wait 15 s after a successful creation, then fetch the clip's metadata; Twitch may take longer
 *    to publish it, so keep asking at +5, +15, +35 and +60 s after the first fetch (the gaps double,
 *    the last check is at 60 s) before the attempt is recorded as failed;
 * 4. emit the clip, for the store.
 *
 * The waits run in processing time when live and in event time in a replay, so a replay clips the
 * same moments at any speed. Failures come out on their own stream with the stage that failed;
 * nothing fails the job.
 */
import type { Stream } from '../../pipeline/builder.ts';
import { type AsyncFailure, outputTag } from '../../pipeline/graph.ts';
import type { Clip } from '../../schemas/clip.ts';
import type { Detection } from '../../schemas/detection.ts';
import { type Spike, toDetection } from '../highlights/detector.ts';
import { type ClipHandle, ClipNotReadyError, type Clipper, isTransient } from './clipper.ts';

/** Wait before Create Clip: Twitch clips the seconds before the call, so this centres the spike. */
export const CREATE_DELAY_MS = 10_000;
/** Create Clip retries, measured from the first attempt (the highlights rules). */
export const CREATE_RETRY_MS: readonly number[] = [2_000, 4_000];
/** Wait after a successful Create Clip before the first metadata fetch (the highlights rules). */
export const FETCH_DELAY_MS = 15_000;
/**
 * Metadata re-checks, measured from the first fetch. Twitch usually publishes a clip within 15 s
 * but sometimes takes much longer; giving up sooner records clips as failed that did appear.
 */
export const FETCH_RETRY_MS: readonly number[] = [5_000, 15_000, 35_000, 60_000];
/**
 * Clips in flight at once. Twitch's clip endpoints are rate-limited per token, and detections are
 * rare (a few per channel-hour), so a small number never holds the job back.
 */
export const CLIP_CONCURRENCY = 8;

/** A spike whose clip could not be made. */
export interface ClipFailure {
  readonly detection: Detection;
  readonly stage: 'create' | 'fetch';
  readonly error: string;
  readonly attempts: number;
  /** The clip service's HTTP status on the last attempt, when it answered (403: clipping disabled). */
  readonly status?: number;
}

export interface ClipSpikesOptions {
  /** 'processing' when live, 'event' in a replay. */
  readonly time: 'processing' | 'event';
  readonly id?: string;
}

/** The clipped spikes, and the spikes that could not be clipped. */
export interface ClippedSpikes {
  readonly clips: Stream<Clip>;
  readonly failures: Stream<ClipFailure>;
}

/**
 * @example
 * const { clips, failures } = clipSpikes(spikes, localClipper(), { time: 'processing' });
 * clips.to(ctx.store<Clip>('clips'));
 */
export function clipSpikes(
  spikes: Stream<Spike>,
  clipper: Clipper,
  options: ClipSpikesOptions,
): ClippedSpikes {
  const id = options.id ?? 'clip';
  const createFailed = outputTag<AsyncFailure<Spike>>(`${id}-create-failed`);
  const fetchFailed = outputTag<AsyncFailure<ClipHandle & { readonly detection: Detection }>>(
    `${id}-fetch-failed`,
  );

  const created = spikes.delay(CREATE_DELAY_MS, { time: options.time, id: `${id}-wait-create` }).asyncMap(
    async (spike, call) => ({
      ...(await clipper.createClip(spike, call.signal)),
      detection: toDetection(spike),
    }),
    {
      id: `${id}-create`,
      concurrency: CLIP_CONCURRENCY,
      ordered: false,
      retry: { delaysMs: CREATE_RETRY_MS, retryOn: isTransient },
      onFailure: createFailed,
    },
  );
  const clips = created.delay(FETCH_DELAY_MS, { time: options.time, id: `${id}-wait-fetch` }).asyncMap(
    async (handle, call) => {
      const clip = await clipper.fetchClip(handle, call.signal);
      if (clip === undefined) throw new ClipNotReadyError(`clip ${handle.clipId} is not available yet`);
      return clip;
    },
    {
      id: `${id}-fetch`,
      concurrency: CLIP_CONCURRENCY,
      ordered: false,
      retry: { delaysMs: FETCH_RETRY_MS, retryOn: isTransient },
      onFailure: fetchFailed,
    },
  );

  const failures = created
    .sideOutput(createFailed)
    .map(
      (f): ClipFailure => ({
        detection: toDetection(f.value),
        stage: 'create',
        error: f.error,
        attempts: f.attempts,
        ...(f.status !== undefined ? { status: f.status } : {}),
      }),
      `${id}-create-failures`,
    )
    .union(
      [
        clips.sideOutput(fetchFailed).map(
          (f): ClipFailure => ({
            detection: f.value.detection,
            stage: 'fetch',
            error: f.error,
            attempts: f.attempts,
            ...(f.status !== undefined ? { status: f.status } : {}),
          }),
          `${id}-fetch-failures`,
        ),
      ],
      `${id}-failures`,
    );
  return { clips, failures };
}
