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

export class ChainOperator extends Operator {
  private readonly out = new BatchBuilder();
  private readonly entry: Step;
  /** Index of the stage being run, so an error names its step. */
  private readonly single: Stage | undefined;

  constructor(
    readonly stages: readonly Stage[],
    services: OperatorServices,
  ) {
    super(stages.map((s) => s.id).join('+'), services);
    this.single = stages.length === 1 ? stages[0] : undefined;
    // Compose from the end: each stage calls the next one directly.
    let next: Step = (value, timestamp) => this.out.add(value, timestamp);
    for (let i = stages.length - 1; i >= 0; i--) next = compose(stages[i]!, next);
    this.entry = next;
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    const n = records.length;
    this.metrics.recordsIn += n;
    const single = this.single;
    try {
      // The most common shapes get a loop of their own, free of closure calls.
      if (single?.kind === 'filter') {
        const fn = single.fn;
        const outR: unknown[] = [];
        const outT: number[] = [];
        for (let i = 0; i < n; i++) {
          const r = records[i];
          if (fn(r)) {
            outR.push(r);
            outT.push(timestamps[i]!);
          }
        }
        this.emit({ records: outR, timestamps: outT });
        return;
      }
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
      // Composed stages raise StepErrors naming themselves; only the one-stage loops above do not.
      throw error instanceof StepError ? error : new StepError(this.stages[0]!.id, error);
    }
    this.emit(this.out.take());
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
