/**
 * The physical operator: what the runtime calls for each batch, watermark and processing-time
 * tick. Operators push their output synchronously into their consumers, so a chain of steps
 * handles a batch in one call stack with no promise per record.
 */

import type { StateBackend } from '../state/backend.ts';
import type { Clock } from '../time/clock.ts';
import type { Batch } from '../types.ts';

/** A consumer of an operator output: the operator and which of its inputs the edge feeds. */
export interface Downstream {
  readonly op: Operator;
  readonly input: number;
}

/** What every operator may use from the runtime. */
export interface OperatorServices {
  readonly clock: Clock;
  readonly state: StateBackend;
  /** Arms a processing-time callback for `op` at `at` (one clock timer per operator and time). */
  scheduleProcessingTime(op: Operator, at: number): void;
  /** Reports an error raised outside the runtime's own call stack (an async completion, a timer). */
  fail(error: unknown): void;
  /** Wakes the runtime loop (an operator that was saturated has room again). */
  wake(): void;
}

/** Records in and out, per step. */
export interface StepMetrics {
  recordsIn: number;
  recordsOut: number;
}

export class StepError extends Error {
  override name = 'StepError';
  constructor(
    readonly stepId: string,
    cause: unknown,
  ) {
    super(`step "${stepId}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export abstract class Operator {
  /** Consumers by output name ('' = main output). */
  readonly outputs = new Map<string, Downstream[]>();
  readonly metrics: StepMetrics = { recordsIn: 0, recordsOut: 0 };
  private inputWatermarks: number[] = [];
  /** Watermark this operator has reached (minimum over its inputs). */
  protected watermark = Number.NEGATIVE_INFINITY;
  /** Watermark last sent downstream. */
  private emittedWatermark = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: string,
    protected readonly services: OperatorServices,
  ) {}

  /** @internal Called by the planner. */
  connect(output: string, downstream: Downstream): void {
    const list = this.outputs.get(output) ?? [];
    list.push(downstream);
    this.outputs.set(output, list);
  }

  /** @internal Called by the planner: how many inputs feed this operator. */
  setInputCount(n: number): void {
    this.inputWatermarks = new Array<number>(n).fill(Number.NEGATIVE_INFINITY);
  }

  /** Handles a batch arriving on input `input`. */
  abstract push(batch: Batch<unknown>, input: number): void;

  /** A watermark arrives on one input; the operator acts on the minimum over all inputs. */
  receiveWatermark(watermark: number, input: number): void {
    const marks = this.inputWatermarks;
    if (watermark <= (marks[input] ?? Number.NEGATIVE_INFINITY)) return;
    marks[input] = watermark;
    let min = Number.POSITIVE_INFINITY;
    for (const m of marks) if (m < min) min = m;
    if (min > this.watermark) {
      this.watermark = min;
      this.onWatermark(min);
    }
  }

  /** Event time advanced to `watermark`. Default: forward it. */
  protected onWatermark(watermark: number): void {
    this.emitWatermark(watermark);
  }

  /** A processing-time callback this operator scheduled is due. */
  onProcessingTime(_now: number): void {}

  /** True while the operator holds as much as it may; the runtime then stops pulling from sources. */
  saturated(): boolean {
    return false;
  }

  /** No more input will come: finish in-flight work (async calls, sink writes). */
  async finish(): Promise<void> {}

  /** The operator's own state (timers, windows, in-flight elements) as plain data. */
  snapshot(): unknown {
    return undefined;
  }

  restore(_snapshot: unknown): void {}

  /** Data for the test harness: pending timers in firing order. */
  pendingTimers(): { event: Array<[number, unknown]>; processing: Array<[number, unknown]> } {
    return { event: [], processing: [] };
  }

  protected emit(batch: Batch<unknown>, output = ''): void {
    const n = batch.records.length;
    if (n === 0) return;
    if (output === '') this.metrics.recordsOut += n;
    const targets = this.outputs.get(output);
    if (targets === undefined) return;
    for (let i = 0; i < targets.length; i++) {
      const d = targets[i]!;
      d.op.push(batch, d.input);
    }
  }

  protected emitWatermark(watermark: number): void {
    if (watermark <= this.emittedWatermark) return;
    this.emittedWatermark = watermark;
    for (const targets of this.outputs.values()) {
      for (const d of targets) d.op.receiveWatermark(watermark, d.input);
    }
  }

  /** Puts the operator back at a checkpointed watermark (inputs and output alike). */
  restoreWatermark(watermark: number): void {
    this.watermark = watermark;
    this.emittedWatermark = watermark;
    this.inputWatermarks.fill(watermark);
  }

  /** Current watermark (for tests and contexts). */
  currentWatermark(): number {
    return this.watermark;
  }
}

/** Collects records and their timestamps for one output batch. */
export class BatchBuilder {
  records: unknown[] = [];
  timestamps: number[] = [];

  add(record: unknown, timestamp: number): void {
    this.records.push(record);
    this.timestamps.push(timestamp);
  }

  get length(): number {
    return this.records.length;
  }

  /** Returns the batch collected so far and starts a new one. */
  take(): Batch<unknown> {
    const batch = { records: this.records, timestamps: this.timestamps };
    this.records = [];
    this.timestamps = [];
    return batch;
  }
}
