/**
 * Durable checkpoints in LevelDB (classic-level): a job's snapshot — keyed state, operator state,
 * source positions — written so that each of the last `keep` checkpoints can be restored exactly,
 * and a damaged or unfinished one is detected and passed over for the one before it.
 *
 * Layout. Every key is ASCII; ids are zero-padded to 16 digits (any safe integer) so that keys
 * sort as the numbers do.
 *   h               the highest checkpoint id ever started, so an id is never reused
 *   m!<id>          manifest (JSON): job, time, positions, sizes, and a sha256 of each part
 *   d!<id>!<seq>    keyed state written by checkpoint <id>: records of one table's entries or of
 *                   its deleted keys, ~RECORD_BYTES each (value-codec.ts)
 *   o!<id>!<seq>    operator state of checkpoint <id>: one record per operator
 *
 * A full checkpoint's `d!` records hold every entry; an incremental one's hold only what changed
 * since its parent. Its manifest lists its chain: the full base, every incremental after it, and
 * itself, each with its record count, bytes and sha256, and the manifest's own checksum covers
 * those, so one manifest is enough to verify everything a restore of it reads.
 *
 * Writing checkpoint <id> follows these steps:
 *   1. Check <id> is above `h` and every manifest: an id is never reused, even after a failure.
 *   2. Encode the `d!` then `o!` records, hashing each, in LevelDB batches of ~BATCH_BYTES; the
 *      first batch also sets `h`. Encoding the next batch overlaps LevelDB writing the last one.
 *   3. Put the manifest in the last batch. A checkpoint exists once its manifest does: a write
 *      cut short leaves records without one (torn), which a restore reports and skips and the
 *      next retention pass deletes. An incremental checkpoint (~1% of keys) is one batch.
 *   4. Retention: keep the newest `keep` manifests, and the records of every checkpoint in their
 *      chains; delete the rest.
 * Every batch is synced (fsync), so a checkpoint that exists survives a machine crash too.
 *
 * Restoring checkpoint N reads its chain — the base's entries in their order, each incremental's
 * changes and deletions over them (ChainMerge) — and N's operator records, verifying every record
 * count and sha256 against N's manifest as it goes.
 *
 * Why per-checkpoint segments rather than one LevelDB key per state key and version: a full
 * checkpoint of a million channels is ~600 LevelDB values here instead of two million (two
 * million JSON puts took 15 s on their own here, against a 2 s target); a checkpoint's records
 * are one contiguous key range in the order they were hashed, so verifying is one sequential
 * read; and retention deletes whole segments, so whatever is left still matches its checksum.
 * (Dropping superseded per-key versions out of a retained chain would leave partial segments no
 * checksum can vouch for.) The cost: an incremental's superseded entries stay until its chain's
 * base is retired, so storage and restore time grow with the chain — bounded by how often the
 * writer takes a full checkpoint (`CheckpointInfo.chainBytes` is there to decide it).
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import type { JobCapture, JobSnapshot } from '../runtime/runtime.ts';
import type { KeyType } from '../state/api.ts';
import type { TableSnapshot } from '../state/backend.ts';
import { Decoder, Encoder } from './value-codec.ts';

/**
 * Target size of one `d!` record. Smaller means more LevelDB values (a key, a batch entry, an
 * index entry and a hash update each), larger means more memory per record and coarser batches.
 * Between 16 KB and 1 MB the benchmark's full checkpoint did not change beyond this machine's
 * run-to-run noise (±20%). Any size restores correctly; existing records keep their size.
 */
const RECORD_BYTES = 256 * 1024;

/**
 * LevelDB batch size while writing a large checkpoint: one batch is being written by LevelDB's
 * thread while the next is encoded, and the two encoders' buffers are this big. Measured on the
 * benchmark's full checkpoint: everything in one batch (no overlap) 2.7 s against 1.6–2.1 s at
 * 8 MB; 2 MB no better than 8 MB; 32 MB worse (3.2 s). Syncing every batch cost nothing
 * measurable on this disk.
 */
const BATCH_BYTES = 8 * 1024 * 1024;

/** Records fetched per LevelDB read while restoring; the next read overlaps decoding these. */
const READ_RECORDS = 16;

const DEFAULT_KEEP = 3;

/**
 * Longest stretch a write encodes before letting the event loop run. Checkpoints are written in
 * the background while the job processes, so this bounds how long one holds processing up; each
 * yield costs a few microseconds.
 */
const YIELD_MS = 10;

/** Id digits in keys: Number.MAX_SAFE_INTEGER has 16. */
const ID_DIGITS = 16;
const SEQ_DIGITS = 8;
const FORMAT = 1;

const RECORD_ENTRIES = 1;
const RECORD_DELETED = 2;
const RECORD_OPERATOR = 3;

