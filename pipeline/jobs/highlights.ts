/**
 * highlights: the job that replaces the original Flink job. Chat in; commands and bots out; 5 s
 * buckets per channel (zero-filled); the trailing 5-minute baseline; a detector (the original
 * rule by default, `detector=robust` for ours); the detections on the `highlights` topic; and for
 * each detection a clip, made on the rules' schedule, stored in the `clips` table and published on
 * the `clips` topic.
 *
 * Options (`--set key=value`): `detector=rule|robust`, `k=3`, `cooldown=30s`, `bots=a,b,c`.
 */
import { clipSpikes } from '../../operators/clips/clip-spikes.ts';
import { localClipper } from '../../operators/clips/local-clipper.ts';
import { type Detector, detect, toDetection } from '../../operators/highlights/detector.ts';
import { robustDetector } from '../../operators/highlights/robust.ts';
import { spikeRule } from '../../operators/highlights/spike-rule.ts';
import type { Clip } from '../../schemas/clip.ts';
import type { Detection } from '../../schemas/detection.ts';
import type { StreamerUpdate } from '../../schemas/streamer.ts';
import { GraphError } from '../builder.ts';
import { parseDuration } from '../cli/parse.ts';
import { chatActivitySeries } from './chat-series.ts';
import { defineJob } from './job.ts';

/** The detectors `detector=` names. */
export const DETECTORS = ['rule', 'robust'] as const;

/** Builds the detector the job options ask for. */
export function detectorFromOptions(options: Readonly<Record<string, string>>): Detector<unknown> {
  const name = options.detector ?? 'rule';
  const k = options.k === undefined ? undefined : Number(options.k);
  if (k !== undefined && !(Number.isFinite(k) && k > 0)) {
    throw new GraphError(`option k must be a number > 0, got "${options.k}"`);
  }
  const cooldownMs = options.cooldown === undefined ? undefined : parseDuration(options.cooldown, 'cooldown');
  const common = { ...(k !== undefined ? { k } : {}), ...(cooldownMs !== undefined ? { cooldownMs } : {}) };
  switch (name) {
    case 'rule':
      return spikeRule(common) as Detector<unknown>;
    case 'robust':
      return robustDetector(common) as Detector<unknown>;
    default:
      throw new GraphError(`unknown detector "${name}" (detectors: ${DETECTORS.join(', ')})`);
  }
}

export default defineJob({
  name: 'highlights',
  description: 'Chat spikes → clips: 5 s buckets, 5-minute baseline, mean + 3σ, 30 s cooldown',
  input: 'chat-messages',
  output: 'highlights',
  build(ctx) {
    const detector = detectorFromOptions(ctx.options);
    const { pipeline: p, activity } = chatActivitySeries(ctx, 'highlights');
    const spikes = detect(activity, detector);
    spikes.map(toDetection, 'detection').to(ctx.output<Detection>('highlights'), 'highlights-out');
    const { clips, failures } = clipSpikes(spikes, ctx.clipper ?? localClipper(), {
      time: ctx.mode === 'live' ? 'processing' : 'event',
    });
    clips.to(ctx.store<Clip>('clips'), 'store-clips');
    clips.to(ctx.output<Clip>('clips'), 'clips-out');
    failures.to(ctx.output('clip-failures'), 'clip-failures-out');
    // Create Clip refused with 403: the channel does not allow clipping. Marking it in `streamers`
    // makes the monitor drop it from the ranking and the chat joins.
    failures
      .flatMap(
        (f): StreamerUpdate[] =>
          f.stage === 'create' && f.status === 403 && f.detection.broadcaster_id !== undefined
            ? [
                {
                  broadcaster_id: f.detection.broadcaster_id,
                  broadcaster_login: f.detection.broadcaster_login,
                  allows_clipping: false,
                },
              ]
            : [],
        'clipping-disabled',
      )
      .to(ctx.store<StreamerUpdate>('streamers'), 'store-clipping-disabled');
    return p;
  },
});
