/**
 * Stateless steps fused into one operator. Consecutive `map`, `filter` and `flatMap` steps with no
 * branching between them run as one loop over the batch: each record passes every stage before the
 * next record starts, and only the chain's output batch is allocated.
 */
import type { Batch } from '../types.ts';
import { BatchBuilder, Operator, type OperatorServices, StepError } from './operator.ts';

export type Stage =
  | { readonly kind: 'map'; readonly id: string; readonly fn: (value: unknown) => unknown }
  | { readonly kind: 'filter'; readonly id: string; readonly fn: (value: unknown) => boolean }
  | { readonly kind: 'flatMap'; readonly id: string; readonly fn: (value: unknown) => Iterable<unknown> };

type Step = (value: unknown, timestamp: number) => void;
type Filter = (value: unknown) => boolean;

export class ChainOperator extends Operator {
  private readonly out = new BatchBuilder();
  private readonly entry: Step;
  /** The stage, when the chain has only one. */
  private readonly single: Stage | undefined;
  /** Set when every stage is a filter (one or more): the predicates, run in one loop. */
  private readonly filters: readonly Filter[] | undefined;

  constructor(
    readonly stages: readonly Stage[],
    services: OperatorServices,
  ) {
    super(stages.map((s) => s.id).join('+'), services);
    this.single = stages.length === 1 ? stages[0] : undefined;
    this.filters = stages.every((s) => s.kind === 'filter') ? stages.map((s) => s.fn as Filter) : undefined;
    // Compose from the end: each stage calls the next one directly.
    let next: Step = (value, timestamp) => this.out.add(value, timestamp);
    for (let i = stages.length - 1; i >= 0; i--) next = compose(stages[i]!, next);
    this.entry = next;
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    const n = records.length;
    this.metrics.recordsIn += n;
    // The most common shapes get a loop of their own, free of closure calls.
    if (this.filters !== undefined) {
      this.emit(this.filter(this.filters, records, timestamps));
      return;
    }
    const single = this.single;
    try {
      if (single?.kind === 'map') {
        const fn = single.fn;
        const outR = new Array<unknown>(n);
        for (let i = 0; i < n; i++) outR[i] = fn(records[i]);
        this.emit({ records: outR, timestamps });
        return;
      }
      const entry = this.entry;
      for (let i = 0; i < n; i++) entry(records[i], timestamps[i]!);
    } catch (error) {
      this.out.take();
      // Composed stages raise StepErrors naming themselves; only the one-stage loop above does not.
      throw error instanceof StepError ? error : new StepError(this.stages[0]!.id, error);
    }
    this.emit(this.out.take());
  }

  /** The records every filter keeps, the filters run in order on each record. */
  private filter(
    filters: readonly Filter[],
    records: readonly unknown[],
    timestamps: readonly number[],
  ): Batch<unknown> {
    const m = filters.length;
    const n = records.length;
    // Sized for all and cut to what was kept: grown a push at a time, they were copied to larger
    // stores several times per batch.
    const outR = new Array<unknown>(n);
    const outT = new Array<number>(n);
    let kept = 0;
    let stage = 0;
    try {
      next: for (let i = 0; i < n; i++) {
        const r = records[i];
        for (stage = 0; stage < m; stage++) if (!filters[stage]!(r)) continue next;
        outR[kept] = r;
        outT[kept++] = timestamps[i]!;
      }
    } catch (error) {
      throw new StepError(this.stages[stage]!.id, error);
    }
    outR.length = kept;
    outT.length = kept;
    return { records: outR, timestamps: outT };
  }
}

function compose(stage: Stage, next: Step): Step {
  const tag = (error: unknown): never => {
    throw new StepError(stage.id, error);
  };
  switch (stage.kind) {
    case 'map': {
      const fn = stage.fn;
      return (value, timestamp) => {
        let mapped: unknown;
        try {
          mapped = fn(value);
        } catch (error) {
          tag(error);
        }
        next(mapped, timestamp);
      };
    }
    case 'filter': {
      const fn = stage.fn;
      return (value, timestamp) => {
        let keep = false;
        try {
          keep = fn(value);
        } catch (error) {
          tag(error);
        }
        if (keep) next(value, timestamp);
      };
    }
    case 'flatMap': {
      const fn = stage.fn;
      return (value, timestamp) => {
        let items: Iterable<unknown> = [];
        try {
          items = fn(value);
        } catch (error) {
          tag(error);
        }
        // The iterable may be lazy (a generator): its own errors belong to this step too, while an
        // error from a later stage arrives as that stage's StepError and passes through.
        const iterator = items[Symbol.iterator]();
        for (;;) {
          let step: IteratorResult<unknown>;
          try {
            step = iterator.next();
          } catch (error) {
            tag(error);
          }
          if (step!.done) break;
          next(step!.value, timestamp);
        }
      };
    }
  }
}

/** Routes each record to the first route whose predicate holds, else to `rest`. */
export class SplitOperator extends Operator {
  private readonly names: string[];
  private readonly predicates: Array<(value: unknown) => boolean>;

  constructor(
    id: string,
    routes: Readonly<Record<string, (value: unknown) => boolean>>,
    services: OperatorServices,
  ) {
    super(id, services);
    this.names = Object.keys(routes);
    this.predicates = this.names.map((n) => routes[n]!);
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    this.metrics.recordsIn += records.length;
    const builders = this.names.map(() => new BatchBuilder());
    const rest = new BatchBuilder();
    const preds = this.predicates;
    try {
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        let routed = false;
        for (let p = 0; p < preds.length; p++) {
          if (preds[p]!(r)) {
            builders[p]!.add(r, timestamps[i]!);
            routed = true;
            break;
          }
        }
        if (!routed) rest.add(r, timestamps[i]!);
      }
    } catch (error) {
      throw new StepError(this.id, error);
    }
    this.metrics.recordsOut += records.length;
    for (let p = 0; p < builders.length; p++) this.emit(builders[p]!.take(), this.names[p]!);
    this.emit(rest.take(), 'rest');
  }
}

/** Forwards batches from several inputs; its watermark is the minimum of theirs. */
export class UnionOperator extends Operator {
  push(batch: Batch<unknown>): void {
    this.metrics.recordsIn += batch.records.length;
    this.emit(batch);
  }
}
