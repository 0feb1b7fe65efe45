/**
 * Keyed state storage. A `StateBackend` hands out one `StateTable` per (step id, state name);
 * each table maps a record key to that key's value. The in-memory backend here holds the hot
 * state; the LevelDB backend keeps the durable copy behind this same interface.
 *
 * Tables track which keys changed since the last snapshot, so a checkpoint can write only those
 * (`snapshot({ incremental: true })`).
 */
import type { KeyType, TtlOptions } from './api.ts';

export interface StateTable<V> {
  /** The value for `key`, or undefined when absent or expired. */
  get(key: KeyType): V | undefined;
  put(key: KeyType, value: V): void;
  delete(key: KeyType): void;
  /** Live (unexpired) entries. */
  entries(): IterableIterator<[KeyType, V]>;
  /** Number of entries, expired ones not yet swept included. */
  readonly size: number;
  /** Drops expired entries now; returns how many. */
  sweepExpired(): number;
}

/** One table's content as plain data. `written` = ms the entry was last written (for TTL). */
export interface TableSnapshot {
  readonly entries: ReadonlyArray<readonly [KeyType, unknown, number]>;
  /** Keys deleted since the previous snapshot (incremental snapshots only). */
  readonly deleted: readonly KeyType[];
}

export interface BackendSnapshot {
  readonly incremental: boolean;
  /** By `${stepId}/${stateName}`. */
  readonly tables: Readonly<Record<string, TableSnapshot>>;
}

/** A table's content as of a capture, read lazily (see `StateBackend.capture`). */
export interface TableCapture {
  readonly entries: Iterable<readonly [KeyType, unknown, number]>;
  readonly deleted: readonly KeyType[];
}

/**
 * A snapshot taken without copying: its entries are read from the live tables while they go on
 * changing, and a value is copied only when the job is about to change it before it was read.
 * `release()` ends that; read the entries only before it.
 */
export interface BackendCapture {
  readonly incremental: boolean;
  readonly tables: Readonly<Record<string, TableCapture>>;
  release(): void;
}

export interface StateBackend {
  table<V>(stepId: string, name: string, options?: TtlOptions): StateTable<V>;
  /** Full content, or with `incremental` only what changed since the previous snapshot. */
  snapshot(options?: { incremental?: boolean }): BackendSnapshot;
  /**
   * The same content as `snapshot`, in time independent of the state's size: nothing is copied
   * now. For checkpoints, whose write then runs while the job goes on.
   */
  capture(options?: { incremental?: boolean }): BackendCapture;
  /**
   * Replaces (full) or patches (incremental) the tables' content. With `adopt`, the values are taken
   * over without a copy: only for a snapshot nothing else holds (freshly decoded from a store).
   */
  restore(snapshot: BackendSnapshot, options?: { adopt?: boolean }): void;
}

/** Times a table's TTL is measured in. */
export interface StateTime {
  processingTime(): number;
  eventTime(): number;
}

interface Cell<V> {
  value: V;
  written: number;
  /** The table's `epoch` when the key was last added to `changed`: equal means it is there now. */
  marked: number;
}

/** Separates a table's name parts; step ids cannot hold it. */
export const TABLE_SEPARATOR = '/';

/** A capture under way in one table: which keys it covers, and values saved before they changed. */
interface Capture {
  /** Incremental: the keys changed before it. Full: undefined, every key present then. */
  readonly members: Set<KeyType> | undefined;
  /** Full: keys added since, which it does not cover. */
  readonly born: Set<KeyType>;
  /** Values as they were at the capture, saved before the job touched them; ABSENT: was not there. */
  readonly saved: Map<KeyType, readonly [unknown, number] | typeof ABSENT>;
}

const ABSENT = Symbol('absent');

class MemoryTable<V> implements StateTable<V> {
  readonly cells = new Map<KeyType, Cell<V>>();
  changed = new Set<KeyType>();
  /**
   * Moves on whenever `changed` starts afresh, which unmarks every cell at once: a put on a key
   * already in `changed` then costs no set lookup (the keyed steps put on every element).
   */
  private epoch = 0;
  /** Keys deleted since the last snapshot; never a key of `cells`. */
  readonly deleted = new Set<KeyType>();
  /**
   * The cell `get` found last, and its key: a keyed step reads a key's value, changes it and puts
   * it back, and that put then needs no second lookup. Forgotten whenever a cell leaves `cells`.
   */
  private lastKey: KeyType | undefined;
  private lastCell: Cell<V> | undefined;
  private capturing: Capture | undefined;
  /**
   * Keys written while the table's time was still −∞: event-time TTL before the first watermark.
   * Aged from −∞ they would expire the moment any watermark arrives (finite − (−∞) = ∞ ≥ ttl), so
   * they start ageing at the first finite time this table sees instead.
   */
  private readonly unaged = new Set<KeyType>();
  private readonly ttlMs: number | undefined;