/** What `write()` and `list()` say about a checkpoint. */
export interface CheckpointInfo {
  readonly id: number;
  readonly job: string;
  readonly createdAt: number;
  /** Bytes of the records this checkpoint wrote, keys and values (its small manifest aside). */
  readonly bytes: number;
  /** Keyed-state entries and deletions this checkpoint wrote. */
  readonly keys: number;
  readonly incremental: boolean;
  /** The full checkpoint its chain starts from (its own id when full). */
  readonly base: number;
  /** Bytes of keyed state a restore of it reads: its chain's, base included. */
  readonly chainBytes: number;
}

export interface LoadedCheckpoint {
  readonly id: number;
  /**
   * `keyed` is full (`incremental: false`): the chain merged. Every value in it was decoded for
   * this call and is the caller's: nothing else holds it, so restoring needs no copy.
   */
  readonly snapshot: JobSnapshot;
  /** Newer checkpoints found corrupt or torn, newest first, and why. */
  readonly skipped: ReadonlyArray<{ id: number; reason: string }>;
}

/**
 * One checkpoint's own stored bytes, as `exportCheckpoint` reads them and `importCheckpoint`
 * writes them: enough to copy it to another store (through object storage, say), never decoded on
 * the way. Its manifest's checksums vouch for all of it when the other store loads it.
 */
export interface ExportedCheckpoint {
  readonly id: number;
  /** The checkpoints a restore of it reads, as its manifest lists them: full base first, itself last. */
  readonly chain: readonly number[];
  /** The manifest as stored (JSON). */
  readonly manifest: Uint8Array;
  /** Its own `d!` and `o!` records as stored, in key order; not those of the checkpoints it builds on. */
  readonly records: ReadonlyArray<readonly [key: string, value: Uint8Array]>;
}

export interface LevelCheckpointStoreOptions {
  /** Checkpoints kept, ≥ 1 (default 3). */
  readonly keep?: number;
}

interface SegmentDigest {
  readonly records: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** One checkpoint's keyed-state records, as a manifest lists them. */
interface Segment extends SegmentDigest {
  readonly id: number;
  readonly incremental: boolean;
  /** Every table of the snapshot, so that empty ones come back too. */
  readonly tables: readonly string[];
}

interface ManifestBody {
  readonly format: typeof FORMAT;
  readonly id: number;
  readonly job: string;
  readonly createdAt: number;
  readonly parent: number | null;
  readonly keys: number;
  readonly bytes: number;
  /** Full base first, this checkpoint's own segment last. */
  readonly chain: readonly Segment[];
  readonly operators: SegmentDigest;
  readonly positions: JobSnapshot['positions'];
}

interface Manifest extends ManifestBody {
  /** sha256 of the body's JSON; it covers the chain's and operators' digests, so everything. */
  readonly checksum: string;
}

/** A manifest that is there but cannot be used. */
interface Unreadable {
  readonly unreadable: string;
}

type Entry = readonly [KeyType, unknown, number];

/** A checkpoint that fails verification; its message is the `skipped` reason. */
class CorruptCheckpointError extends Error {}

const pad = (n: number, digits: number) => String(n).padStart(digits, '0');
const manifestKey = (id: number) => `m!${pad(id, ID_DIGITS)}`;
/** Bounds of checkpoint `id`'s records under `prefix`: '"' sorts right after '!'. */
const rangeOf = (prefix: string, id: number) => ({
  gte: `${prefix}!${pad(id, ID_DIGITS)}!`,
  lt: `${prefix}!${pad(id, ID_DIGITS)}"`,
});
const HIGHEST_KEY = 'h';

/**
 * Checkpoints of one job in one LevelDB directory. Calls are serialised; one process at a time
 * (LevelDB locks the directory).
 *
 * @example
 * const store = await LevelCheckpointStore.open('data/checkpoints/highlights', { keep: 3 });
 * const resumed = await store.load(); // undefined on the first run
 * // … restore `resumed.snapshot`, run, and at a boundary:
 * await store.write(store.nextId, runtime.snapshot({ incremental: resumed !== undefined }), clock.now());
 * await store.close();
 */
export class LevelCheckpointStore {
  /** The checkpoint an incremental write builds on: the last one written or loaded here. */
  private head: Manifest | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Reused by every write: all its batches are written before `write()` returns. */
  private readonly encoders: readonly [Encoder, Encoder] = [
    new Encoder(BATCH_BYTES + 2 * RECORD_BYTES),
    new Encoder(BATCH_BYTES + 2 * RECORD_BYTES),
  ];

  private constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    private readonly dir: string,
    private readonly keep: number,
    /** Highest id started here or found on open; the next id must be above it. */
    private highest: number,
  ) {}

