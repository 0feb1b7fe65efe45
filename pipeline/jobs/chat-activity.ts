/**
 * chat-activity: messages per channel in 5 s buckets (quiet buckets as zeros), with the trailing
 * 5-minute mean and standard deviation of that channel's earlier buckets — the series the
 * highlights detector judges, published on the `chat-activity` topic for plots.
 */
import type { Activity } from '../../operators/highlights/baseline.ts';
import { round } from '../../operators/highlights/detector.ts';
import { chatActivitySeries } from './chat-series.ts';
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

function toChatActivity(a: Activity): ChatActivity {
  return {
    broadcaster_login: a.broadcaster_login,
    bucket_start: a.bucket_start,
    bucket_end: a.bucket_end,
    count: a.count,
    baseline_mean: a.baseline_mean === null ? null : round(a.baseline_mean),
    baseline_stddev: a.baseline_stddev === null ? null : round(a.baseline_stddev),
  };
}

export default defineJob({
  name: 'chat-activity',
  description: 'Chat messages per channel in 5 s buckets, with a trailing 5-minute baseline',
  input: 'chat-messages',
  output: 'chat-activity',
  build(ctx) {
    const { pipeline: p, activity } = chatActivitySeries(ctx, 'chat-activity');
    activity.map(toChatActivity, 'to-record').to(ctx.output<ChatActivity>('chat-activity'), 'activity-out');
    return p;
  },
});
