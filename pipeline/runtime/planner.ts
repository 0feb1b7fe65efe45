/**
 * Turns the graph (data) into connected physical operators. Consecutive stateless steps are fused
 * into one chain where no branching sits between them; `keyBy` is not an operator of its own in one
 * process — the keyed step after it applies the key function.
 */
import { consumers, type Edge, type Graph, type Step } from '../graph.ts';
import type { KeyType } from '../state/api.ts';
import type { SinkWriter, SourceReader } from '../types.ts';
import { AsyncMapOperator } from './async-map.ts';
import { ChainOperator, SplitOperator, type Stage, UnionOperator } from './chain.ts';
import { DelayOperator } from './delay.ts';
import { KeyedProcessOperator } from './keyed-process.ts';
import type { Operator, OperatorServices } from './operator.ts';
import { SinkOperator } from './sink.ts';
import { SourceOperator } from './source.ts';
import { WindowOperator } from './window.ts';

export interface PhysicalPlan {
  /** Operators in an order where each comes after everything feeding it. */
  readonly operators: readonly Operator[];
  readonly sources: readonly SourceOperator[];
  readonly sinks: readonly SinkOperator[];
  /** The operator that holds each step (fused steps share one). */
  readonly byStep: ReadonlyMap<string, Operator>;
}

export interface PlanInputs {
  readonly readers: ReadonlyMap<string, SourceReader<unknown>>;
  readonly writers: ReadonlyMap<string, SinkWriter<unknown>>;
  readonly sinkCapacity: number;
}

type Fn = (value: unknown) => unknown;

export function plan(graph: Graph, inputs: PlanInputs, services: OperatorServices): PhysicalPlan {
  const readers = consumers(graph);
  const operators: Operator[] = [];
  const sources: SourceOperator[] = [];
  const sinks: SinkOperator[] = [];
  const byStep = new Map<string, Operator>();
  /** Where each step's output comes from physically: an operator output, or (keyBy) the upstream edge plus a key function. */
  const keyBys = new Map<string, { edge: Edge; key: (v: unknown) => KeyType }>();
  const { chainHead, chainStages } = fuse(graph, readers);
  const inputCounts = new Map<Operator, number>();

  const connect = (edge: Edge, to: Operator): void => {
    const from = byStep.get(edge.step);
    if (from === undefined) throw new Error(`internal: step "${edge.step}" has no operator`);
    const input = inputCounts.get(to) ?? 0;
    inputCounts.set(to, input + 1);
    from.connect(edge.output ?? '', { op: to, input });
  };
  const add = (step: Step, op: Operator): void => {
    operators.push(op);
    byStep.set(step.id, op);
    for (const edge of step.inputs) connect(edge, op);
  };
  const keyedInput = (step: Step): { edge: Edge; key: (v: unknown) => KeyType } => {
    const k = keyBys.get(step.inputs[0]!.step);
    if (k === undefined) throw new Error(`internal: keyed step "${step.id}" does not read a keyBy`);
    return k;
  };

  for (const step of graph.steps) {
    const spec = step.spec;
    switch (spec.kind) {
      case 'source': {
        const reader = inputs.readers.get(step.id);
        if (reader === undefined) throw new Error(`internal: source "${step.id}" was not opened`);
        const op = new SourceOperator(
          step.id,
          reader,
          spec.timestamp as Fn as never,
          spec.watermark,
          services,
        );
        sources.push(op);
        add(step, op);
        break;
      }
      case 'map':
      case 'filter':
      case 'flatMap': {
        const head = chainHead.get(step.id)!;
        if (head === step.id) {
          add(step, new ChainOperator(chainStages.get(head)!, services));
        } else {
          // Fused into the chain of an earlier step: shares its operator.
          byStep.set(step.id, byStep.get(head)!);
        }
        break;
      }
      case 'union':
        add(step, new UnionOperator(step.id, services));
        break;
      case 'split':
        add(
          step,
          new SplitOperator(step.id, spec.routes as Record<string, (v: unknown) => boolean>, services),
        );
        break;
      case 'keyBy': {
        keyBys.set(step.id, { edge: step.inputs[0]!, key: spec.fn as (v: unknown) => KeyType });
        break;
      }
      case 'window': {
        const k = keyedInput(step);
        const op = new WindowOperator(
          step.id,
          k.key,
          spec.assigner,
          spec.allowedLatenessMs,
          spec.lateOutput,
          spec.fn as never,
          services,
        );
        operators.push(op);
        byStep.set(step.id, op);
        connect(k.edge, op);
        break;
      }
      case 'process': {
        const k = keyedInput(step);
        const op = new KeyedProcessOperator(step.id, k.key, spec.fn as never, services);
        op.declaredOutputs = step.outputs;
        operators.push(op);
        byStep.set(step.id, op);
        connect(k.edge, op);
        break;
      }
      case 'asyncMap':
        add(step, new AsyncMapOperator(step.id, spec.fn as never, spec.options, services));
        break;
      case 'delay':
        add(step, new DelayOperator(step.id, spec.ms, spec.time, services));
        break;
      case 'sink': {
        const writer = inputs.writers.get(step.id);
        if (writer === undefined) throw new Error(`internal: sink "${step.id}" was not opened`);
        const op = new SinkOperator(step.id, writer, inputs.sinkCapacity, services);
        sinks.push(op);
        add(step, op);
        break;
      }
    }
  }
  for (const op of operators) op.setInputCount(inputCounts.get(op) ?? 0);
  return { operators, sources, sinks, byStep };
}

const STATELESS = new Set(['map', 'filter', 'flatMap']);

/**
 * Groups stateless steps into chains: a stateless step joins the chain of its input when that input
 * is itself stateless and feeds nothing else from its main output.
 */
function fuse(
  graph: Graph,
  readers: Map<string, Step[]>,
): { chainHead: Map<string, string>; chainStages: Map<string, Stage[]> } {
  const chainHead = new Map<string, string>();
  const chainStages = new Map<string, Stage[]>();
  const kindOf = new Map(graph.steps.map((s) => [s.id, s.spec.kind]));
  for (const step of graph.steps) {
    if (!STATELESS.has(step.spec.kind)) continue;
    const stage = { kind: step.spec.kind, id: step.id, fn: (step.spec as unknown as { fn: Fn }).fn } as Stage;
    const edge = step.inputs[0]!;
    const upstreamHead = chainHead.get(edge.step);
    const fusable =
      upstreamHead !== undefined &&
      STATELESS.has(kindOf.get(edge.step) ?? '') &&
      edge.output === undefined &&
      (readers.get(edge.step) ?? []).length === 1;
    if (fusable) {
      chainHead.set(step.id, upstreamHead);
      chainStages.get(upstreamHead)!.push(stage);
    } else {
      chainHead.set(step.id, step.id);
      chainStages.set(step.id, [stage]);
    }
  }
  return { chainHead, chainStages };
}
