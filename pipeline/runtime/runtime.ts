/**
 * Runs one instance of a job graph. The loop pulls a batch from a source, pushes it through the
 * operators in one synchronous call chain, and moves the watermark; it stops pulling while any
 * operator is saturated (a slow sink, a full asyncMap), which is how backpressure reaches the
 * sources. Processing-time callbacks and async completions run between batches, never inside one.
 *
 * Between batches the job is at a consistent point: `snapshot()` there captures operator state,
 * keyed state, watermarks and source positions together (the checkpoint module builds on it).
 */
import type { Graph } from '../graph.ts';
import {
  type BackendCapture,
  type BackendSnapshot,
  MemoryStateBackend,
  type StateBackend,
} from '../state/backend.ts';
import { type Clock, SystemClock } from '../time/clock.ts';
import type { Poll, SinkWriter, SourcePosition, SourceReader } from '../types.ts';
import type { Operator, OperatorServices, StepMetrics } from './operator.ts';
import { type PhysicalPlan, plan } from './planner.ts';
import { DEFAULT_SINK_CAPACITY } from './sink.ts';
import type { SourceOperator } from './source.ts';

/**
 * Records asked of a source per poll. Larger batches amortise per-batch work (watermark update,
 * array allocation) but raise latency and the memory a saturated job holds; below ~256 the
 * per-batch overhead dominates the engine benchmark.
 */
export const DEFAULT_BATCH_SIZE = 1024;

/**
 * Batches processed before the loop yields to the event loop. While a source always has data the
 * loop never has to wait, and without a yield timers, I/O callbacks and signals would starve.
 * Lower yields more often (more overhead per record); much higher delays timers and Ctrl-C.
 */
export const BATCHES_PER_YIELD = 32;

export interface RunOptions {
  readonly clock?: Clock;
  readonly batchSize?: number;
  /** Records a slow sink may have waiting before the sources pause. */
  readonly sinkCapacity?: number;
  /** Keyed state storage; in memory by default. */
  readonly state?: StateBackend;
  /** Resume from a snapshot taken by `snapshot()`. */
  readonly restore?: JobSnapshot;
  /**
   * The restore snapshot's keyed values were freshly decoded and nothing else holds them, so they
   * are taken over without a copy (copying 1 M keys took 13 s of a 16 s restore).
   */
  readonly adoptRestore?: boolean;
  /** Called between batches, at a consistent point (checkpoints, progress). */
  readonly onBoundary?: (runtime: JobRuntime) => void | Promise<void>;
  /**
   * When the loop, idle, must come round to a boundary anyway (the next checkpoint's due time), so
   * that a source gone quiet still gets its last records checkpointed and committed.
   */
  readonly nextBoundaryAt?: (runtime: JobRuntime) => number | undefined;
}

/** Everything needed to resume a job where it was, as plain data. */
export interface JobSnapshot {
  readonly job: string;
  /** Per operator id: its watermark and own state. */
  readonly operators: Readonly<Record<string, { watermark: number | null; state: unknown }>>;
  readonly keyed: BackendSnapshot;
  /** Per source step id: partition → position. */
  readonly positions: Readonly<Record<string, Readonly<Record<string, SourcePosition>>>>;
}

/**
 * A snapshot whose keyed state is captured rather than copied (`JobRuntime.capture`): read it,
 * then `keyed.release()`.
 */
export interface JobCapture extends Omit<JobSnapshot, 'keyed'> {
  readonly keyed: BackendCapture;
}

export interface JobResult {
  /** 'end': every source ended and everything was flushed; 'stopped': `stop()` was called. */
  readonly outcome: 'end' | 'stopped';
  readonly metrics: Readonly<Record<string, StepMetrics>>;
}

export class JobRuntime {
  readonly clock: Clock;
  private readonly batchSize: number;
  private readonly state: StateBackend;
  private physical: PhysicalPlan | undefined;
  private failure: unknown;
  private stopping = false;
  private abandoning = false;
  private wakeUp: (() => void) | undefined;
  private readonly armed = new Set<string>();
  private eventTime = Number.NEGATIVE_INFINITY;

  constructor(
    readonly graph: Graph,
    private readonly options: RunOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.state =
      options.state ??
      new MemoryStateBackend({ processingTime: () => this.clock.now(), eventTime: () => this.eventTime });
  }

