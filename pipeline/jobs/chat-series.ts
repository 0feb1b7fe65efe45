/**
 * The series both chat jobs start from: chat → commands and bots dropped → 5 s zero-filled buckets
 * per channel → the trailing 5-minute baseline. `chat-activity` publishes it; `highlights` judges it.
 */
import { bucketCounts } from '../../operators/chat/bucket-counts.ts';
import { dropBots, parseBotList } from '../../operators/chat/drop-bots.ts';
import { dropCommands } from '../../operators/chat/drop-commands.ts';
import { type Activity, baseline } from '../../operators/highlights/baseline.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { type Pipeline, pipeline, type Stream } from '../builder.ts';
import type { JobContext } from './job.ts';

/** Chat may arrive this late (ms of event time) and still count in its bucket. */
export const OUT_OF_ORDERNESS_MS = 2_000;
/**
 * A partition silent this long (processing time) stops holding the watermark back. Longer delays
 * every bucket while some partition carries no channel; shorter risks counting the chat of a
 * partition that was briefly quiet as late.
 */
export const IDLE_PARTITION_MS = 5_000;

/** Builds the series on a new pipeline named `name`; job option `bots=a,b` replaces the bot list. */
export function chatActivitySeries(
  ctx: JobContext,
  name: string,
): { pipeline: Pipeline; activity: Stream<Activity> } {
  const p = pipeline(name);
  const chat = p.from(ctx.input<ChatLine>('chat-messages'), {
    timestamp: (m) => m.ts,
    outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
    idleTimeoutMs: IDLE_PARTITION_MS,
    id: 'chat',
  });
  const bots = ctx.options.bots === undefined ? undefined : parseBotList(ctx.options.bots);
  return { pipeline: p, activity: chatSeries(chat, bots) };
}

/** The series of an existing chat stream (`scout eval` and `scout plot` tap the chat first). */
export function chatSeries(chat: Stream<ChatLine>, bots?: readonly string[]): Stream<Activity> {
  return baseline(
    bucketCounts(dropBots(dropCommands(chat), bots).keyBy((m) => m.broadcaster_login, 'by-channel')),
  );
}
