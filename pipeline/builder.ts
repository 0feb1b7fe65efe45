/**
 * The typed, fluent graph builder. Each call appends one step to the graph and returns a handle
 * whose type says what may follow: only a `KeyedStream` has `window` and `process`, and a
 * windowed stream's terminal call gives back a plain `Stream`. Building runs nothing.
 *
 * @example
 * const p = pipeline('chat-activity');
 * p.from(chatSource, { timestamp: (m) => m.ts, outOfOrdernessMs: 2_000 })
 *   .filter((m) => !m.text.startsWith('!'), 'drop-commands')
 *   .keyBy((m) => m.broadcaster_login)
 *   .window(tumbling(5_000))
 *   .aggregate(count(), 'count-5s')
 *   .to(printSink);
 */
import { describeAssigner, type WindowAssigner } from '../operators/window/assigner.ts';
import type {
  Aggregator,
  AsyncCallContext,
  AsyncOptions,
  Edge,
  Graph,
  KeyedProcessFunction,
  OutputTag,
  Step,
  StepSpec,
  WatermarkOptions,
  Windowed,
  WindowProcessContext,
} from './graph.ts';
import type { KeyType, StateSpec } from './state/api.ts';
import type { Sink, Source } from './types.ts';

/** A step id, or options naming it. */
export type StepOptions = string | { readonly id?: string };

export interface SourceOptions<T> extends WatermarkOptions {
  /** Event time of a record, epoch ms. Without it, records carry their ingestion (processing) time. */
  readonly timestamp?: (record: T) => number;
  readonly id?: string;
}

export interface WindowOptions<T> {
  /** Elements up to this late (behind the watermark) still update their window, which fires again. Default 0. */
  readonly allowedLatenessMs?: number;
  /** Elements later than that go to this side output instead of being dropped. */
  readonly lateOutput?: OutputTag<T>;
}

export class GraphError extends Error {
  override name = 'GraphError';
}

/** Starts a pipeline. */
export function pipeline(name: string): Pipeline {
  return new Pipeline(name);
}

export class Pipeline {
  private readonly steps: Step[] = [];
  private readonly counters = new Map<string, number>();

  constructor(readonly name: string) {}

  /** Reads a source. */
  from<T>(source: Source<T>, options: SourceOptions<T> = {}): Stream<T> {
    const { timestamp, id, ...watermark } = options;
    const spec: StepSpec = {
      kind: 'source',
      source: source as Source<unknown>,
      watermark,
      ...(timestamp ? { timestamp } : {}),
    };
    const stepId = this.add(spec, [], source.describe(), id);
    return new Stream<T>(this, { step: stepId });
  }

  /** The graph built so far, as plain data. */
  graph(): Graph {
    return { name: this.name, steps: [...this.steps] };
  }

  /** @internal Appends a step and returns its id. */
  add(spec: StepSpec, inputs: Edge[], label: string, id?: string, outputs: string[] = []): string {
    let stepId = id;
    if (stepId === undefined) {
      // Skip numbers an explicit id already took (`.map(f, 'map-1').map(g)`), which would
      // otherwise make a valid graph fail with "used twice".
      let n = this.counters.get(spec.kind) ?? 0;
      do n++;
      while (this.steps.some((s) => s.id === `${spec.kind}-${n}`));
      this.counters.set(spec.kind, n);
      stepId = `${spec.kind}-${n}`;
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stepId)) {
      throw new GraphError(`step id "${stepId}" may hold only letters, digits, '.', '_' and '-'`);
    }
    if (this.steps.some((s) => s.id === stepId)) throw new GraphError(`step id "${stepId}" is used twice`);
    for (const edge of inputs) {
      const from = this.steps.find((s) => s.id === edge.step);
      if (!from) throw new GraphError(`step "${stepId}" reads "${edge.step}", which is not in this pipeline`);
      if (edge.output !== undefined && !from.outputs.includes(edge.output)) {
        throw new GraphError(`step "${edge.step}" has no output "${edge.output}"`);
      }
    }
    this.steps.push({ id: stepId, inputs, outputs, label, spec });
    return stepId;
  }

  /** @internal Declares a side output on an existing step. */
  addOutput(stepId: string, output: string): void {
    const index = this.steps.findIndex((s) => s.id === stepId);
    const step = this.steps[index];
    if (!step) throw new GraphError(`no step "${stepId}"`);
    if (!step.outputs.includes(output)) this.steps[index] = { ...step, outputs: [...step.outputs, output] };
  }
}

function idOf(options: StepOptions | undefined): string | undefined {
  return typeof options === 'string' ? options : options?.id;
}

/** A stream of `T` records. */
export class Stream<T> {
  constructor(
    /** @internal */ readonly pipeline: Pipeline,
    /** @internal */ readonly edge: Edge,
  ) {}

