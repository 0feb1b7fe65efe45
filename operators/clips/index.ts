/**
 * Clips: the `Clipper` interface the highlights job clips through, the clip stage with the
 * highlights rules' schedule (wait, create with retries, wait, fetch with backoff), the local
 * clipper of the embedded default and a scripted fake for tests.
 */
export { activitySvg, svgDataUrl } from './activity-svg.ts';
export {
  CLIP_CONCURRENCY,
  type ClipFailure,
  type ClippedSpikes,
  type ClipSpikesOptions,
  CREATE_DELAY_MS,
  CREATE_RETRY_MS,
  clipSpikes,
  FETCH_DELAY_MS,
  FETCH_RETRY_MS,
} from './clip-spikes.ts';
export { ClipError, type ClipHandle, ClipNotReadyError, type Clipper, isTransient } from './clipper.ts';
export { type FakeClipper, type FakeClipperCall, type FakeOutcome, fakeClipper } from './fake-clipper.ts';
export { localBroadcasterId, localClipId, localClipper } from './local-clipper.ts';