  constructor(
    options: TtlOptions,
    private readonly time: () => number,
  ) {
    this.ttlMs = options.ttlMs;
  }

  get size(): number {
    return this.cells.size;
  }

  /** The table's current time; stamps unaged entries once it is finite. */
  private now(): number {
    const t = this.time();
    if (this.unaged.size > 0 && Number.isFinite(t)) {
      for (const key of this.unaged) {
        const cell = this.cells.get(key);
        if (cell) cell.written = t;
      }
      this.unaged.clear();
    }
    return t;
  }

  private expired(cell: Cell<V>): boolean {
    // −∞ − −∞ is NaN, so an unaged entry is never expired while time is still −∞.
    return this.ttlMs !== undefined && this.now() - cell.written >= this.ttlMs;
  }

  /** Before the job may change `key`: saves its value if a capture covers it and has not read it. */
  private preserve(key: KeyType): void {
    const c = this.capturing!;
    if (c.saved.has(key)) return;
    const cell = this.cells.get(key);
    const covered = c.members ? c.members.has(key) : cell !== undefined && !c.born.has(key);
    if (!covered) return;
    c.saved.set(key, cell ? [structuredClone(cell.value), cell.written] : ABSENT);
  }

  get(key: KeyType): V | undefined {
    if (this.capturing) this.preserve(key);
    const cell = this.cells.get(key);
    if (cell === undefined) return undefined;
    if (this.ttlMs !== undefined && this.expired(cell)) {
      this.delete(key);
      return undefined;
    }
    this.lastKey = key;
    this.lastCell = cell;
    return cell.value;
  }

  put(key: KeyType, value: V): void {
    if (this.capturing) {
      this.preserve(key);
      if (!this.cells.has(key)) this.capturing.born.add(key);
    }
    const written = this.ttlMs === undefined ? 0 : this.now();
    if (!Number.isFinite(written)) this.unaged.add(key);
    else if (this.unaged.size > 0) this.unaged.delete(key);
    let cell = key === this.lastKey ? this.lastCell : this.cells.get(key);
    if (cell) {
      cell.value = value;
      cell.written = written;
    } else {
      cell = { value, written, marked: -1 };
      this.cells.set(key, cell);
      this.deleted.delete(key);
    }
    if (cell.marked !== this.epoch) {
      this.changed.add(key);
      cell.marked = this.epoch;
    }
  }

  delete(key: KeyType): void {
    if (this.capturing) this.preserve(key);
    if (key === this.lastKey) this.forgetLast();
    this.unaged.delete(key);
    if (this.cells.delete(key)) {
      this.changed.delete(key);
      this.deleted.add(key);
    }
  }

  private forgetLast(): void {
    this.lastKey = undefined;
    this.lastCell = undefined;
  }

  *entries(): IterableIterator<[KeyType, V]> {
    for (const [key, cell] of this.cells) {
      if (this.expired(cell)) continue;
      if (this.capturing) this.preserve(key);
      yield [key, cell.value];
    }
  }

  sweepExpired(): number {
    if (this.ttlMs === undefined) return 0;
    let n = 0;
    for (const [key, cell] of this.cells) {
      if (this.expired(cell)) {
        this.delete(key);
        n++;
      }
    }
    return n;
  }