  static async open(dir: string, options: LevelCheckpointStoreOptions = {}): Promise<LevelCheckpointStore> {
    const keep = options.keep ?? DEFAULT_KEEP;
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer ≥ 1, got ${keep}`);
    await mkdir(dir, { recursive: true });
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const h = await db.get(HIGHEST_KEY);
    let highest = h === undefined ? -1 : Number(Buffer.from(h).toString());
    const [newest] = await db.keys({ gte: 'm!', lt: 'm"', reverse: true, limit: 1 }).all();
    if (newest !== undefined) highest = Math.max(highest, Number(newest.slice(2)));
    return new LevelCheckpointStore(db, dir, keep, Number.isFinite(highest) ? highest : -1);
  }

  /**
   * The lowest id `write()` accepts: one above every id this directory has seen, including
   * checkpoints that were started and never finished (they have no manifest, so `list()` does
   * not show them).
   */
  get nextId(): number {
    return this.highest + 1;
  }

  /**
   * Writes checkpoint `id` (above every id this directory has seen) and applies retention. A full
   * snapshot (`keyed.incremental: false`) starts a new chain; an incremental one holds the changes
   * since the checkpoint last written or loaded through this store, and fails if there is none.
   * A full snapshot's `deleted` lists are ignored. Values must be plain data (value-codec.ts).
   */
  write(id: number, snapshot: JobSnapshot | JobCapture, createdAt: number): Promise<CheckpointInfo> {
    return this.exclusive(() => this.writeNow(id, snapshot, createdAt));
  }

  /** Complete checkpoints (their manifest is there), oldest first. Nothing is verified here. */
  list(): Promise<CheckpointInfo[]> {
    return this.exclusive(async () => {
      const out: CheckpointInfo[] = [];
      for (const m of (await this.readManifests()).values()) if (!('unreadable' in m)) out.push(infoOf(m));
      return out;
    });
  }

  /**
   * The newest checkpoint whose whole chain verifies; newer ones that do not are in `skipped`.
   * undefined when no checkpoint was ever completed; throws when some were but none verifies, as
   * starting over from nothing is then the caller's decision, not this store's.
   */
  load(): Promise<LoadedCheckpoint | undefined> {
    return this.exclusive(() => this.loadNow());
  }

  /** Checkpoint `id`; throws if it is missing or does not verify. */
  loadId(id: number): Promise<LoadedCheckpoint> {
    return this.exclusive(async () => {
      const manifests = await this.readManifests();
      const found = manifests.get(id);
      if (found === undefined) {
        const ids = [...manifests.keys()];
        throw new Error(`checkpoint ${id} is not in ${this.dir} (there: ${ids.join(', ') || 'none'})`);
      }
      try {
        if ('unreadable' in found) throw new CorruptCheckpointError(found.unreadable);
        const snapshot = await this.restore(found);
        // An older checkpoint read back (for a savepoint) must not become the base of the next
        // incremental write, whose changes are counted from the newest one.
        if (this.head === undefined || found.id > this.head.id) this.head = found;
        return { id, snapshot, skipped: [] };
      } catch (e) {
        if (e instanceof CorruptCheckpointError) {
          throw new Error(`checkpoint ${id} in ${this.dir} cannot be restored: ${e.message}`);
        }
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.exclusive(() => this.db.close());
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeNow(
    id: number,
    snapshot: JobSnapshot | JobCapture,
    createdAt: number,
  ): Promise<CheckpointInfo> {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`checkpoint id must be a safe integer ≥ 0, got ${id}`);
    }
    if (id <= this.highest) {
      throw new Error(
        `checkpoint ids must increase: ${id} is not above ${this.highest}, already used in ${this.dir}`,
      );
    }
    const keyed = snapshot.keyed;
    const parent = keyed.incremental ? this.head : undefined;
    if (keyed.incremental && parent === undefined) {
      throw new Error(
        `checkpoint ${id} is incremental, but no checkpoint was written or loaded through this store for it to build on; write a full one first`,
      );
    }
    const writer = new BatchWriter(this.db, this.encoders);
    this.highest = id;
    try {
      await writer.put(HIGHEST_KEY, Buffer.from(String(id)));
      let keys = 0;
      const data = writer.startSegment();
      let seq = 0;
      for (const [table, content] of Object.entries(keyed.tables)) {
        const written = await writeEntries(writer, id, seq, table, content.entries);
        keys += written.entries;
        seq = written.seq;
        if (keyed.incremental) {
          keys += content.deleted.length;
          seq = await writeDeleted(writer, id, seq, table, content.deleted);
        }
      }
      const own: Segment = {
        id,
        incremental: keyed.incremental,
        tables: Object.keys(keyed.tables),
        ...writer.endSegment(data),
      };
      const operators = writer.startSegment();
      seq = 0;
      for (const [step, { watermark, state }] of Object.entries(snapshot.operators)) {
        const enc = writer.encoder;
        enc.byte(RECORD_OPERATOR);
        enc.string(step);
        enc.value(watermark);
        try {
          enc.value(state);
        } catch (e) {
          throw new Error(`state of step "${step}": ${e instanceof Error ? e.message : String(e)}`, {
            cause: e,
          });
        }
        await writer.put(`o!${pad(id, ID_DIGITS)}!${pad(seq++, SEQ_DIGITS)}`, enc.take());
      }
      const body: ManifestBody = {
        format: FORMAT,
        id,
        job: snapshot.job,
        createdAt,
        parent: parent?.id ?? null,
        keys,
        bytes: writer.bytes,
        chain: [...(parent?.chain ?? []), own],
        operators: writer.endSegment(operators),
        positions: snapshot.positions,
      };
      const manifest: Manifest = { ...body, checksum: checksumOf(body) };
      await writer.put(manifestKey(id), Buffer.from(JSON.stringify(manifest)));
      await writer.finish();
      this.head = manifest;
    } catch (e) {
      await writer.abandon();
      // Best effort: leave no records of it behind. If this fails too, they are torn records,
      // which the next retention pass deletes.
      await this.db.clear(rangeOf('d', id)).catch(() => undefined);
      await this.db.clear(rangeOf('o', id)).catch(() => undefined);
      throw e;
    }
    await this.retain();
    return infoOf(this.head);
  }

  /** Manifests by id, ascending; unparseable ones as `Unreadable`. */
  private async readManifests(): Promise<Map<number, Manifest | Unreadable>> {
    const out = new Map<number, Manifest | Unreadable>();
    for await (const [key, value] of this.db.iterator({ gte: 'm!', lt: 'm"' })) {
      const id = Number(key.slice(2));
      out.set(id, parseManifest(Buffer.from(value).toString('utf8'), id));
    }
    return out;
  }

  /** Ids that have records under `prefix`, ascending: one seek per id, not a read of every key. */
  private async idsWithRecords(prefix: 'd' | 'o'): Promise<number[]> {
    const ids: number[] = [];
    let from = `${prefix}!`;
    for (;;) {
      const [key] = await this.db.keys({ gte: from, lt: `${prefix}"`, limit: 1 }).all();
      if (key === undefined) return ids;
      const id = Number(key.slice(2, 2 + ID_DIGITS));
      ids.push(id);
      from = rangeOf(prefix, id).lt;
    }
  }

  /** Keeps the newest `keep` manifests and what their chains read; deletes everything else. */
  private async retain(): Promise<void> {
    const manifests = await this.readManifests();
    const readable = [...manifests].filter((e): e is [number, Manifest] => !('unreadable' in e[1]));
    const kept = readable.slice(-this.keep).map(([, m]) => m);
    const keptIds = new Set(kept.map((m) => m.id));
    const needed = new Set(kept.flatMap((m) => m.chain.map((s) => s.id)));
    const dropped = [...manifests.keys()].filter((id) => !keptIds.has(id));
    if (dropped.length > 0) {
      await this.db.batch(
        dropped.map((id) => ({ type: 'del' as const, key: manifestKey(id) })),
        { sync: true },
      );
    }
    // Records go after their manifests: a crash in between leaves records no manifest names,
    // which the next pass finds here again.
    for (const id of await this.idsWithRecords('d'))
      if (!needed.has(id)) await this.db.clear(rangeOf('d', id));
    for (const id of await this.idsWithRecords('o'))
      if (!keptIds.has(id)) await this.db.clear(rangeOf('o', id));
  }

  private async loadNow(): Promise<LoadedCheckpoint | undefined> {
    const manifests = await this.readManifests();
    const inChains = new Set<number>();
    for (const m of manifests.values()) if (!('unreadable' in m)) for (const s of m.chain) inChains.add(s.id);
    // Records that no manifest owns or reads, and an `h` with no manifest: checkpoints begun and
    // never finished (or whose manifest was removed).
    const torn = new Set<number>();
    const h = await this.db.get(HIGHEST_KEY);
    const started = [...(await this.idsWithRecords('d')), ...(await this.idsWithRecords('o'))];
    if (h !== undefined) started.push(Number(Buffer.from(h).toString()));
    for (const id of started) if (!manifests.has(id) && !inChains.has(id)) torn.add(id);

    const candidates = [...new Set([...manifests.keys(), ...torn])].sort((a, b) => b - a);
    const skipped: Array<{ id: number; reason: string }> = [];
    for (const id of candidates) {
      const m = manifests.get(id);
      if (m === undefined) {
        skipped.push({
          id,
          reason: 'torn: its manifest is missing (the write did not finish, or it was removed)',
        });
        continue;
      }
      if ('unreadable' in m) {
        skipped.push({ id, reason: m.unreadable });
        continue;
      }
      try {
        const snapshot = await this.restore(m);
        this.head = m;
        return { id, snapshot, skipped };
      } catch (e) {
        if (!(e instanceof CorruptCheckpointError)) throw e;
        skipped.push({ id, reason: e.message });
      }
    }
    if (manifests.size === 0) return undefined;
    throw new Error(
      `no checkpoint in ${this.dir} can be restored: ${skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')}`,
    );
  }

  /** Reads and verifies checkpoint `m`'s chain and operators; throws CorruptCheckpointError. */
  private async restore(m: Manifest): Promise<JobSnapshot> {
    const { checksum, ...body } = m;
    if (checksumOf(body) !== checksum) {
      throw new CorruptCheckpointError('corrupt: its manifest does not match its checksum');
    }
    const merge = new ChainMerge();
    for (const segment of m.chain) for (const table of segment.tables) merge.declare(table);
    const whose = (id: number) =>
      id === m.id ? 'its keyed state' : `the keyed state of checkpoint ${id} it builds on`;
    // The incrementals are verified first but only their keys read, so that the base's entries
    // those touch are found while the base is decoded; their values are decoded after the base
    // (see ChainMerge for why in that order).
    const [base, ...incrementals] = m.chain;
    const held: Uint8Array[] = [];
    for (const segment of incrementals) {
      await this.readRecords('d', segment.id, segment, whose(segment.id), (d, kind, record) => {
        merge.noteKeys(d, kind, d.string());
        held.push(record);
      });
    }
    await this.readRecords('d', base!.id, base!, whose(base!.id), (d, kind) => {
      merge.applyBase(d, kind, d.string());
    });
    for (const record of held) {
      const d = new Decoder(record);
      const kind = d.byte();
      merge.applyChanges(d, kind, d.string());
    }
    const operators: Record<string, { watermark: number | null; state: unknown }> = {};
    await this.readRecords('o', m.id, m.operators, 'its operator state', (d, kind) => {
      if (kind !== RECORD_OPERATOR) throw new RangeError(`record kind ${kind} among operator state`);
      const step = d.string();
      const watermark = d.value() as number | null;
      operators[step] = { watermark, state: d.value() };
    });
    return {
      job: m.job,
      operators,
      keyed: { incremental: false, tables: merge.tables() },
      positions: m.positions,
    };
  }

  /**
   * Reads checkpoint `id`'s records under `prefix`, hashing each and decoding it with `decode`,
   * and checks count and hash against `expected`. Decoding runs while the next records are read.
   */
  private async readRecords(
    prefix: 'd' | 'o',
    id: number,
    expected: SegmentDigest,
    whose: string,
    decode: (d: Decoder, kind: number, record: Uint8Array) => void,
  ): Promise<void> {
    const hash = createHash('sha256');
    let records = 0;
    let failure: unknown;
    const it = this.db.iterator({ ...rangeOf(prefix, id), highWaterMarkBytes: BATCH_BYTES });
    try {
      let next = it.nextv(READ_RECORDS);
      for (;;) {
        const batch = await next;
        if (batch.length === 0) break;
        next = it.nextv(READ_RECORDS);
        for (const [key, value] of batch) {
          hashRecord(hash, key, value);
          records++;
          if (failure !== undefined) continue;
          try {
            const d = new Decoder(value);
            decode(d, d.byte(), value);
            if (!d.done) throw new RangeError('trailing bytes');
          } catch (e) {
            failure = e; // reported below, after the checksum says whether the bytes changed
          }
        }
      }
    } finally {
      await it.close();
    }
    if (records !== expected.records) {
      throw new CorruptCheckpointError(
        `corrupt: ${whose} has ${records} records where its manifest lists ${expected.records}`,
      );
    }
    if (hash.digest('hex') !== expected.sha256) {
      throw new CorruptCheckpointError(
        `corrupt: ${whose} does not match its checksum (stored values were altered)`,
      );
    }
    if (failure !== undefined) {
      const why = failure instanceof Error ? failure.message : String(failure);
      throw new CorruptCheckpointError(`corrupt: ${whose} matches its checksum but does not decode (${why})`);
    }
  }

  // Copying checkpoints between stores (object-mirror.ts) ------------------------------------------

  /** Whether checkpoint `id` is complete here (its manifest is there). Nothing is verified. */
  hasCheckpoint(id: number): Promise<boolean> {
    return this.exclusive(async () => (await this.db.get(manifestKey(id))) !== undefined);
  }

  /**
   * Checkpoint `id`'s own stored bytes, neither verified nor decoded, for `importCheckpoint` into
   * another store. A restore also reads the checkpoints of its `chain`: copy those too, base first.
   * Throws if `id` has no readable manifest here — never completed, torn, or retired (retention
   * deletes a checkpoint's manifest once it is past `keep`, even while a later one still reads its
   * keyed state, so export each checkpoint while it is among the newest).
   *
   * @example
   * const exported = await source.exportCheckpoint(4);
   * for (const id of exported.chain) {
   *   if (!(await target.hasCheckpoint(id))) await target.importCheckpoint(await source.exportCheckpoint(id));
   * }
   */
  exportCheckpoint(id: number): Promise<ExportedCheckpoint> {
    return this.exclusive(async () => {
      const manifest = await this.db.get(manifestKey(id));
      if (manifest === undefined) {
        const there = [...(await this.readManifests()).keys()].join(', ') || 'none';
        throw new Error(`checkpoint ${id} is not in ${this.dir} (there: ${there})`);
      }
      const m = parseManifest(Buffer.from(manifest).toString('utf8'), id);
      if ('unreadable' in m)
        throw new Error(`checkpoint ${id} in ${this.dir} cannot be exported: ${m.unreadable}`);
      const records: Array<[string, Uint8Array]> = [];
      for (const prefix of ['d', 'o'] as const) {
        const range = { ...rangeOf(prefix, id), highWaterMarkBytes: BATCH_BYTES };
        for await (const [key, value] of this.db.iterator(range)) records.push([key, value]);
      }
      return { id, chain: m.chain.map((s) => s.id), manifest, records };
    });
  }

  /**
   * Writes a checkpoint another store exported, then applies retention as `write()` does. Its
   * records go first and its manifest last, in a batch of its own once they are synced, so an
   * import cut short leaves a torn checkpoint, as a write cut short does. Nothing is verified
   * here beyond the manifest being one of checkpoint `exported.id`: `load()` checks every
   * record against it, and passes over a checkpoint whose bytes changed on the way.
   *
   * Refuses an id that is complete here already, and one whose chain is not here yet (import the
   * chain base first). Raises `nextId` above the id, so this store never reuses it.
   */
  importCheckpoint(exported: ExportedCheckpoint): Promise<void> {
    return this.exclusive(() => this.importNow(exported));
  }

  private async importNow({ id, chain, manifest, records }: ExportedCheckpoint): Promise<void> {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`checkpoint id must be a safe integer ≥ 0, got ${id}`);
    }
    const cannot = `cannot import checkpoint ${id} into ${this.dir}`;
    const manifests = await this.readManifests();
    if (manifests.has(id)) throw new Error(`${cannot}: it is there already`);
    const m = parseManifest(Buffer.from(manifest).toString('utf8'), id);
    if ('unreadable' in m) throw new Error(`${cannot}: ${m.unreadable}`);
    const listed = m.chain.map((s) => s.id);
    if (listed.join() !== chain.join()) {
      throw new Error(
        `${cannot}: its manifest lists the chain ${listed.join(', ')}, not ${chain.join(', ')}`,
      );
    }
    const own = [rangeOf('d', id), rangeOf('o', id)];
    for (const [key] of records) {
      if (!own.some((r) => key >= r.gte && key < r.lt)) {
        throw new Error(`${cannot}: record key ${JSON.stringify(key)} is not one of checkpoint ${id}'s`);
      }
    }
    for (const segment of m.chain) {
      if (segment.id === id || segment.records === 0) continue;
      const [any] = await this.db.keys({ ...rangeOf('d', segment.id), limit: 1 }).all();
      if (any === undefined) {
        throw new Error(`${cannot}: checkpoint ${segment.id} it builds on is not here; import it first`);
      }
    }
    // Records already under this id belong to no manifest here: a write or an import cut short,
    // to be replaced. Unless a kept checkpoint's chain reads them: then they are this very
    // checkpoint's keyed state, retired but still read, and rewritten with the same bytes.
    const readByChain = [...manifests.values()].some(
      (k) => !('unreadable' in k) && k.chain.some((s) => s.id === id),
    );
    const clearOwn = async () => {
      if (!readByChain) await this.db.clear(own[0]!);
      await this.db.clear(own[1]!);
    };
    await clearOwn();
    const writer = new BatchWriter(this.db, this.encoders);
    try {
      if (id > this.highest) {
        this.highest = id;
        await writer.put(HIGHEST_KEY, Buffer.from(String(id)));
      }
      for (const [key, value] of records) await writer.put(key, value);
      await writer.finish();
      await this.db.batch([{ type: 'put', key: manifestKey(id), value: manifest }], { sync: true });
    } catch (e) {
      await writer.abandon();
      await clearOwn().catch(() => undefined); // else torn records, which retention deletes
      throw e;
    }
    await this.retain();
  }
}