  /** The step this stream comes from. */
  get stepId(): string {
    return this.edge.step;
  }

  private next<R>(spec: StepSpec, label: string, options?: StepOptions): Stream<R> {
    const id = this.pipeline.add(spec, [this.edge], label, idOf(options));
    return new Stream<R>(this.pipeline, { step: id });
  }

  map<R>(fn: (value: T) => R, options?: StepOptions): Stream<R> {
    return this.next<R>({ kind: 'map', fn }, 'map', options);
  }

  filter(predicate: (value: T) => boolean, options?: StepOptions): Stream<T> {
    return this.next<T>({ kind: 'filter', fn: predicate }, 'filter', options);
  }

  /** Zero or more outputs per input. */
  flatMap<R>(fn: (value: T) => Iterable<R>, options?: StepOptions): Stream<R> {
    return this.next<R>({ kind: 'flatMap', fn }, 'flatMap', options);
  }

  /** Merges streams of the same type; the watermark is the minimum of the inputs'. */
  union(others: readonly Stream<T>[], options?: StepOptions): Stream<T> {
    for (const other of others) {
      if (other.pipeline !== this.pipeline) throw new GraphError('union of streams from different pipelines');
    }
    const id = this.pipeline.add(
      { kind: 'union' },
      [this.edge, ...others.map((o) => o.edge)],
      `union of ${others.length + 1}`,
      idOf(options),
    );
    return new Stream<T>(this.pipeline, { step: id });
  }

  /**
   * Routes each record to the first route whose predicate holds, or to `rest`.
   * @example const { commands, rest } = chat.split({ commands: (m) => m.text.startsWith('!') });
   */
  split<Name extends string>(
    routes: { readonly [N in Name]: (value: T) => boolean },
    options?: StepOptions,
  ): { readonly [N in Name | 'rest']: Stream<T> } {
    const names = Object.keys(routes) as Name[];
    if (names.includes('rest' as Name))
      throw new GraphError('split route "rest" is reserved for unmatched records');
    const id = this.pipeline.add(
      { kind: 'split', routes },
      [this.edge],
      `split → ${[...names, 'rest'].join(' | ')}`,
      idOf(options),
      [...names, 'rest'],
    );
    const out: Record<string, Stream<T>> = {};
    for (const name of [...names, 'rest'])
      out[name] = new Stream<T>(this.pipeline, { step: id, output: name });
    return out as { readonly [N in Name | 'rest']: Stream<T> };
  }

  /** A side output of the step this stream comes from (late data of a window, `ctx.output` of a process step). */
  sideOutput<U>(tag: OutputTag<U>): Stream<U> {
    const step = this.pipeline.graph().steps.find((s) => s.id === this.edge.step);
    if (!step?.outputs.includes(tag.name)) {
      throw new GraphError(`step "${this.edge.step}" declares no side output "${tag.name}"`);
    }
    return new Stream<U>(this.pipeline, { step: this.edge.step, output: tag.name });
  }

  /** Partitions the stream by key, for windows and keyed state. */
  keyBy<K extends KeyType>(key: (value: T) => K, options?: StepOptions): KeyedStream<K, T> {
    const id = this.pipeline.add({ kind: 'keyBy', fn: key }, [this.edge], 'keyBy', idOf(options));
    return new KeyedStream<K, T>(this.pipeline, { step: id });
  }

  /**
   * Calls an asynchronous function per record, at most `concurrency` at once, with an optional
   * timeout and retry schedule. Records wait (and the sources pause) while all slots are busy.
   */
  asyncMap<R>(
    fn: (value: T, ctx: AsyncCallContext) => Promise<R>,
    options: AsyncOptions<T> & { readonly id?: string } = {},
  ): Stream<R> {
    const { id, ...rest } = options;
    const concurrency = rest.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new GraphError('asyncMap concurrency must be ≥ 1');
    const label = `asyncMap concurrency ${concurrency}${rest.retry ? `, retry at +${rest.retry.delaysMs.join('/+')} ms` : ''}${rest.timeoutMs ? `, timeout ${rest.timeoutMs} ms` : ''}`;
    const stepId = this.pipeline.add(
      { kind: 'asyncMap', fn, options: rest as AsyncOptions<unknown> },
      [this.edge],
      label,
      id,
    );
    const failure = rest.onFailure;
    if (typeof failure === 'object') this.pipeline.addOutput(stepId, failure.name);
    return new Stream<R>(this.pipeline, { step: stepId });
  }

  /**
   * Holds each record back by `ms` — in event time (released when the watermark passes
   * `timestamp + ms`; the record's time becomes that) or in processing time.
   */
  delay(
    ms: number,
    options: { readonly time?: 'event' | 'processing'; readonly id?: string } = {},
  ): Stream<T> {
    if (!Number.isFinite(ms) || ms < 0) throw new GraphError(`delay must be ≥ 0 ms, got ${ms}`);
    const time = options.time ?? 'event';
    return this.next<T>({ kind: 'delay', ms, time }, `delay ${ms} ms (${time} time)`, options.id);
  }