  /**
   * Asks the job to stop at the next batch boundary; in-flight work is finished and flushed. With
   * `abandon`, in-flight work (waits, async calls) is dropped instead: for a job whose last
   * checkpoint holds that work and that another process is about to resume (a partition given
   * away in a rebalance).
   */
  stop(options: { abandon?: boolean } = {}): void {
    this.stopping = true;
    if (options.abandon) this.abandoning = true;
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private readonly services: OperatorServices = {
    clock: undefined as unknown as Clock,
    state: undefined as unknown as StateBackend,
    scheduleProcessingTime: (op, at) => {
      const id = `${op.id}@${at}`;
      if (this.armed.has(id)) return;
      this.armed.add(id);
      this.clock.schedule(at, () => {
        this.armed.delete(id);
        if (this.failure !== undefined) return;
        try {
          op.onProcessingTime(this.clock.now());
        } catch (error) {
          this.fail(error);
        }
        this.wake();
      });
    },
    fail: (error) => this.fail(error),
    wake: () => this.wake(),
  };

  private fail(error: unknown): void {
    if (this.failure === undefined) this.failure = error;
    this.wake();
  }

  /** Opens sources and sinks, wires the operators, and runs until the sources end or `stop()`. */
  async run(): Promise<JobResult> {
    Object.assign(this.services, { clock: this.clock, state: this.state });
    const restore = this.options.restore;
    const readers = new Map<string, SourceReader<unknown>>();
    const writers = new Map<string, SinkWriter<unknown>>();
    try {
      for (const step of this.graph.steps) {
        if (step.spec.kind === 'source') {
          const saved = restore?.positions[step.id];
          const startPositions = saved ? new Map(Object.entries(saved)) : undefined;
          readers.set(
            step.id,
            await step.spec.source.open({ clock: this.clock, ...(startPositions ? { startPositions } : {}) }),
          );
        } else if (step.spec.kind === 'sink') {
          const resumeState = restore?.operators[step.id]?.state;
          writers.set(
            step.id,
            await step.spec.sink.open({
              clock: this.clock,
              ...(resumeState !== undefined ? { resumeState } : {}),
            }),
          );
        }
      }
      this.physical = plan(
        this.graph,
        { readers, writers, sinkCapacity: this.options.sinkCapacity ?? DEFAULT_SINK_CAPACITY },
        this.services,
      );
      if (restore) this.restore(restore);
      const outcome = await this.loop(this.physical);
      if (!this.abandoning) await this.finish(this.physical);
      if (this.failure !== undefined) throw this.failure;
      return { outcome, metrics: this.metrics() };
    } finally {
      for (const reader of readers.values()) await reader.close();
      for (const writer of writers.values()) await writer.close();
    }
  }

  private async loop(p: PhysicalPlan): Promise<'end' | 'stopped'> {
    const sources = p.sources;
    let next = 0;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.stopping) return 'stopped';
      const live = sources.filter((s) => !s.ended);
      if (live.length === 0) return 'end';

      const blocked = p.operators.find((op) => op.saturated());
      if (blocked !== undefined) {
        await this.sleepUntilWoken([]);
        continue;
      }

      // Poll the live sources round-robin until one yields records; wait if none does.
      const idle: Promise<void>[] = [];
      let progressed = false;
      for (let i = 0; i < live.length && !progressed; i++) {
        const source = live[(next + i) % live.length]!;
        let poll: Poll<unknown> | Promise<Poll<unknown>> = source.reader.poll(this.batchSize);
        if (poll instanceof Promise) poll = await poll;
        if (this.failure !== undefined) throw this.failure;
        if (source.handle(poll)) progressed = true;
        else if (poll.kind === 'idle') idle.push(poll.ready);
        else progressed = true; // a partition or the source ended: the loop has work to re-check
      }
      next++;
      this.trackEventTime(p);
      if (this.options.onBoundary) await this.options.onBoundary(this);
      if (!progressed) await this.sleepUntilWoken(idle, this.sleepDeadline(sources));
      else if (next % BATCHES_PER_YIELD === 0) await yieldToEventLoop();
    }
  }

  private trackEventTime(p: PhysicalPlan): void {
    let min = Number.POSITIVE_INFINITY;
    for (const s of p.sources) if (s.currentWatermark() < min) min = s.currentWatermark();
    if (min > this.eventTime) this.eventTime = min;
  }

  private sleepDeadline(sources: readonly SourceOperator[]): number | undefined {
    const idle = this.idleDeadline(sources);
    const boundary = this.options.nextBoundaryAt?.(this);
    if (boundary === undefined) return idle;
    return idle === undefined ? boundary : Math.min(idle, boundary);
  }

  /** Records the sources have read so far. */
  recordsRead(): number {
    let n = 0;
    for (const s of this.physical?.sources ?? []) n += s.metrics.recordsIn;
    return n;
  }

  private idleDeadline(sources: readonly SourceOperator[]): number | undefined {
    let at: number | undefined;
    for (const s of sources) {
      const d = s.nextIdleDeadline();
      if (d !== undefined && (at === undefined || d < at)) at = d;
    }
    return at;
  }

  private async sleepUntilWoken(ready: Promise<void>[], deadline?: number): Promise<void> {
    let cancel = () => {};
    const woken = new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      if (deadline !== undefined) cancel = this.clock.schedule(deadline, resolve);
    });
    await Promise.race([woken, ...ready]);
    cancel();
    this.wakeUp = undefined;
    if (deadline !== undefined && this.physical) {
      for (const s of this.physical.sources) s.advance();
    }
  }

  private async finish(p: PhysicalPlan): Promise<void> {
    for (const op of p.operators) {
      await op.finish();
      if (this.failure !== undefined) throw this.failure;
    }
  }

  /**
   * Waits until every sink has written and flushed what it was given. Timers may fire meanwhile
   * and hand sinks more, so it repeats until all are idle; the caller snapshots right after, with
   * no await in between, so the snapshot's outputs are all durable.
   */
  async drainSinks(): Promise<void> {
    const sinks = this.physical?.sinks ?? [];
    // Every sink is flushed at least once, idle or not: a writer may hold records of its own
    // (the Kafka sink batches) that only `flush` sends.
    do {
      for (const sink of sinks) await sink.drain();
    } while (sinks.some((s) => !s.idle()));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Hands checkpoint `checkpointId`'s positions to the sources that commit outward (Kafka offsets). */
  async commitPositions(positions: JobSnapshot['positions'], checkpointId: number): Promise<void> {
    for (const source of this.physical?.sources ?? []) {
      const saved = positions[source.id];
      if (saved && source.reader.commit) {
        await source.reader.commit(new Map(Object.entries(saved)), checkpointId);
      }
    }
  }

  /** A consistent snapshot; call between batches (from `onBoundary`). */
  snapshot(options: { incremental?: boolean } = {}): JobSnapshot {
    return { ...this.snapshotOperators(), keyed: this.state.snapshot(options) };
  }

  /**
   * As `snapshot`, but keyed state is captured, not copied, so processing can go on at once while
   * the capture is written; values the job changes meanwhile are copied first (backend.ts).
   */
  capture(options: { incremental?: boolean } = {}): JobCapture {
    return { ...this.snapshotOperators(), keyed: this.state.capture(options) };
  }

  private snapshotOperators(): Omit<JobSnapshot, 'keyed'> {
    const p = this.physical;
    if (p === undefined) throw new Error('the job is not running');
    const operators: Record<string, { watermark: number | null; state: unknown }> = {};
    for (const op of new Set(p.operators)) {
      const wm = op.currentWatermark();
      operators[op.id] = { watermark: Number.isFinite(wm) ? wm : null, state: op.snapshot() };
    }
    const positions: Record<string, Record<string, SourcePosition>> = {};
    for (const s of p.sources) positions[s.id] = Object.fromEntries(s.positions());
    return { job: this.graph.name, operators, positions };
  }

  private restore(snapshot: JobSnapshot): void {
    const p = this.physical!;
    if (snapshot.job !== this.graph.name) {
      throw new Error(`snapshot is of job "${snapshot.job}", not "${this.graph.name}"`);
    }
    for (const op of p.operators) {
      const saved = snapshot.operators[op.id];
      if (saved === undefined) continue;
      if (saved.watermark !== null) op.restoreWatermark(saved.watermark);
      if (saved.state !== undefined) op.restore(saved.state);
    }
    this.state.restore(snapshot.keyed, { adopt: this.options.adoptRestore ?? false });
    // Event-time TTL reads this; left at −∞ until the first boundary, state written by the first
    // batch after a restore would age from a later time than in an uninterrupted run.
    this.trackEventTime(p);
  }

  /** Records in and out per operator. */
  metrics(): Record<string, StepMetrics> {
    const out: Record<string, StepMetrics> = {};
    for (const op of this.physical?.operators ?? []) out[op.id] = { ...op.metrics };
    return out;
  }

  /** @internal The operators, for the test harness and diagnostics. */
  operators(): readonly Operator[] {
    return this.physical?.operators ?? [];
  }
}

/** Lets timers and I/O callbacks that are due run; not a delay, so not the clock's business. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs a graph to completion. */
export async function runJob(graph: Graph, options: RunOptions = {}): Promise<JobResult> {
  return new JobRuntime(graph, options).run();
}