/**
 * Collects LevelDB batches: records are encoded into one of two encoders while the batch holding
 * the other's records is being written, so encoding overlaps LevelDB's work on its own thread.
 */
class BatchWriter {
  private lastYield = performance.now();
  private current = 0;
  private ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = [];
  private opsBytes = 0;
  private inFlight: Promise<void> | undefined;
  private segment: { hash: Hash; records: number; bytes: number } | undefined;
  /** Bytes put so far, keys and values. */
  bytes = 0;

  constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    private readonly encoders: readonly [Encoder, Encoder],
  ) {
    for (const e of encoders) e.clear();
  }

  /** Where to encode the next record; it changes after a `put` that sends a batch. */
  get encoder(): Encoder {
    return this.encoders[this.current]!;
  }

  startSegment(): { hash: Hash; records: number; bytes: number } {
    this.segment = { hash: createHash('sha256'), records: 0, bytes: 0 };
    return this.segment;
  }

  endSegment(segment: { hash: Hash; records: number; bytes: number }): SegmentDigest {
    this.segment = undefined;
    return { records: segment.records, bytes: segment.bytes, sha256: segment.hash.digest('hex') };
  }

  /**
   * Lets the event loop run once YIELD_MS have passed since it last did: a checkpoint is written
   * in the background while the job processes, and this bounds how long it holds processing up.
   * Encoding may pause mid-record here; nothing else uses the encoder meanwhile.
   */
  async breathe(): Promise<void> {
    if (performance.now() - this.lastYield < YIELD_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }

  /** Adds a put; sends the batch once it is big enough. Await it before encoding the next record. */
  async put(key: string, value: Uint8Array): Promise<void> {
    await this.breathe();
    this.ops.push({ type: 'put', key, value });
    this.bytes += key.length + value.length;
    this.opsBytes += key.length + value.length;
    if (this.segment !== undefined) {
      hashRecord(this.segment.hash, key, value);
      this.segment.records++;
      this.segment.bytes += value.length;
    }
    if (this.opsBytes >= BATCH_BYTES) await this.send();
  }

  private async send(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    this.opsBytes = 0;
    // The other encoder's records are in the batch in flight; once LevelDB has them it is free.
    if (this.inFlight !== undefined) await this.inFlight;
    this.inFlight = this.db.batch(ops, { sync: true });
    // Awaited by the next send() or finish(); until then a failure must not count as unhandled.
    this.inFlight.catch(() => undefined);
    this.current ^= 1;
    this.encoder.clear();
  }

  async finish(): Promise<void> {
    if (this.ops.length > 0) await this.send();
    await this.inFlight;
  }

  /** After a failure: waits for the batch in flight, so nothing is written after this returns. */
  async abandon(): Promise<void> {
    this.ops = [];
    await this.inFlight?.catch(() => undefined);
  }
}

