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
  StateSpec,
  TimerContext,
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

export class KeyedProcessOperator extends Operator {
  private currentKey: KeyType = '';
  private currentTimestamp = 0;
  private timeDomain: 'event' | 'processing' = 'event';
  private readonly eventTimers = new TimerQueue();
  private readonly processingTimers = new TimerQueue();
  private readonly out = new BatchBuilder();
  private readonly sides = new Map<string, BatchBuilder>();
  private readonly ctx: ProcessContext<KeyType, StateSpec, unknown> &
    TimerContext<KeyType, StateSpec, unknown>;
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
    // One context object, updated per element: no allocation per record.
    const self = this;
    this.ctx = {
      get key() {
        return self.currentKey;
      },
      get timestamp() {
        return self.currentTimestamp;
      },
      get timeDomain() {
        return self.timeDomain;
      },
      state: state as never,
      timers: {
        registerEventTimer: (t) => self.eventTimers.add(t, self.currentKey),
        deleteEventTimer: (t) => self.eventTimers.delete(t, self.currentKey),
        registerProcessingTimer: (t) => {
          self.processingTimers.add(t, self.currentKey);
          self.services.scheduleProcessingTime(self, t);
        },
        deleteProcessingTimer: (t) => self.processingTimers.delete(t, self.currentKey),
      },
      watermark: () => self.watermark,
      now: () => self.services.clock.now(),
      emit: (value, timestamp) => self.out.add(value, timestamp ?? self.currentTimestamp),
      output: <U>(tag: OutputTag<U>, value: U, timestamp?: number) => {
        let side = self.sides.get(tag.name);
        if (side === undefined) {
          if (!self.outputs.has(tag.name) && !self.declared(tag.name)) {
            throw new Error(
              `side output "${tag.name}" is not declared; pass it in process(..., { outputs: [tag] })`,
            );
          }
          side = new BatchBuilder();
          self.sides.set(tag.name, side);
        }
        side.add(value, timestamp ?? self.currentTimestamp);
      },
    };
  }

  /** Set by the planner: names of side outputs declared on the step. */
  declaredOutputs: readonly string[] = [];

  private declared(name: string): boolean {
    return this.declaredOutputs.includes(name);
  }

  private handle(name: string, descriptor: StateDescriptor): unknown {
    const table = this.services.state.table<unknown>(this.id, name, descriptor);
    switch (descriptor.kind) {
      case 'value':
        return valueHandle(table, () => this.currentKey);
      case 'list':
        return listHandle(table as StateTable<unknown[]>, () => this.currentKey);
      case 'map':
        return mapHandle(table as StateTable<Map<KeyType, unknown>>, () => this.currentKey);
    }
  }

  push(batch: Batch<unknown>): void {
    const { records, timestamps } = batch;
    const n = records.length;
    this.metrics.recordsIn += n;
    const keyOf = this.keyOf;
    const fn = this.fn;
    this.timeDomain = 'event';
    try {
      for (let i = 0; i < n; i++) {
        const r = records[i];
        this.currentKey = keyOf(r);
        this.currentTimestamp = timestamps[i]!;
        fn.onElement(r, this.ctx);
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
        this.currentKey = due.key;
        this.currentTimestamp = due.timestamp;
        this.timeDomain = domain;
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
