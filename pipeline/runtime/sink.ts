/**
 * The sink step. Synchronous writers are called inline; a writer that returns a promise gets one
 * batch at a time, in order, while later batches queue. Once `capacity` records are queued the
 * step reports itself saturated and the runtime stops pulling from the sources until the writer
 * catches up — a slow sink slows the job down instead of growing memory.
 */
import type { Batch, SinkWriter } from '../types.ts';
import { Operator, type OperatorServices, StepError } from './operator.ts';

/**
 * Records that may wait for a slow sink before the sources pause. Larger smooths bursts but raises
 * peak memory by that many records; smaller makes the job stall more often on a sink hiccup.
 */
export const DEFAULT_SINK_CAPACITY = 8192;

export class SinkOperator extends Operator {
  private readonly queue: Array<Batch<unknown>> = [];
  private queued = 0;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  /** The most records ever waiting at once (for the backpressure test and metrics). */
  peakQueued = 0;

  constructor(
    id: string,
    private readonly writer: SinkWriter<unknown>,
    private readonly capacity: number,
    services: OperatorServices,
  ) {
    super(id, services);
  }

  push(batch: Batch<unknown>): void {
    const n = batch.records.length;
    this.metrics.recordsIn += n;
    if (this.failure !== undefined) throw this.failure;
    if (this.writing === undefined && this.queue.length === 0) {
      this.write(batch);
      return;
    }
    this.queue.push(batch);
    this.queued += n;
    if (this.queued > this.peakQueued) this.peakQueued = this.queued;
  }

  private write(batch: Batch<unknown>): void {
    let result: void | Promise<void>;
    try {
      result = this.writer.write(batch.records, batch.timestamps);
    } catch (error) {
      throw new StepError(this.id, error);
    }
    this.metrics.recordsOut += batch.records.length;
    if (result instanceof Promise) {
      this.writing = result.then(
        () => this.writeNext(),
        (error: unknown) => {
          this.writing = undefined;
          this.failure = new StepError(this.id, error);
          this.services.fail(this.failure);
        },
      );
    }
  }

  private writeNext(): void {
    this.writing = undefined;
    // Keep writing until a write goes asynchronous again or the queue is empty.
    while (this.writing === undefined) {
      const next = this.queue.shift();
      if (next === undefined) break;
      this.queued -= next.records.length;
      try {
        this.write(next);
      } catch (error) {
        this.failure = error;
        this.services.fail(error);
        return;
      }
    }
    if (this.queued < this.capacity) this.services.wake();
  }

  override saturated(): boolean {
    return this.queued >= this.capacity;
  }

  /** Records waiting for the writer. */
  queuedRecords(): number {
    return this.queued;
  }

  override async finish(): Promise<void> {
    await this.drain();
  }

  /** Waits until the writer has written every queued record, then makes it durable. */
  async drain(): Promise<void> {
    while (this.writing !== undefined) {
      await this.writing;
      if (this.failure !== undefined) throw this.failure;
    }
    await this.writer.flush?.();
  }

  /** Everything handed to this step is written and flushed (true right after `drain()`). */
  idle(): boolean {
    return this.writing === undefined && this.queue.length === 0;
  }

  /** The writer's own checkpoint state (a file's length), saved as this step's state. */
  override snapshot(): unknown {
    return this.writer.checkpointState?.();
  }

  /** The writer got its state at open (`SinkContext.resumeState`); nothing to do here. */
  override restore(): void {}
}