/** Encodes a table's entries into records; read from an iterator, as a capture is read lazily. */
async function writeEntries(
  w: BatchWriter,
  id: number,
  seq: number,
  table: string,
  entries: Iterable<readonly [KeyType, unknown, number]>,
): Promise<{ seq: number; entries: number }> {
  const it = entries[Symbol.iterator]();
  let next = it.next();
  let count = 0;
  while (!next.done) {
    const enc = w.encoder;
    enc.byte(RECORD_ENTRIES);
    enc.string(table);
    while (!next.done && enc.length < RECORD_BYTES) {
      const [key, value, written] = next.value;
      count++;
      enc.value(key);
      enc.number(written);
      try {
        enc.value(value);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new Error(`state "${table}", key ${JSON.stringify(key)}: ${why}`, { cause: e });
      }
      next = it.next();
      // Checked every 256 entries: the first entries of a write can encode 10× slower than the
      // rest (code not yet optimised), and one record of them then took 100–250 ms here.
      if ((count & 255) === 0) await w.breathe();
    }
    await w.put(`d!${pad(id, ID_DIGITS)}!${pad(seq++, SEQ_DIGITS)}`, enc.take());
  }
  return { seq, entries: count };
}

async function writeDeleted(
  w: BatchWriter,
  id: number,
  seq: number,
  table: string,
  deleted: readonly KeyType[],
): Promise<number> {
  const n = deleted.length;
  let i = 0;
  while (i < n) {
    const enc = w.encoder;
    enc.byte(RECORD_DELETED);
    enc.string(table);
    while (i < n && enc.length < RECORD_BYTES) enc.value(deleted[i++]);
    await w.put(`d!${pad(id, ID_DIGITS)}!${pad(seq++, SEQ_DIGITS)}`, enc.take());
  }
  return seq;
}