  /** Writes the stream to a sink; returns the pipeline. */
  to(sink: Sink<T>, options?: StepOptions): Pipeline {
    this.pipeline.add(
      { kind: 'sink', sink: sink as Sink<unknown> },
      [this.edge],
      sink.describe(),
      idOf(options),
    );
    return this.pipeline;
  }
}

/** A stream partitioned by key `K`; the only kind with windows and keyed state. */
export class KeyedStream<K extends KeyType, T> {
  constructor(
    /** @internal */ readonly pipeline: Pipeline,
    /** @internal */ readonly edge: Edge,
  ) {}

  window(assigner: WindowAssigner, options: WindowOptions<T> = {}): WindowedStream<K, T> {
    const lateness = options.allowedLatenessMs ?? 0;
    if (!Number.isFinite(lateness) || lateness < 0)
      throw new GraphError(`allowed lateness must be ≥ 0, got ${lateness}`);
    return new WindowedStream<K, T>(this.pipeline, this.edge, assigner, lateness, options.lateOutput);
  }

  /** Per-key processing with declared state and timers. */
  process<R, S extends StateSpec = Record<never, never>>(
    fn: KeyedProcessFunction<K, T, R, S>,
    options?: StepOptions & { readonly outputs?: readonly OutputTag<unknown>[] },
  ): Stream<R> {
    const extra = typeof options === 'object' ? (options.outputs ?? []).map((t) => t.name) : [];
    const stateNames = Object.keys(fn.state ?? {});
    const label = `process${stateNames.length ? ` state: ${stateNames.join(', ')}` : ''}`;
    const id = this.pipeline.add(
      { kind: 'process', fn: fn as unknown as KeyedProcessFunction<never, never, unknown, StateSpec> },
      [this.edge],
      label,
      idOf(options),
      extra,
    );
    return new Stream<R>(this.pipeline, { step: id });
  }
}

/** A keyed stream cut into windows; finish it with `aggregate`, `reduce` or `process`. */
export class WindowedStream<K extends KeyType, T> {
  constructor(
    private readonly pipeline: Pipeline,
    private readonly edge: Edge,
    private readonly assigner: WindowAssigner,
    private readonly allowedLatenessMs: number,
    private readonly lateOutput: OutputTag<T> | undefined,
  ) {}

  private finish<R>(fn: StepSpec & { kind: 'window' }, label: string, options?: StepOptions): Stream<R> {
    const outputs = this.lateOutput ? [this.lateOutput.name] : [];
    const lateness = this.allowedLatenessMs ? `, lateness ${this.allowedLatenessMs} ms` : '';
    const id = this.pipeline.add(
      fn,
      [this.edge],
      `window ${describeAssigner(this.assigner)}${lateness} → ${label}`,
      idOf(options),
      outputs,
    );
    return new Stream<R>(this.pipeline, { step: id });
  }

  private spec(fn: unknown): StepSpec & { kind: 'window' } {
    return {
      kind: 'window',
      assigner: this.assigner,
      allowedLatenessMs: this.allowedLatenessMs,
      ...(this.lateOutput ? { lateOutput: this.lateOutput.name } : {}),
      fn: fn as never,
    };
  }

  /** Incremental aggregation: one accumulator per key and window. */
  aggregate<A, R>(aggregator: Aggregator<T, A, R>, options?: StepOptions): Stream<Windowed<K, R>> {
    if (this.assigner.kind === 'session' && !aggregator.merge) {
      throw new GraphError('session windows need an aggregator with merge()');
    }
    return this.finish(this.spec({ kind: 'aggregate', aggregator }), 'aggregate', options);
  }

  /** Folds the elements of a window pairwise. */
  reduce(fn: (a: T, b: T) => T, options?: StepOptions): Stream<Windowed<K, T>> {
    const aggregator: Aggregator<T, { v: T | undefined; has: boolean }, T> = {
      create: () => ({ v: undefined, has: false }),
      add: (acc, value) => (acc.has ? { v: fn(acc.v as T, value), has: true } : { v: value, has: true }),
      merge: (a, b) => (!a.has ? b : !b.has ? a : { v: fn(a.v as T, b.v as T), has: true }),
      result: (acc) => acc.v as T,
    };
    return this.finish(this.spec({ kind: 'aggregate', aggregator }), 'reduce', options);
  }

  /** Sees all elements of a window at once (they are buffered until it fires). */
  process<R>(
    fn: (elements: readonly T[], ctx: WindowProcessContext<K, R>) => void,
    options?: StepOptions,
  ): Stream<R> {
    return this.finish(this.spec({ kind: 'process', fn }), 'process', options);
  }
}
