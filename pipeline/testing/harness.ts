/**
 * A test harness for one operator (or a short chain of them): push elements with timestamps, push
 * watermarks, advance processing time on a manual clock, read the output and the pending timers,
 * snapshot, and restore into a fresh harness. No source loop runs: the test is the source.
 *
 * @example
 * const h = new OperatorHarness<Msg, Windowed<string, number>>((s) =>
 *   s.keyBy((m) => m.channel).window(tumbling(5_000)).aggregate(count()));
 * h.push({ channel: 'a' }, 1_000);
 * h.watermark(4_999);
 * h.output(); // [{ value: { key: 'a', start: 0, end: 5000, value: 1 }, timestamp: 4999 }]
 */
import { pipeline, type Stream } from '../builder.ts';
import type { OutputTag } from '../graph.ts';
import type { Operator, OperatorServices } from '../runtime/operator.ts';
import { type PhysicalPlan, plan } from '../runtime/planner.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import type { SourceOperator } from '../runtime/source.ts';
import { MemoryStateBackend, type StateBackend } from '../state/backend.ts';
import { ManualClock } from '../time/clock.ts';
import type { Sink, SinkWriter, Source, SourceReader } from '../types.ts';

export interface Timestamped<T> {
  readonly value: T;
  readonly timestamp: number;
}

const HARNESS_SOURCE = 'harness-input';

export class OperatorHarness<In, Out> {
  readonly clock: ManualClock;
  private readonly state: StateBackend;
  private readonly physical: PhysicalPlan;
  private readonly source: SourceOperator;
  private readonly collected = new Map<string, Timestamped<unknown>[]>();
  private failure: unknown;
  private eventTime = Number.NEGATIVE_INFINITY;
  private readonly armed = new Set<string>();

  constructor(
    build: (input: Stream<In>) => Stream<Out>,
    options: { clock?: ManualClock; sideOutputs?: readonly OutputTag<unknown>[] } = {},
  ) {
    this.clock = options.clock ?? new ManualClock(0);
    this.state = new MemoryStateBackend({
      processingTime: () => this.clock.now(),
      eventTime: () => this.eventTime,
    });
    const p = pipeline('harness');
    const input = p.from(idleSource<In>(), { id: HARNESS_SOURCE });
    const out = build(input);
    const writers = new Map<string, SinkWriter<unknown>>();
    const attach = (stream: Stream<unknown>, name: string) => {
      const list: Timestamped<unknown>[] = [];
      this.collected.set(name, list);
      const id = `harness-out-${name || 'main'}`;
      stream.to(collectInto(list), id);
      writers.set(id, collectWriter(list));
    };
    attach(out as Stream<unknown>, '');
    for (const tag of options.sideOutputs ?? []) attach(out.sideOutput(tag), tag.name);
    const readers = new Map<string, SourceReader<unknown>>([[HARNESS_SOURCE, idleReader()]]);
    const services: OperatorServices = {
      clock: this.clock,
      state: this.state,
      scheduleProcessingTime: (op: Operator, at: number) => {
        const id = `${op.id}@${at}`;
        if (this.armed.has(id)) return;
        this.armed.add(id);
        this.clock.schedule(at, () => {
          this.armed.delete(id);
          try {
            op.onProcessingTime(this.clock.now());
          } catch (error) {
            this.failure ??= error;
          }
        });
      },
      fail: (error) => {
        this.failure ??= error;
      },
      wake: () => {},
    };
    this.physical = plan(p.graph(), { readers, writers, sinkCapacity: Number.MAX_SAFE_INTEGER }, services);
    this.source = this.physical.sources[0]!;
  }

  /** Pushes one element with its event time. */
  push(value: In, timestamp: number): this {
    return this.pushAll([value], [timestamp]);
  }

  /** Pushes elements as one batch. */
  pushAll(values: readonly In[], timestamps: readonly number[]): this {
    this.check();
    this.source.inject({ records: values, timestamps });
    return this;
  }