/** Key and value both, so that a record moved to another key does not verify either. */
function hashRecord(hash: Hash, key: string, value: Uint8Array): void {
  hash.update(`${key} ${value.length}\n`);
  hash.update(value);
}

const DELETED = Symbol('deleted');

/**
 * A chain's keyed state, merged, in three steps:
 *   1. `noteKeys`: the keys each incremental touches (changed or deleted), values skipped;
 *   2. `applyBase`: the base's entries, decoded into arrays in their order, noting where a
 *      touched key sits as it goes by;
 *   3. `applyChanges`: the incrementals' changes, in chain order so a key's latest change wins,
 *      patched in at those places by `tables()`; keys the base does not hold are appended.
 * So a million-entry base is neither put in a map nor walked again for a few thousand changes.
 *
 * The incrementals' values are decoded after the base, not before it: decoding them first made
 * V8 stop allocating the base's objects straight into the old generation (measured: 110–150
 * young-generation collections taking 1.6–2.5 s per restore, against ~50 taking ~0.7 s).
 */
class ChainMerge {
  private readonly base = new Map<string, Entry[]>();
  private readonly touched = new Map<string, Set<KeyType>>();
  /** Per table, where touched keys sit in the base's entries. */
  private readonly found = new Map<string, number[]>();
  private readonly changes = new Map<string, Map<KeyType, Entry | typeof DELETED>>();

