/**
 * What an operator sees of keyed state and timers. Operators declare their named state up front
 * (`valueState`, `listState`, `mapState`) and get handles scoped to the key being processed; they
 * never see how or where state is stored.
 */
import type { OutputTag } from '../graph.ts';

export type KeyType = string | number;

export interface TtlOptions {
  /** An entry not written for this long is gone: reads miss it and snapshots drop it. */
  readonly ttlMs?: number;
  /** Which time TTL is measured in. Default 'processing' (the injected clock). */
  readonly ttlTime?: 'processing' | 'event';
}

export interface ValueStateDescriptor<V> extends TtlOptions {
  readonly kind: 'value';
  readonly __value?: V;
}
export interface ListStateDescriptor<V> extends TtlOptions {
  readonly kind: 'list';
  readonly __value?: V;
}
export interface MapStateDescriptor<MK extends KeyType, MV> extends TtlOptions {
  readonly kind: 'map';
  readonly __key?: MK;
  readonly __value?: MV;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<KeyType, unknown>;

/** State of one step: a name per descriptor. */
export type StateSpec = Readonly<Record<string, StateDescriptor>>;

/** @example state: { last: valueState<number>({ ttlMs: 60_000 }) } */
export function valueState<V>(options: TtlOptions = {}): ValueStateDescriptor<V> {
  return { kind: 'value', ...options };
}
export function listState<V>(options: TtlOptions = {}): ListStateDescriptor<V> {
  return { kind: 'list', ...options };
}
export function mapState<MK extends KeyType, MV>(options: TtlOptions = {}): MapStateDescriptor<MK, MV> {
  return { kind: 'map', ...options };
}

export interface ValueState<V> {
  value(): V | undefined;
  update(value: V): void;
  clear(): void;
}

export interface ListState<V> {
  /** The list (empty if none); do not mutate it, use `add`/`update`. */
  get(): readonly V[];
  add(value: V): void;
  update(values: readonly V[]): void;
  clear(): void;
}

export interface MapState<MK extends KeyType, MV> {
  get(key: MK): MV | undefined;
  has(key: MK): boolean;
  put(key: MK, value: MV): void;
  remove(key: MK): void;
  entries(): IterableIterator<[MK, MV]>;
  size(): number;
  clear(): void;
}

export type StateHandles<S extends StateSpec> = {
  readonly [N in keyof S]: S[N] extends ValueStateDescriptor<infer V>
    ? ValueState<V>
    : S[N] extends ListStateDescriptor<infer V>
      ? ListState<V>
      : S[N] extends MapStateDescriptor<infer MK, infer MV>
        ? MapState<MK, MV>
        : never;
};

/** Timers of the current key. Registering the same time twice gives one timer. */
export interface TimerService {
  /** Fires `onTimer` once the watermark reaches `timestamp`. */
  registerEventTimer(timestamp: number): void;
  deleteEventTimer(timestamp: number): void;
  /** Fires `onTimer` once the clock reaches `timestamp`. */
  registerProcessingTimer(timestamp: number): void;
  deleteProcessingTimer(timestamp: number): void;
}

interface BaseContext<K, S extends StateSpec, R> {
  readonly key: K;
  readonly state: StateHandles<S>;
  readonly timers: TimerService;
  /** Current event-time watermark (−Infinity before the first). */
  watermark(): number;
  /** Current processing time from the injected clock. */
  now(): number;
  /** Emits on the main output, at `timestamp` (default: the current element's or timer's time). */
  emit(value: R, timestamp?: number): void;
  /** Emits on a side output. */
  output<U>(tag: OutputTag<U>, value: U, timestamp?: number): void;
}

export interface ProcessContext<K, S extends StateSpec, R> extends BaseContext<K, S, R> {
  /** Event time of the element being processed. */
  readonly timestamp: number;
}

export interface TimerContext<K, S extends StateSpec, R> extends BaseContext<K, S, R> {
  readonly timeDomain: 'event' | 'processing';
}
