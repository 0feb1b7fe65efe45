/**
 * The keyed process step: calls the user's function per element with the key's state handles and
 * timers, and `onTimer` when an event-time timer is reached by the watermark or a processing-time
 * timer by the clock. State lives in tables of the state backend named after the step id.
 */
import type { KeyedProcessFunction, OutputTag } from '../graph.ts';
import type {
  KeyType,
  ListState,
  MapState,
  ProcessContext,
  StateDescriptor,
  StateHandles,
  StateSpec,
  TimerContext,
  TimerService,
  ValueState,
} from '../state/api.ts';
import type { StateTable } from '../state/backend.ts';
import { TimerQueue } from '../state/timer-queue.ts';
import type { Batch } from '../types.ts';
import { BatchBuilder, Operator, type OperatorServices, StepError } from './operator.ts';

type AnyProcess = KeyedProcessFunction<KeyType, unknown, unknown, StateSpec>;

interface ProcessSnapshot {
  eventTimers: Array<[number, KeyType]>;
  processingTimers: Array<[number, KeyType]>;
}

/**
 * What the step's functions get: one object per operator, its key, time and domain updated per
 * element (no allocation per record). A class of plain fields, not an object literal with getters:
 * V8 keeps such a literal in dictionary mode, so every `ctx.timestamp` or `ctx.state` in a step's
 * code was a hash lookup and a getter call, boxing the time each time (15 MB of garbage per
 * million records in the Kafka benchmark).
 */
class KeyedContext
  implements ProcessContext<KeyType, StateSpec, unknown>, TimerContext<KeyType, StateSpec, unknown>
{
  key: KeyType = '';
  timestamp = 0;
  timeDomain: 'event' | 'processing' = 'event';

  constructor(
    readonly state: StateHandles<StateSpec>,
    readonly timers: TimerService,
    readonly watermark: () => number,
    readonly now: () => number,
    readonly emit: (value: unknown, timestamp?: number) => void,
    readonly output: <U>(tag: OutputTag<U>, value: U, timestamp?: number) => void,
  ) {}
}

export class KeyedProcessOperator extends Operator {
  private readonly eventTimers = new TimerQueue();
  private readonly processingTimers = new TimerQueue();
  private readonly out = new BatchBuilder();
  private readonly sides = new Map<string, BatchBuilder>();
  private readonly ctx: KeyedContext;
  private firing = false;

  constructor(
    id: string,
    private readonly keyOf: (value: unknown) => KeyType,
    private readonly fn: AnyProcess,
    services: OperatorServices,
  ) {
    super(id, services);
    const state: Record<string, unknown> = {};
    for (const [name, descriptor] of Object.entries(fn.state ?? {})) {
      state[name] = this.handle(name, descriptor);
    }
    this.ctx = new KeyedContext(
      state as StateHandles<StateSpec>,
      {
        registerEventTimer: (t) => this.eventTimers.add(t, this.ctx.key),
        deleteEventTimer: (t) => this.eventTimers.delete(t, this.ctx.key),
        registerProcessingTimer: (t) => {
          this.processingTimers.add(t, this.ctx.key);
          this.services.scheduleProcessingTime(this, t);
        },
        deleteProcessingTimer: (t) => this.processingTimers.delete(t, this.ctx.key),
      },
      () => this.watermark,
      () => this.services.clock.now(),
      (value, timestamp) => this.out.add(value, timestamp ?? this.ctx.timestamp),
      <U>(tag: OutputTag<U>, value: U, timestamp?: number) => {
        let side = this.sides.get(tag.name);
        if (side === undefined) {
          if (!this.outputs.has(tag.name) && !this.declared(tag.name)) {
            throw new Error(
              `side output "${tag.name}" is not declared; pass it in process(..., { outputs: [tag] })`,
            );
          }
          side = new BatchBuilder();
          this.sides.set(tag.name, side);
        }
        side.add(value, timestamp ?? this.ctx.timestamp);
      },
    );
  }

  /** Set by the planner: names of side outputs declared on the step. */
  declaredOutputs: readonly string[] = [];

  private declared(name: string): boolean {
    return this.declaredOutputs.includes(name);
  }