  declare(table: string): void {
    if (!this.base.has(table)) this.base.set(table, []);
  }

  noteKeys(d: Decoder, kind: number, table: string): void {
    this.declare(table);
    let keys = this.touched.get(table);
    if (keys === undefined) {
      keys = new Set();
      this.touched.set(table, keys);
    }
    if (kind === RECORD_ENTRIES) {
      while (!d.done) {
        keys.add(d.value() as KeyType);
        d.skip(); // written
        d.skip(); // value
      }
    } else if (kind === RECORD_DELETED) {
      while (!d.done) keys.add(d.value() as KeyType);
    } else {
      throw new RangeError(`record kind ${kind} among keyed state`);
    }
  }

  applyBase(d: Decoder, kind: number, table: string): void {
    if (kind !== RECORD_ENTRIES) throw new RangeError(`record kind ${kind} in a full checkpoint`);
    this.declare(table);
    const entries = this.base.get(table)!;
    const touched = this.touched.get(table);
    if (touched === undefined) {
      while (!d.done) {
        const key = d.value() as KeyType;
        const written = d.value() as number;
        entries.push([key, d.value(), written]);
      }
      return;
    }
    let found = this.found.get(table);
    if (found === undefined) {
      found = [];
      this.found.set(table, found);
    }
    while (!d.done) {
      const key = d.value() as KeyType;
      const written = d.value() as number;
      if (touched.has(key)) found.push(entries.length);
      entries.push([key, d.value(), written]);
    }
  }

