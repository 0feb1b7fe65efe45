/**
 * The generator as an engine `Source<ChatLine>`. Partitions are channels (one per channel, named
 * by login) or, with `partitions: n`, channels dealt round-robin into n merged partitions
 * `synthetic-0…`. A partition's position is the number of records it has emitted; resuming
 * regenerates the partition from the seed and skips that many, which gives back exactly the same
 * records because the output is a pure function of the options.
 *
 * Pacing is on the injected clock: with `speed`, a record at `ts` is released once
 * `clock.now() >= anchor + (ts - startMs) / speed`; without it, records flow as fast as polled.
 */

import type { Clock } from '../../pipeline/time/clock.ts';
import type { Poll, Source, SourceContext, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import type { ChannelSimulator } from './channel-simulator.ts';
import { ChatStream } from './chat-stream.ts';
import { createSimulators } from './generate.ts';
import { type ResolvedOptions, resolveOptions, type SyntheticChatOptions } from './options.ts';

/**
 * Unpaced, one poll takes records of the partition that is furthest behind and at most this far
 * past its head, so partitions stay within about this much event time of each other. Larger
 * gives bigger batches but lets a busy partition's windows run ahead of the watermark (held by
 * the slowest partition) and pile up state; smaller gives tiny batches when channels are many.
 */
export const UNPACED_SLICE_MS = 10_000;

export interface SyntheticSourceOptions extends SyntheticChatOptions {
  /** Multiple of real time (1 = live speed, 60 = an hour a minute). Omit to emit as fast as polled. */
  readonly speed?: number;
  /**
   * `'channel'` (default): one partition per channel, named by its login. A number n: channels
   * dealt round-robin (channel i to partition i mod n) into partitions `synthetic-0`…`synthetic-<n-1>`.
   */
  readonly partitions?: 'channel' | number;
  /**
   * Paced only: the clock time at which `startMs` is due. Default: `clock.now()` at open; when
   * resuming from positions, shifted back so the earliest resumed record is due at once.
   */
  readonly anchorMs?: number;
}

/**
 * A `Source<ChatLine>` of synthetic chat: finite (partitions end with the run) or endless
 * (`hours: Infinity`), paced on the runtime's clock or as fast as possible.
 *
 * @example
 * const live = syntheticChatSource({ channels: 20, hours: Infinity, seed: 7, speed: 1 });
 * const bench = syntheticChatSource({ channels: 100, hours: 4, seed: 7, partitions: 4 });
 */
export function syntheticChatSource(options: SyntheticSourceOptions): Source<ChatLine> {
  const resolved = resolveOptions(options);
  const speed = options.speed;
  if (speed !== undefined && !(speed > 0 && Number.isFinite(speed))) {
    throw new RangeError(`speed must be a positive number, got ${speed}`);
  }
  const layout = options.partitions ?? 'channel';
  if (layout !== 'channel' && !(Number.isInteger(layout) && layout >= 1)) {
    throw new RangeError(`partitions must be 'channel' or a positive integer, got ${layout}`);
  }
  const partitionCount = layout === 'channel' ? resolved.channels : Math.min(layout, resolved.channels);
  return {
    describe: () => {
      const length = Number.isFinite(resolved.durationMs) ? `${resolved.durationMs / 3_600_000}h` : 'endless';
      const pace = speed === undefined ? 'as fast as possible' : `paced ×${speed}`;
      return `synthetic-chat ${resolved.channels} channels, ${length}, seed ${resolved.seed} (${partitionCount} partitions, ${pace})`;
    },
    open: (ctx) => new SyntheticChatReader(resolved, layout, speed, options.anchorMs, ctx),
  };
}

interface Partition {
  readonly name: string;
  readonly stream: ChatStream;
  emitted: number;
  endReported: boolean;
}

class SyntheticChatReader implements SourceReader<ChatLine> {
  private readonly parts: Partition[];
  private readonly clock: Clock;
  private readonly startMs: number;
  private readonly anchorMs: number;

  constructor(
    options: ResolvedOptions,
    layout: 'channel' | number,
    private readonly speed: number | undefined,
    anchorMs: number | undefined,
    ctx: SourceContext,
  ) {
    this.clock = ctx.clock;
    this.startMs = options.startMs;
    this.parts = partition(createSimulators(options), layout).map(({ name, simulators }) => ({
      name,
      stream: new ChatStream(simulators, options.startMs),
      emitted: 0,
      endReported: false,
    }));
    const known = new Set(this.parts.map((p) => p.name));
    for (const name of ctx.startPositions?.keys() ?? []) {
      if (!known.has(name))
        throw new RangeError(
          `synthetic-chat has no partition '${name}' (options changed since the checkpoint?)`,
        );
    }
    let resumed = false;
    for (const part of this.parts) {
      const position = ctx.startPositions?.get(part.name);
      if (position === undefined) continue;
      const skip = toCount(part.name, position);
      // Regenerating is the only way back to a position; at ≥ 1M records/s it is cheap enough.
      while (part.emitted < skip && part.stream.next() !== undefined) part.emitted++;
      if (skip > 0) resumed = true;
    }
    this.anchorMs = anchorMs ?? this.defaultAnchor(resumed);
  }

  partitions(): readonly string[] {
    return this.parts.map((p) => p.name);
  }

  poll(maxRecords: number): Poll<ChatLine> {
    let best: Partition | undefined;
    let bestTs = Number.POSITIVE_INFINITY;
    for (const part of this.parts) {
      if (part.endReported) continue;
      const head = part.stream.peek();
      if (head === undefined) {
        part.endReported = true;
        return { kind: 'partition-end', partition: part.name };
      }
      if (head.ts < bestTs) {
        best = part;
        bestTs = head.ts;
      }
    }
    if (best === undefined) return { kind: 'end' };

    const now = this.clock.now();
    if (this.speed !== undefined && now < this.dueAt(bestTs)) {
      return { kind: 'idle', ready: this.clock.sleep(Math.ceil(this.dueAt(bestTs) - now)) };
    }
    const sliceEnd = bestTs + UNPACED_SLICE_MS;
    const records: ChatLine[] = [];
    const max = Math.max(1, maxRecords);
    for (
      let head = best.stream.peek();
      head !== undefined && records.length < max;
      head = best.stream.peek()
    ) {
      if (this.speed === undefined ? head.ts > sliceEnd : now < this.dueAt(head.ts)) break;
      records.push(head);
      best.stream.next();
    }
    best.emitted += records.length;
    return { kind: 'records', partition: best.name, records, position: best.emitted };
  }

  close(): void {}

  private dueAt(ts: number): number {
    return this.anchorMs + (ts - this.startMs) / (this.speed as number);
  }

  private defaultAnchor(resumed: boolean): number {
    const now = this.clock.now();
    if (!resumed || this.speed === undefined) return now;
    let earliest = Number.POSITIVE_INFINITY;
    for (const part of this.parts)
      earliest = Math.min(earliest, part.stream.peek()?.ts ?? Number.POSITIVE_INFINITY);
    return Number.isFinite(earliest) ? now - (earliest - this.startMs) / this.speed : now;
  }
}

function partition(
  simulators: readonly ChannelSimulator[],
  layout: 'channel' | number,
): { name: string; simulators: ChannelSimulator[] }[] {
  if (layout === 'channel') return simulators.map((s) => ({ name: s.profile.login, simulators: [s] }));
  const count = Math.min(layout, simulators.length);
  const parts = Array.from({ length: count }, (_, i) => ({
    name: `synthetic-${i}`,
    simulators: [] as ChannelSimulator[],
  }));
  for (let i = 0; i < simulators.length; i++) parts[i % count]?.simulators.push(simulators[i]!);
  return parts;
}

function toCount(partitionName: string, position: SourcePosition): number {
  const n = typeof position === 'number' ? position : Number(position);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(
      `synthetic-chat position of '${partitionName}' must be a record count, got ${position}`,
    );
  }
  return n;
}