  /**
   * Starts a capture: O(1) for an incremental one (the changed-key set is handed over whole) and
   * one pass over the keys for a full one. Only TTL tables are swept first, which is a pass too.
   */
  capture(incremental: boolean): { table: TableCapture; release: () => void } {
    this.materialize();
    this.sweepExpired();
    const cells = this.cells;
    const members = incremental ? this.changed : undefined;
    const keys = incremental ? members! : Array.from(cells.keys());
    const deleted = incremental ? [...this.deleted] : [];
    this.changed = new Set();
    this.epoch++;
    this.deleted.clear();
    const capture: Capture = { members: members ?? undefined, born: new Set(), saved: new Map() };
    // A full capture covers every key present now; `members` stays undefined and `born` excludes
    // what is added later. An incremental one covers exactly the keys changed before it.
    this.capturing = capture;
    const table = this;
    const entries: Iterable<readonly [KeyType, unknown, number]> = {
      *[Symbol.iterator]() {
        for (const key of keys) {
          const saved = capture.saved.get(key);
          if (saved === ABSENT) continue;
          if (saved !== undefined) {
            yield [key, saved[0], saved[1]];
            continue;
          }
          const cell = table.cells.get(key);
          if (cell !== undefined) yield [key, cell.value, cell.written];
        }
      },
    };
    const release = () => {
      if (this.capturing === capture) this.capturing = undefined;
    };
    return { table: { entries, deleted }, release };
  }

  /** Ends a capture nobody released by copying what it still reads from the live table. */
  private materialize(): void {
    const c = this.capturing;
    if (c === undefined) return;
    const keys = c.members ?? this.cells.keys();
    for (const key of keys) this.preserve(key);
    this.capturing = undefined;
  }

  snapshot(incremental: boolean): TableSnapshot {
    this.materialize();
    this.sweepExpired();
    const keys = incremental ? this.changed : this.cells.keys();
    const entries: [KeyType, unknown, number][] = [];
    for (const key of keys) {
      const cell = this.cells.get(key);
      if (cell) entries.push([key, structuredClone(cell.value), cell.written]);
    }
    const deleted = incremental ? [...this.deleted] : [];
    this.changed.clear();
    this.epoch++;
    this.deleted.clear();
    return { entries, deleted };
  }

  restore(snapshot: TableSnapshot, incremental: boolean, adopt: boolean): void {
    this.materialize();
    this.forgetLast();
    if (!incremental) {
      this.cells.clear();
      this.unaged.clear();
    }
    for (const key of snapshot.deleted) {
      this.cells.delete(key);
      this.unaged.delete(key);
    }
    for (const [key, value, written] of snapshot.entries) {
      // An unaged entry's −∞ comes back as null from a JSON round trip; it is still unaged.
      const finite = Number.isFinite(written);
      this.cells.set(key, {
        // Copied unless adopted: a snapshot held elsewhere (a test's, a savepoint in memory) must
        // not change when this table's values are updated in place.
        value: (adopt ? value : structuredClone(value)) as V,
        written: finite ? written : Number.NEGATIVE_INFINITY,
        marked: -1,
      });
      if (finite) this.unaged.delete(key);
      else this.unaged.add(key);
    }
    this.changed.clear();
    this.epoch++;
    this.deleted.clear();
  }
}

/** Keyed state in memory. */
export class MemoryStateBackend implements StateBackend {
  private readonly tables = new Map<string, MemoryTable<unknown>>();

  constructor(private readonly time: StateTime) {}

  table<V>(stepId: string, name: string, options: TtlOptions = {}): StateTable<V> {
    const id = `${stepId}${TABLE_SEPARATOR}${name}`;
    if (this.tables.has(id)) throw new Error(`state "${name}" of step "${stepId}" is declared twice`);
    const clock =
      options.ttlTime === 'event' ? () => this.time.eventTime() : () => this.time.processingTime();
    const table = new MemoryTable<V>(options, clock);
    this.tables.set(id, table as MemoryTable<unknown>);
    return table;
  }

  snapshot(options: { incremental?: boolean } = {}): BackendSnapshot {
    const incremental = options.incremental ?? false;
    const tables: Record<string, TableSnapshot> = {};
    for (const [id, table] of this.tables) tables[id] = table.snapshot(incremental);
    return { incremental, tables };
  }

  capture(options: { incremental?: boolean } = {}): BackendCapture {
    const incremental = options.incremental ?? false;
    const tables: Record<string, TableCapture> = {};
    const releases: Array<() => void> = [];
    for (const [id, table] of this.tables) {
      const { table: captured, release } = table.capture(incremental);
      tables[id] = captured;
      releases.push(release);
    }
    const release = () => {
      for (const r of releases) r();
    };
    return { incremental, tables, release };
  }

  restore(snapshot: BackendSnapshot, options: { adopt?: boolean } = {}): void {
    for (const [id, data] of Object.entries(snapshot.tables)) {
      const table = this.tables.get(id);
      if (!table) throw new Error(`snapshot holds state "${id}", which no step of this job declares`);
      table.restore(data, snapshot.incremental, options.adopt ?? false);
    }
  }
}
