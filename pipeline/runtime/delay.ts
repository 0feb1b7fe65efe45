/**
 * The delay step: holds each element back by a fixed time.
 *
 * - event time: released once the watermark reaches `timestamp + ms`, stamped with that time;
 *   deterministic, used by replays.
 * - processing time: released once the clock reaches arrival + ms, keeping its timestamp. The
 *   watermark sent on is held below the oldest element still waiting, so downstream event-time
 *   steps never see a held element as late.
 */
import type { Batch } from '../types.ts';
import { Operator, type OperatorServices } from './operator.ts';

interface Held {
  releaseAt: number;
  value: unknown;
  timestamp: number;
}

interface DelaySnapshot {
  held: Array<[number, unknown, number]>;
}

export class DelayOperator extends Operator {
  /** Sorted by release time; arrivals keep order among equal times. */
  private held: Held[] = [];
  private inputWatermark = Number.NEGATIVE_INFINITY;
  private emptied: Array<() => void> = [];

  constructor(
    id: string,
    private readonly ms: number,
    private readonly time: 'event' | 'processing',
    services: OperatorServices,
  ) {
    super(id, services);
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    this.metrics.recordsIn += records.length;
    const now = this.services.clock.now();
    for (let i = 0; i < records.length; i++) {
      const ts = timestamps[i]!;
      const releaseAt = this.time === 'event' ? ts + this.ms : now + this.ms;
      this.insert({ releaseAt, value: records[i], timestamp: ts });
      if (this.time === 'processing') this.services.scheduleProcessingTime(this, releaseAt);
    }
    if (this.time === 'event') this.release(this.watermark);
  }

  private insert(h: Held): void {
    const list = this.held;
    let i = list.length;
    while (i > 0 && list[i - 1]!.releaseAt > h.releaseAt) i--;
    list.splice(i, 0, h);
  }

  protected override onWatermark(watermark: number): void {
    this.inputWatermark = watermark;
    if (this.time === 'event') {
      this.release(watermark);
      this.emitWatermark(watermark);
    } else {
      this.forwardHeldBack();
    }
  }

  override onProcessingTime(now: number): void {
    if (this.time === 'processing') {
      this.release(now);
      this.forwardHeldBack();
    }
  }

  private forwardHeldBack(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const h of this.held) if (h.timestamp < oldest) oldest = h.timestamp;
    const wm = Math.min(this.inputWatermark, oldest - 1);
    if (wm > Number.NEGATIVE_INFINITY) this.emitWatermark(wm);
  }

  private release(upTo: number): void {
    let n = 0;
    while (n < this.held.length && this.held[n]!.releaseAt <= upTo) n++;
    if (n === 0) return;
    const out = this.held.splice(0, n);
    if (this.held.length === 0) for (const done of this.emptied.splice(0)) done();
    this.emit({
      records: out.map((h) => h.value),
      timestamps: out.map((h) => (this.time === 'event' ? h.releaseAt : h.timestamp)),
    });
  }

  /** At the end of input a processing-time delay still releases what it holds, on time. */
  override async finish(): Promise<void> {
    if (this.time === 'processing' && this.held.length > 0) {
      await new Promise<void>((resolve) => this.emptied.push(resolve));
    }
  }

  /** Elements waiting to be released. */
  heldCount(): number {
    return this.held.length;
  }

  override snapshot(): DelaySnapshot {
    return { held: this.held.map((h) => [h.releaseAt, h.value, h.timestamp]) };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as DelaySnapshot;
    this.held = s.held.map(([releaseAt, value, timestamp]) => ({ releaseAt, value, timestamp }));
    if (this.time === 'processing')
      for (const h of this.held) this.services.scheduleProcessingTime(this, h.releaseAt);
  }
}
