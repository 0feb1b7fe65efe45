/**
 * chat-activity: messages per channel in 5 s buckets, with the trailing 5-minute mean and standard
 * deviation of that channel's earlier buckets — the series the highlights detector judges and the
 * `chat-activity` topic carries for plots. `!commands` and known bots are left out.
 */

import { count } from '../../operators/window/aggregators.ts';
import { tumbling } from '../../operators/window/tumbling.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { pipeline } from '../builder.ts';
import { listState } from '../state/api.ts';
import { defineJob } from './job.ts';

export interface ChatActivity {
  readonly broadcaster_login: string;
  readonly bucket_start: number;
  readonly bucket_end: number;
  readonly count: number;
  /** Mean of the channel's buckets in the 5 minutes before this one (null until there is one). */
  readonly baseline_mean: number | null;
  readonly baseline_stddev: number | null;
}

/** Bucket length. The highlights rules fix it at 5 s; shorter buckets make counts noisier. */
export const BUCKET_MS = 5_000;
/** How much history the baseline holds: 5 minutes of buckets. */
export const BASELINE_MS = 300_000;
/** Chat may arrive this late (ms of event time) and still count in its bucket. */
export const OUT_OF_ORDERNESS_MS = 2_000;
/**
 * A partition silent this long (processing time) stops holding the watermark back. Longer delays
 * every bucket while some partition carries no channel; shorter risks counting the chat of a
 * partition that was briefly quiet as late.
 */
export const IDLE_PARTITION_MS = 5_000;

const BOTS = new Set(['nightbot', 'streamelements', 'moobot', 'streamlabs', 'fossabot', 'wizebot']);

export default defineJob({
  name: 'chat-activity',
  description: 'Chat messages per channel in 5 s buckets, with a trailing 5-minute baseline',
  input: 'chat-messages',
  output: 'chat-activity',
  build(ctx) {
    const p = pipeline('chat-activity');
    p.from(ctx.input<ChatLine>('chat-messages'), {
      timestamp: (m) => m.ts,
      outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
      idleTimeoutMs: IDLE_PARTITION_MS,
      id: 'chat',
    })
      .filter((m) => !m.text.startsWith('!') && !BOTS.has(m.user), 'drop-commands-and-bots')
      .keyBy((m) => m.broadcaster_login)
      .window(tumbling(BUCKET_MS))
      .aggregate(count<ChatLine>(), 'count-5s')
      .keyBy((w) => w.key)
      .process<ChatActivity, { history: ReturnType<typeof listState<[number, number]>> }>(
        {
          state: { history: listState<[number, number]>({ ttlMs: BASELINE_MS * 2, ttlTime: 'event' }) },
          onElement(w, ctx) {
            const kept = ctx.state.history.get().filter(([start]) => start >= w.start - BASELINE_MS);
            let mean: number | null = null;
            let stddev: number | null = null;
            if (kept.length > 0) {
              const n = kept.length;
              const m = kept.reduce((s, [, c]) => s + c, 0) / n;
              mean = round(m);
              stddev = round(Math.sqrt(kept.reduce((s, [, c]) => s + (c - m) ** 2, 0) / n));
            }
            ctx.emit({
              broadcaster_login: w.key,
              bucket_start: w.start,
              bucket_end: w.end,
              count: w.value,
              baseline_mean: mean,
              baseline_stddev: stddev,
            });
            kept.push([w.start, w.value]);
            ctx.state.history.update(kept);
          },
        },
        'baseline',
      )
      .to(ctx.output<ChatActivity>('chat-activity'), 'activity-out');
    return p;
  },
});

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
