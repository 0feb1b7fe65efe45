/**
 * The asyncMap step: calls an async function per element with bounded concurrency, a timeout per
 * attempt, and retries on a schedule measured from the first attempt (all on the injected clock).
 *
 * Order: in ordered mode results leave in input order; in unordered mode as they complete. In both
 * modes a watermark leaves only after every element that arrived before it, so no result is ever
 * behind the watermark that follows it.
 */
import type { AsyncCallContext, AsyncFailure, AsyncOptions } from '../graph.ts';
import type { Batch } from '../types.ts';
import { Operator, type OperatorServices, StepError } from './operator.ts';

interface Entry {
  kind: 'element';
  value: unknown;
  timestamp: number;
  state: 'waiting' | 'running' | 'done' | 'failed' | 'dropped';
  result?: unknown;
  failure?: AsyncFailure<unknown>;
}

interface Mark {
  kind: 'watermark';
  watermark: number;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

interface AsyncSnapshot {
  /** Elements not yet emitted, re-run from their first attempt on restore. */
  pending: Array<[unknown, number]>;
}

export class AsyncMapOperator extends Operator {
  private readonly queue: Array<Entry | Mark> = [];
  private running = 0;
  private unfinished = 0;
  private readonly concurrency: number;
  private readonly ordered: boolean;
  private idleWaiters: Array<() => void> = [];
  /** Retries made, for metrics and tests. */
  retries = 0;

  constructor(
    id: string,
    private readonly fn: (value: unknown, ctx: AsyncCallContext) => Promise<unknown>,
    private readonly options: AsyncOptions<unknown>,
    services: OperatorServices,
  ) {
    super(id, services);
    this.concurrency = options.concurrency ?? 16;
    this.ordered = options.ordered ?? true;
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    this.metrics.recordsIn += records.length;
    for (let i = 0; i < records.length; i++) {
      this.queue.push({ kind: 'element', value: records[i], timestamp: timestamps[i]!, state: 'waiting' });
      this.unfinished++;
    }
    this.startWaiting();
  }

  protected override onWatermark(watermark: number): void {
    this.queue.push({ kind: 'watermark', watermark });
    this.drain();
  }

  override saturated(): boolean {
    return this.unfinished >= this.concurrency;
  }

  override async finish(): Promise<void> {
    if (this.unfinished === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private startWaiting(): void {
    for (const entry of this.queue) {
      if (this.running >= this.concurrency) return;
      if (entry.kind === 'element' && entry.state === 'waiting') {
        entry.state = 'running';
        this.running++;
        this.attempt(entry, 1, this.services.clock.now());
      }
    }
  }

  private attempt(entry: Entry, attempt: number, firstStart: number): void {
    const clock = this.services.clock;
    const controller = new AbortController();
    let settled = false;
    let cancelTimeout = () => {};
    const onError = (error: unknown): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      const retry = this.options.retry;
      let retryable = retry !== undefined && attempt <= retry.delaysMs.length;
      if (retryable && retry?.retryOn) {
        try {
          retryable = retry.retryOn(error);
        } catch (predicateError) {
          // A broken predicate must not become an unhandled rejection: the job fails, naming the step.
          this.services.fail(new StepError(this.id, predicateError));
          return;
        }
      }
      if (retryable && retry !== undefined) {
        this.retries++;
        const at = Math.max(clock.now(), firstStart + retry.delaysMs[attempt - 1]!);
        clock.schedule(at, () => this.attempt(entry, attempt + 1, firstStart));
        return;
      }
      const status = (error as { status?: unknown } | null)?.status;
      this.complete(entry, 'failed', undefined, {
        value: entry.value,
        error: error instanceof Error ? error.message : String(error),
        attempts: attempt,
        ...(typeof status === 'number' ? { status } : {}),
      });
    };
    if (this.options.timeoutMs !== undefined) {
      cancelTimeout = clock.schedule(clock.now() + this.options.timeoutMs, () => {
        controller.abort();
        onError(new TimeoutError(`attempt ${attempt} timed out after ${this.options.timeoutMs} ms`));
      });
    }
    let promise: Promise<unknown>;
    try {
      promise = this.fn(entry.value, { attempt, signal: controller.signal });
    } catch (error) {
      onError(error);
      return;
    }
    promise.then((result) => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      this.complete(entry, 'done', result);
    }, onError);
  }

  private complete(
    entry: Entry,
    state: 'done' | 'failed',
    result: unknown,
    failure?: AsyncFailure<unknown>,
  ): void {
    entry.state = state;
    entry.result = result;
    if (failure) entry.failure = failure;
    this.running--;
    try {
      this.drain();
      this.startWaiting();
    } catch (error) {
      this.services.fail(error);
    }
  }

  /** Emits what may leave: completed results (in order or not) and the watermarks they no longer hold back. */
  private drain(): void {
    const out: unknown[] = [];
    const outTs: number[] = [];
    const failed: unknown[] = [];
    const failedTs: number[] = [];
    const flush = () => {
      if (out.length > 0) this.emit({ records: out.splice(0), timestamps: outTs.splice(0) });
      if (failed.length > 0 && typeof this.options.onFailure === 'object') {
        this.emit({ records: failed.splice(0), timestamps: failedTs.splice(0) }, this.options.onFailure.name);
      }
    };
    const take = (entry: Entry) => {
      this.unfinished--;
      if (entry.state === 'done') {
        out.push(entry.result);
        outTs.push(entry.timestamp);
      } else if (entry.state === 'failed') {
        const policy = this.options.onFailure ?? 'fail';
        if (policy === 'fail') {
          throw new StepError(
            this.id,
            new Error(`${entry.failure!.error} (after ${entry.failure!.attempts} attempts)`),
          );
        }
        if (typeof policy === 'object') {
          failed.push(entry.failure);
          failedTs.push(entry.timestamp);
        }
      }
      entry.state = 'dropped';
    };
    let i = 0;
    while (i < this.queue.length) {
      const head = this.queue[i]!;
      if (head.kind === 'watermark') {
        if (i > 0) break; // something before it is unfinished
        this.queue.shift();
        flush();
        this.emitWatermark(head.watermark);
        continue;
      }
      if (head.state === 'done' || head.state === 'failed') {
        take(head);
        if (i === 0) this.queue.shift();
        else this.queue.splice(i, 1);
        continue;
      }
      if (this.ordered) break;
      i++;
      // Unordered: completed elements may pass running ones, but never a watermark.
      while (i < this.queue.length && this.queue[i]!.kind !== 'watermark') {
        const e = this.queue[i] as Entry;
        if (e.state === 'done' || e.state === 'failed') {
          take(e);
          this.queue.splice(i, 1);
        } else i++;
      }
      break;
    }
    flush();
    if (this.unfinished === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    if (!this.saturated()) this.services.wake();
  }

  override snapshot(): AsyncSnapshot {
    const pending: Array<[unknown, number]> = [];
    for (const e of this.queue)
      if (e.kind === 'element' && e.state !== 'dropped') pending.push([e.value, e.timestamp]);
    return { pending };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as AsyncSnapshot;
    this.push({ records: s.pending.map((p) => p[0]), timestamps: s.pending.map((p) => p[1]) });
    this.metrics.recordsIn -= s.pending.length;
  }
}
