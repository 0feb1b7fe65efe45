/**
 * Several channels merged into one stream in non-decreasing `ts` order. Channels advance in lock
 * step, one second at a time: each second's records of every channel are collected and sorted
 * stably (equal timestamps keep channel order). A second's records all fall within its 1000 ms,
 * so a counting sort on the millisecond does it in linear time, cheaper than a heap per record,
 * with no look-ahead beyond the second. `generateChat` uses it for all channels, the Source for
 * each partition's channels.
 */
import type { ChatLine } from '../../schemas/chat-line.ts';
import type { ChannelSimulator } from './channel-simulator.ts';

const byTs = (a: ChatLine, b: ChatLine): number => a.ts - b.ts;

/**
 * Below this many records a comparison sort is cheaper than clearing and summing 1000 counters.
 * Only speed depends on it.
 */
const COUNTING_SORT_MIN = 64;

/**
 * A pull-based merged stream with one record of look-ahead.
 *
 * @example
 * const stream = new ChatStream(simulators);
 * for (let line = stream.next(); line !== undefined; line = stream.next()) consume(line);
 */
export class ChatStream {
  private buffer: ChatLine[] = [];
  /** The other half of the counting sort's double buffer. */
  private spare: ChatLine[] = [];
  private readonly counts = new Int32Array(1001);
  private position = 0;
  private ended = false;
  private secondStartMs: number;

  /** `startMs` is the run's start: seconds are counted from it. */
  constructor(
    private readonly simulators: readonly ChannelSimulator[],
    startMs: number,
  ) {
    this.secondStartMs = startMs;
  }

  /** The next record without consuming it; `undefined` at the end. */
  peek(): ChatLine | undefined {
    while (this.position >= this.buffer.length) {
      if (!this.refill()) return undefined;
    }
    return this.buffer[this.position];
  }

  /** Consumes and returns the next record; `undefined` at the end. */
  next(): ChatLine | undefined {
    const line = this.peek();
    if (line !== undefined) this.position++;
    return line;
  }

  /**
   * The records of the next second of every channel, sorted; an empty array for a silent second,
   * `undefined` at the end. The array is reused by the following call; the records are not.
   * Must not be mixed with `peek`/`next`.
   */
  nextSecond(): readonly ChatLine[] | undefined {
    return this.refill() ? this.buffer : undefined;
  }

  private refill(): boolean {
    if (this.ended) return false;
    const buffer = this.buffer;
    buffer.length = 0;
    this.spare.length = 0;
    this.position = 0;
    let more = false;
    for (const simulator of this.simulators) if (simulator.fillNextSecond(buffer)) more = true;
    if (!more) {
      this.ended = true;
      return false;
    }
    const t0 = this.secondStartMs;
    this.secondStartMs += 1000;
    if (this.simulators.length > 1 && !this.countingSort(t0)) buffer.sort(byTs);
    return true;
  }

  /** Sorts the buffer by ms within the second starting at `t0`; false if it could not (too few records). */
  private countingSort(t0: number): boolean {
    const input = this.buffer;
    const n = input.length;
    if (n < COUNTING_SORT_MIN) return false;
    const counts = this.counts;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const offset = (input[i] as ChatLine).ts - t0;
      // Cannot happen (simulators emit per second), but a silent misorder would be worse than slow.
      if (!(offset >= 0 && offset < 1000)) return false;
      counts[offset + 1] = (counts[offset + 1] as number) + 1;
    }
    for (let ms = 1; ms <= 1000; ms++) counts[ms] = (counts[ms] as number) + (counts[ms - 1] as number);
    const output = this.spare;
    output.length = n;
    for (let i = 0; i < n; i++) {
      const line = input[i] as ChatLine;
      const offset = line.ts - t0;
      const at = counts[offset] as number;
      output[at] = line;
      counts[offset] = at + 1;
    }
    this.spare = input;
    this.buffer = output;
    return true;
  }
}
