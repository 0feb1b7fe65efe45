/**
 * Messages per channel in fixed buckets (5 s for highlights), zero-filled: once a channel has
 * chatted, every bucket is reported — a bucket in which nothing arrived is closed by an event-time
 * timer and counts 0, because a quiet channel is data, not the absence of it. A window operator
 * would only report buckets that saw a message, which would leave the quiet stretches out of the
 * baseline and make every return of chat look like a spike.
 *
 * A channel silent for `quietStopMs` is taken to have ended its stream: its buckets stop and its
 * state is dropped, so channels that went offline cost nothing. Chat after that starts it afresh
 * (and the detector warms up again). At the end of a replay (watermark +∞) open buckets are closed
 * and no zeros are invented past the last message.
 */
import type { KeyedStream, Stream } from '../../pipeline/builder.ts';
import { valueState } from '../../pipeline/state/api.ts';

/** One closed bucket of one channel. */
export interface Bucket {
  readonly broadcaster_login: string;
  readonly broadcaster_id?: number;
  /** Inclusive, epoch ms. */
  readonly bucket_start: number;
  /** Exclusive, epoch ms. */
  readonly bucket_end: number;
  readonly count: number;
  /** Event time of the channel's first message since it (re)started: how long it has been observed. */
  readonly since: number;
}

export interface BucketOptions {
  /** Bucket length, ms. Default 5 000 (the highlights rules). */
  readonly bucketMs?: number;
  /** Silence after which a channel is treated as gone. Default `DEFAULT_QUIET_STOP_MS`. */
  readonly quietStopMs?: number;
  readonly id?: string;
}

/**
 * Ten minutes: twice the baseline. Shorter would cut the zero buckets of a slow chat (0.1 msg/s
 * channels have minute-long gaps) and restart its warm-up; longer keeps ended streams in state.
 */
export const DEFAULT_QUIET_STOP_MS = 600_000;

interface ChannelBuckets {
  /** First message since the channel (re)started. */
  since: number;
  /** Latest message time seen. */
  last: number;
  /** Start of the oldest bucket not yet closed. */
  next: number;
  /** Counts of buckets `next`, `next + bucketMs`, …, as far as messages have reached. */
  counts: number[];
  id: number | undefined;
}

/** A bucket as a literal of one shape per case (no spread, no temporary object per bucket). */
function bucketOf(
  login: string,
  id: number | undefined,
  start: number,
  end: number,
  count: number,
  since: number,
): Bucket {
  return id === undefined
    ? { broadcaster_login: login, bucket_start: start, bucket_end: end, count, since }
    : { broadcaster_login: login, broadcaster_id: id, bucket_start: start, bucket_end: end, count, since };
}

/**
 * Counts a keyed chat stream per bucket.
 *
 * @example
 * bucketCounts(chat.keyBy((m) => m.broadcaster_login)) // Stream<Bucket>, one per channel every 5 s
 */
export function bucketCounts<T extends { readonly ts: number; readonly broadcaster_id?: number }>(
  keyed: KeyedStream<string, T>,
  options: BucketOptions = {},
): Stream<Bucket> {
  const size = options.bucketMs ?? 5_000;
  const quietStop = options.quietStopMs ?? DEFAULT_QUIET_STOP_MS;
  if (!Number.isInteger(size) || size <= 0)
    throw new RangeError(`bucket length must be a positive integer, got ${size}`);
  if (!(quietStop >= size))
    throw new RangeError(`quiet stop must be at least one bucket, got ${quietStop} ms`);
  const startOf = (ts: number) => ts - (((ts % size) + size) % size);

  return keyed.process<Bucket, { channel: ReturnType<typeof valueState<ChannelBuckets>> }>(
    {
      state: { channel: valueState<ChannelBuckets>() },
      onElement(message, ctx) {
        const ts = ctx.timestamp;
        let channel = ctx.state.channel.value();
        if (channel === undefined) {
          channel = { since: ts, last: ts, next: startOf(ts), counts: [], id: message.broadcaster_id };
          // A bucket closes when the watermark passes its last millisecond.
          ctx.timers.registerEventTimer(channel.next + size - 1);
        }
        // `next` is a bucket start, a whole multiple of `size`: for a whole-millisecond time the
        // index rounds down from the plain difference, without the two float remainders (fmod) of
        // `startOf`, which were this step's largest cost per message.
        const index = Number.isInteger(ts)
          ? Math.floor((ts - channel.next) / size)
          : (startOf(ts) - channel.next) / size;
        // index < 0: later than the watermark allowed, its bucket is already reported. Dropped, as a
        // window drops late elements; the source's out-of-orderness bound is what to raise.
        if (index >= 0) {
          while (channel.counts.length <= index) channel.counts.push(0);
          channel.counts[index]! += 1;
          if (ts > channel.last) channel.last = ts;
          if (channel.id === undefined && message.broadcaster_id !== undefined)
            channel.id = message.broadcaster_id;
        }
        ctx.state.channel.update(channel);
      },
      onTimer(_timestamp, ctx) {
        const channel = ctx.state.channel.value();
        if (channel === undefined) return;
        const start = channel.next;
        ctx.emit(
          bucketOf(ctx.key, channel.id, start, start + size, channel.counts.shift() ?? 0, channel.since),
        );
        channel.next = start + size;
        const ended = ctx.watermark() === Number.POSITIVE_INFINITY && channel.counts.length === 0;
        const quiet = channel.counts.length === 0 && channel.next - channel.last >= quietStop;
        if (ended || quiet) {
          ctx.state.channel.clear();
          return;
        }
        ctx.state.channel.update(channel);
        ctx.timers.registerEventTimer(channel.next + size - 1);
      },
    },
    options.id ?? 'bucket-counts',
  );
}
