/**
 * The source step: turns polled records into batches with event times and keeps the watermark of
 * every partition. The source's watermark is the minimum over its partitions that are neither
 * ended nor idle; a partition silent for `idleTimeoutMs` stops holding the others back. When every
 * live partition is idle the watermark stays where it is (nothing is known about their future).
 */
import type { WatermarkOptions } from '../graph.ts';
import type { Batch, Poll, SourcePosition, SourceReader } from '../types.ts';
import { Operator, type OperatorServices, StepError } from './operator.ts';

interface PartitionState {
  maxTimestamp: number;
  lastActive: number;
  ended: boolean;
  position?: SourcePosition;
}

export class SourceOperator extends Operator {
  readonly partitions = new Map<string, PartitionState>();
  private readonly outOfOrderness: number;
  private readonly idleTimeout: number | undefined;
  ended = false;
  /** Records whose timestamp could not be read (not a finite number); they are skipped. */
  badTimestamps = 0;

  constructor(
    id: string,
    readonly reader: SourceReader<unknown>,
    private readonly timestampOf: ((record: unknown) => number) | undefined,
    options: WatermarkOptions,
    services: OperatorServices,
  ) {
    super(id, services);
    this.outOfOrderness = options.outOfOrdernessMs ?? 0;
    this.idleTimeout = options.idleTimeoutMs;
    const now = services.clock.now();
    for (const p of reader.partitions()) this.partition(p, now);
  }

  push(): void {
    throw new Error('a source has no inputs');
  }

  private partition(id: string, now: number): PartitionState {
    let p = this.partitions.get(id);
    if (p === undefined) {
      p = { maxTimestamp: Number.NEGATIVE_INFINITY, lastActive: now, ended: false };
      this.partitions.set(id, p);
    }
    return p;
  }

  /** Handles one poll result. Returns true when it carried records. */
  handle(poll: Poll<unknown>): boolean {
    const now = this.services.clock.now();
    switch (poll.kind) {
      case 'records': {
        const p = this.partition(poll.partition, now);
        p.lastActive = now;
        p.position = poll.position;
        const batch = this.stamp(poll.records, now);
        const ts = batch.timestamps;
        let max = p.maxTimestamp;
        for (let i = 0; i < ts.length; i++) if (ts[i]! > max) max = ts[i]!;
        p.maxTimestamp = max;
        this.metrics.recordsIn += poll.records.length;
        this.emit(batch);
        this.advance();
        return true;
      }
      case 'partition-end': {
        this.partition(poll.partition, now).ended = true;
        this.advance();
        return false;
      }
      case 'end': {
        for (const p of this.partitions.values()) p.ended = true;
        this.ended = true;
        this.advance();
        return false;
      }
      case 'idle':
        this.advance();
        return false;
    }
  }

  private stamp(records: unknown[], now: number): Batch<unknown> {
    const n = records.length;
    const timestamps = new Array<number>(n);
    const fn = this.timestampOf;
    if (fn === undefined) {
      timestamps.fill(now);
      return { records, timestamps };
    }
    let bad = 0;
    try {
      for (let i = 0; i < n; i++) {
        const t = fn(records[i]);
        timestamps[i] = t;
        if (!Number.isFinite(t)) bad++;
      }
    } catch (error) {
      throw new StepError(this.id, error);
    }
    if (bad === 0) return { records, timestamps };
    this.badTimestamps += bad;
    const keptR: unknown[] = [];
    const keptT: number[] = [];
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(timestamps[i])) {
        keptR.push(records[i]);
        keptT.push(timestamps[i]!);
      }
    }
    return { records: keptR, timestamps: keptT };
  }

  /** Recomputes the watermark (also on a clock tick, for idle partitions) and sends it on if it moved. */
  advance(): void {
    const now = this.services.clock.now();
    let min = Number.POSITIVE_INFINITY;
    let live = 0;
    let active = 0;
    for (const p of this.partitions.values()) {
      if (p.ended) continue;
      live++;
      if (this.idleTimeout !== undefined && now - p.lastActive >= this.idleTimeout) continue;
      active++;
      const wm = p.maxTimestamp - this.outOfOrderness - 1;
      if (wm < min) min = wm;
    }
    if (live === 0 && (this.ended || this.partitions.size > 0)) {
      if (this.ended || [...this.partitions.values()].every((p) => p.ended)) {
        this.ended = true;
        this.raise(Number.POSITIVE_INFINITY);
      }
      return;
    }
    if (active > 0 && min > Number.NEGATIVE_INFINITY) this.raise(min);
  }

  /** Test harness: emits a batch as if polled, without moving the watermark. */
  inject(batch: Batch<unknown>): void {
    this.metrics.recordsIn += batch.records.length;
    this.emit(batch);
  }

  /** Test harness: sets the watermark directly. */
  forceWatermark(watermark: number): void {
    this.raise(watermark);
  }

  /** The next time a partition would turn idle, for the runtime to wake up then. */
  nextIdleDeadline(): number | undefined {
    if (this.idleTimeout === undefined) return undefined;
    let next: number | undefined;
    for (const p of this.partitions.values()) {
      if (p.ended) continue;
      const at = p.lastActive + this.idleTimeout;
      if (at > this.services.clock.now() && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  private raise(watermark: number): void {
    if (watermark > this.watermark) {
      this.watermark = watermark;
      this.emitWatermark(watermark);
    }
  }

  positions(): Map<string, SourcePosition> {
    const out = new Map<string, SourcePosition>();
    for (const [id, p] of this.partitions) if (p.position !== undefined) out.set(id, p.position);
    return out;
  }

  override snapshot(): unknown {
    const parts: Array<[string, number, boolean, SourcePosition | null]> = [];
    for (const [id, p] of this.partitions) parts.push([id, p.maxTimestamp, p.ended, p.position ?? null]);
    return { watermark: this.watermark, partitions: parts };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as {
      watermark: number | null;
      partitions: Array<[string, number | null, boolean, SourcePosition | null]>;
    };
    const now = this.services.clock.now();
    for (const [id, max, ended, position] of s.partitions) {
      const p = this.partition(id, now);
      p.maxTimestamp = max ?? Number.NEGATIVE_INFINITY;
      p.ended = ended;
      if (position !== null) p.position = position;
    }
    this.watermark = s.watermark ?? Number.NEGATIVE_INFINITY;
  }
}