  private handle(name: string, descriptor: StateDescriptor): unknown {
    const table = this.services.state.table<unknown>(this.id, name, descriptor);
    // Called from the constructor before `ctx` exists; the handles read it only later.
    const key = () => this.ctx.key;
    switch (descriptor.kind) {
      case 'value':
        return valueHandle(table, key);
      case 'list':
        return listHandle(table as StateTable<unknown[]>, key);
      case 'map':
        return mapHandle(table as StateTable<Map<KeyType, unknown>>, key);
    }
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    const n = records.length;
    this.metrics.recordsIn += n;
    const keyOf = this.keyOf;
    const fn = this.fn;
    const ctx = this.ctx;
    ctx.timeDomain = 'event';
    try {
      for (let i = 0; i < n; i++) {
        const r = records[i];
        ctx.key = keyOf(r);
        ctx.timestamp = timestamps[i]!;
        fn.onElement(r, ctx);
      }
    } catch (error) {
      this.flushOutputs();
      throw new StepError(this.id, error);
    }
    this.flushOutputs();
  }

  protected override onWatermark(watermark: number): void {
    this.fire(this.eventTimers, watermark, 'event');
    this.emitWatermark(watermark);
  }

  override onProcessingTime(now: number): void {
    this.fire(this.processingTimers, now, 'processing');
  }

  private fire(queue: TimerQueue, upTo: number, domain: 'event' | 'processing'): void {
    if (this.firing) return;
    const onTimer = this.fn.onTimer;
    this.firing = true;
    try {
      for (let due = queue.pollDue(upTo); due !== undefined; due = queue.pollDue(upTo)) {
        if (onTimer === undefined) continue;
        this.ctx.key = due.key;
        this.ctx.timestamp = due.timestamp;
        this.ctx.timeDomain = domain;
        onTimer.call(this.fn, due.timestamp, this.ctx);
      }
    } catch (error) {
      this.flushOutputs();
      throw new StepError(this.id, error);
    } finally {
      this.firing = false;
    }
    this.flushOutputs();
  }

  private flushOutputs(): void {
    if (this.out.length > 0) this.emit(this.out.take());
    for (const [name, side] of this.sides) if (side.length > 0) this.emit(side.take(), name);
  }

  override snapshot(): ProcessSnapshot {
    return { eventTimers: this.eventTimers.list(), processingTimers: this.processingTimers.list() };
  }

  override restore(snapshot: unknown): void {
    const s = snapshot as ProcessSnapshot;
    this.eventTimers.clear();
    this.processingTimers.clear();
    for (const [t, k] of s.eventTimers) this.eventTimers.add(t, k);
    for (const [t, k] of s.processingTimers) {
      this.processingTimers.add(t, k);
      this.services.scheduleProcessingTime(this, t);
    }
  }

  override pendingTimers(): { event: Array<[number, KeyType]>; processing: Array<[number, KeyType]> } {
    return { event: this.eventTimers.list(), processing: this.processingTimers.list() };
  }
}

function valueHandle(table: StateTable<unknown>, key: () => KeyType): ValueState<unknown> {
  return {
    value: () => table.get(key()),
    update: (v) => table.put(key(), v),
    clear: () => table.delete(key()),
  };
}

function listHandle(table: StateTable<unknown[]>, key: () => KeyType): ListState<unknown> {
  return {
    get: () => table.get(key()) ?? [],
    add: (v) => {
      const k = key();
      const list = table.get(k);
      // put() marks the key changed for incremental checkpoints even when the list is reused.
      if (list) {
        list.push(v);
        table.put(k, list);
      } else table.put(k, [v]);
    },
    update: (values) => table.put(key(), [...values]),
    clear: () => table.delete(key()),
  };
}

function mapHandle(table: StateTable<Map<KeyType, unknown>>, key: () => KeyType): MapState<KeyType, unknown> {
  const current = () => table.get(key());
  return {
    get: (k) => current()?.get(k),
    has: (k) => current()?.has(k) ?? false,
    put: (k, v) => {
      const m = current() ?? new Map<KeyType, unknown>();
      m.set(k, v);
      table.put(key(), m);
    },
    remove: (k) => {
      const m = current();
      if (!m) return;
      m.delete(k);
      if (m.size === 0) table.delete(key());
      else table.put(key(), m);
    },
    entries: () => (current() ?? new Map<KeyType, unknown>()).entries(),
    size: () => current()?.size ?? 0,
    clear: () => table.delete(key()),
  };
}