  applyChanges(d: Decoder, kind: number, table: string): void {
    let changes = this.changes.get(table);
    if (changes === undefined) {
      changes = new Map();
      this.changes.set(table, changes);
    }
    if (kind === RECORD_ENTRIES) {
      while (!d.done) {
        const key = d.value() as KeyType;
        const written = d.value() as number;
        changes.set(key, [key, d.value(), written]);
      }
    } else if (kind === RECORD_DELETED) {
      while (!d.done) changes.set(d.value() as KeyType, DELETED);
    } else {
      throw new RangeError(`record kind ${kind} among keyed state`);
    }
  }

  tables(): Record<string, TableSnapshot> {
    const out: Record<string, TableSnapshot> = {};
    for (const [table, entries] of this.base) {
      const changes = this.changes.get(table);
      if (changes !== undefined && changes.size > 0) {
        let deleted = 0;
        for (const i of this.found.get(table) ?? []) {
          const key = entries[i]![0];
          const change = changes.get(key)!;
          if (change === DELETED) {
            entries[i] = GONE;
            deleted++;
          } else entries[i] = change;
          changes.delete(key); // what is left at the end is new since the base
        }
        if (deleted > 0) {
          let kept = 0;
          for (let i = 0; i < entries.length; i++) if (entries[i] !== GONE) entries[kept++] = entries[i]!;
          entries.length = kept;
        }
        for (const change of changes.values()) if (change !== DELETED) entries.push(change);
      }
      out[table] = { entries, deleted: [] };
    }
    return out;
  }
}

/** Marks a base entry deleted by the chain until the array is compacted. */
const GONE: Entry = [Number.NaN, undefined, 0];

function checksumOf(body: ManifestBody): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

function parseManifest(text: string, id: number): Manifest | Unreadable {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    return { unreadable: `torn: its manifest is not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (m === null || typeof m !== 'object' || m.format !== FORMAT || m.id !== id || !Array.isArray(m.chain)) {
    return { unreadable: `torn: its manifest is not a format-${FORMAT} manifest of checkpoint ${id}` };
  }
  return m;
}

function infoOf(m: Manifest): CheckpointInfo {
  return {
    id: m.id,
    job: m.job,
    createdAt: m.createdAt,
    bytes: m.bytes,
    keys: m.keys,
    incremental: m.chain.length > 1,
    base: m.chain[0]!.id,
    chainBytes: m.chain.reduce((sum, s) => sum + s.bytes, 0),
  };
}