  /** Advances event time. */
  watermark(watermark: number): this {
    this.check();
    if (watermark > this.eventTime) this.eventTime = watermark;
    this.source.forceWatermark(watermark);
    return this;
  }

  /** Advances processing time, firing processing-time timers and async completions on the way. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    this.check();
  }

  /** Lets pending promise reactions (async completions) run without moving the clock. */
  async settle(): Promise<void> {
    await this.clock.advance(0);
    this.check();
  }

  /** Everything emitted on the main output so far. */
  output(): Timestamped<Out>[] {
    return this.collected.get('')! as Timestamped<Out>[];
  }

  /** Values only. */
  values(): Out[] {
    return this.output().map((o) => o.value);
  }

  /** Everything emitted on a side output registered with `sideOutputs`. */
  sideOutput<U>(tag: OutputTag<U>): Timestamped<U>[] {
    const list = this.collected.get(tag.name);
    if (list === undefined) throw new Error(`side output "${tag.name}" was not registered with the harness`);
    return list as Timestamped<U>[];
  }

  /** Clears collected output. */
  clearOutput(): void {
    for (const list of this.collected.values()) list.length = 0;
  }

  /** Pending timers of every operator, by operator id, in firing order. */
  pendingTimers(): Record<string, { event: Array<[number, unknown]>; processing: Array<[number, unknown]> }> {
    const out: Record<string, { event: Array<[number, unknown]>; processing: Array<[number, unknown]> }> = {};
    for (const op of this.physical.operators) {
      const t = op.pendingTimers();
      if (t.event.length > 0 || t.processing.length > 0) out[op.id] = t;
    }
    return out;
  }

  /** The operators under test (the input and output steps excluded). */
  operators(): Operator[] {
    return this.physical.operators.filter(
      (op) => op.id !== HARNESS_SOURCE && !op.id.startsWith('harness-out-'),
    );
  }

  snapshot(): JobSnapshot {
    this.check();
    const operators: Record<string, { watermark: number | null; state: unknown }> = {};
    for (const op of this.physical.operators) {
      const wm = op.currentWatermark();
      operators[op.id] = { watermark: Number.isFinite(wm) ? wm : null, state: op.snapshot() };
    }
    return {
      job: 'harness',
      operators: structuredClone(operators),
      keyed: this.state.snapshot(),
      positions: {},
    };
  }

  /** Loads a snapshot (typically into a fresh harness built the same way). */
  restore(snapshot: JobSnapshot): this {
    for (const op of this.physical.operators) {
      const saved = snapshot.operators[op.id];
      if (saved === undefined) continue;
      if (saved.watermark !== null) op.restoreWatermark(saved.watermark);
      if (saved.state !== undefined) op.restore(saved.state);
      if (op.id === HARNESS_SOURCE && saved.watermark !== null) this.eventTime = saved.watermark;
    }
    this.state.restore(snapshot.keyed);
    return this;
  }

  /** Finishes in-flight work (async calls, delays) as at the end of input. */
  async finish(): Promise<void> {
    for (const op of this.physical.operators) await op.finish();
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      throw f;
    }
  }
}

function idleReader(): SourceReader<never> {
  return {
    partitions: () => ['0'],
    poll: () => ({ kind: 'idle', ready: new Promise(() => {}) }),
    close: () => {},
  };
}

function idleSource<T>(): Source<T> {
  return { describe: () => 'harness input', open: () => idleReader() };
}

function collectWriter(list: Timestamped<unknown>[]): SinkWriter<unknown> {
  return {
    write(records, timestamps) {
      for (let i = 0; i < records.length; i++) list.push({ value: records[i], timestamp: timestamps[i]! });
    },
    close() {},
  };
}

function collectInto(list: Timestamped<unknown>[]): Sink<unknown> {
  return { describe: () => 'harness output', open: () => collectWriter(list) };
}
