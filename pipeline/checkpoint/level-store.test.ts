import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ClassicLevel } from 'classic-level';
import type { JobSnapshot } from '../runtime/runtime.ts';
import type { KeyType } from '../state/api.ts';
import { type BackendSnapshot, MemoryStateBackend } from '../state/backend.ts';
import { type ExportedCheckpoint, LevelCheckpointStore } from './level-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scout-level-store-'));
  dirs.push(dir);
  return dir;
}

function job(keyed: BackendSnapshot, tag = 0): JobSnapshot {
  return {
    job: 'highlights',
    operators: {
      source: { watermark: null, state: undefined },
      window: {
        watermark: 1_000 + tag,
        state: { windows: [['k', [[0, 5_000, { n: tag }, false]]]], timers: [4_999] },
      },
    },
    keyed,
    positions: { chat: { '0': 100 + tag, '1': `offset-${tag}` } },
  };
}

/** A table's entries as key → [value, written], so that chains compare regardless of order. */
function byKey(snapshot: JobSnapshot, table: string): Map<KeyType, [unknown, number]> {
  const content = snapshot.keyed.tables[table];
  assert.ok(content, `table ${table} is missing`);
  return new Map(content.entries.map(([k, v, w]) => [k, [v, w]]));
}

/** Every LevelDB key, read with the store closed (LevelDB locks the directory). */
async function rawKeys(dir: string): Promise<string[]> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  const keys = await db.keys().all();
  await db.close();
  return keys;
}

/** Checkpoint ids that have keys under `prefix` ('m', 'd' or 'o'). */
function idsUnder(keys: readonly string[], prefix: string): number[] {
  const ids = new Set(keys.filter((k) => k.startsWith(`${prefix}!`)).map((k) => Number(k.split('!')[1])));
  return [...ids].sort((a, b) => a - b);
}

async function tamper(
  dir: string,
  change: (db: ClassicLevel<string, Uint8Array>) => Promise<void>,
): Promise<void> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  await change(db);
  await db.close();
}

/**
 * Two backends changed in step: `state` is checkpointed (full or incremental), `mirror` only ever
 * gives full snapshots, which are what each checkpoint should restore to.
 */
function twins() {
  const time = { now: 1_000 };
  const clocks = { processingTime: () => time.now, eventTime: () => time.now };
  const state = new MemoryStateBackend(clocks);
  const mirror = new MemoryStateBackend(clocks);
  const tables = [state, mirror].map((b) => ({
    counts: b.table<{ n: number; seen: number[] }>('count', 'per-channel', { ttlMs: 60_000 }),
    names: b.table<string>('names', 'by-id'),
  }));
  return {
    state,
    time,
    put(table: 'counts' | 'names', key: KeyType, value: unknown) {
      for (const t of tables)
        (t[table] as { put(k: KeyType, v: unknown): void }).put(key, structuredClone(value));
    },
    delete(table: 'counts' | 'names', key: KeyType) {
      for (const t of tables) t[table].delete(key);
    },
    /** What a checkpoint taken now should restore to. */
    expected: (tag: number) => job(mirror.snapshot(), tag),
  };
}

/** Writes checkpoints 1 (full) … 4 (incrementals) and returns the state each should restore to. */
async function writeChain(store: LevelCheckpointStore): Promise<Map<number, JobSnapshot>> {
  const t = twins();
  const expected = new Map<number, JobSnapshot>();
  const checkpoint = async (id: number, incremental: boolean) => {
    await store.write(id, job(t.state.snapshot({ incremental }), id), t.time.now);
    expected.set(id, t.expected(id));
  };
  for (let i = 0; i < 50; i++) t.put('counts', `channel-${i}`, { n: i, seen: [i, i + 1, i + 2, i + 3] });
  t.put('names', 1, 'one');
  t.put('names', '1', 'the string one');
  await checkpoint(1, false);

  t.time.now = 2_000;
  t.put('counts', 'channel-3', { n: 300, seen: [] });
  t.delete('counts', 'channel-4');
  t.put('names', 2, 'two');
  await checkpoint(2, true);

  t.time.now = 3_000;
  t.put('counts', 'channel-4', { n: 4_000, seen: [4] }); // deleted in 2, back in 3
  t.delete('counts', 'channel-3'); // changed in 2, deleted in 3
  t.delete('names', 1);
  await checkpoint(3, true);

  t.time.now = 4_000;
  t.put('counts', 'channel-50', { n: 50, seen: [50.5] });
  await checkpoint(4, true);
  return expected;
}

function assertSameState(actual: JobSnapshot, expected: JobSnapshot): void {
  assert.equal(actual.keyed.incremental, false);
  assert.deepStrictEqual(Object.keys(actual.keyed.tables).sort(), Object.keys(expected.keyed.tables).sort());
  for (const table of Object.keys(expected.keyed.tables)) {
    assert.deepStrictEqual(byKey(actual, table), byKey(expected, table), `table ${table}`);
  }
  assert.deepStrictEqual(actual.operators, expected.operators);
  assert.deepStrictEqual(actual.positions, expected.positions);
  assert.equal(actual.job, expected.job);
}

describe('LevelCheckpointStore', () => {
  it('round-trips a full checkpoint exactly: key types, TTL times, empty tables, operators, positions', async () => {
    const dir = tempDir();
    const snapshot = job({
      incremental: false,
      tables: {
        'count/per-channel': {
          entries: [
            [1, { n: 1 }, 1_763_661_600_123],
            ['1', { n: 'string key' }, 5],
            ['unaged', [1, 2, 3, 4], Number.NEGATIVE_INFINITY],
            [2.5, null, 0],
            ['ünïcödé ✓', { nested: { list: [0.5, 'x', null, true] } }, 7],
          ],
          deleted: [],
        },
        'empty/table': { entries: [], deleted: [] },
      },
    });
    const store = await LevelCheckpointStore.open(dir);
    const info = await store.write(7, snapshot, 123_456);
    assert.deepStrictEqual(
      { ...info, bytes: 0, chainBytes: 0 },
      {
        id: 7,
        job: 'highlights',
        createdAt: 123_456,
        bytes: 0,
        keys: 5,
        incremental: false,
        base: 7,
        chainBytes: 0,
      },
    );
    assert.ok(info.bytes > 0 && info.chainBytes > 0 && info.chainBytes < info.bytes);
    const loaded = await store.load();
    await store.close();
    assert.equal(loaded?.id, 7);
    assert.deepStrictEqual(loaded.skipped, []);
    assert.deepStrictEqual(loaded.snapshot, snapshot);
    const entries = loaded.snapshot.keyed.tables['count/per-channel']!.entries;
    assert.deepStrictEqual(
      entries.map(([k]) => typeof k),
      ['number', 'string', 'string', 'number', 'string'],
    );
  });

  it('restores every checkpoint of an incremental chain to its own state, deletions included', async () => {
    const dir = tempDir();
    const store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const expected = await writeChain(store);
    assert.deepStrictEqual(
      (await store.list()).map((c) => [c.id, c.incremental, c.base]),
      [
        [1, false, 1],
        [2, true, 1],
        [3, true, 1],
        [4, true, 1],
      ],
    );
    for (const [id, want] of expected) {
      const loaded = await store.loadId(id);
      assertSameState(loaded.snapshot, want);
      // What the runtime will do with it: a fresh backend takes the merged snapshot as a full one.
      const { state } = twins();
      state.restore(loaded.snapshot.keyed);
      assert.deepStrictEqual(
        byKey(job(state.snapshot()), 'count/per-channel'),
        byKey(want, 'count/per-channel'),
      );
    }
    const state3 = byKey(expected.get(3)!, 'count/per-channel');
    assert.equal(state3.has('channel-3'), false);
    assert.deepStrictEqual(state3.get('channel-4'), [{ n: 4_000, seen: [4] }, 3_000]);
    assert.deepStrictEqual(byKey(expected.get(2)!, 'names/by-id').get(1), ['one', 0]);
    assert.equal(byKey(expected.get(3)!, 'names/by-id').has(1), false);
    assert.equal((await store.load())?.id, 4);
    await store.close();
  });

  it('restores a table that only an incremental brought, after the tables of its base', async () => {
    const store = await LevelCheckpointStore.open(tempDir());
    const base = { incremental: false, tables: { a: { entries: [['x', 1, 0] as const], deleted: [] } } };
    await store.write(1, job(base), 0);
    const later = { incremental: true, tables: { b: { entries: [[2, 'two', 5] as const], deleted: [] } } };
    await store.write(2, job(later), 0);
    const loaded = await store.load();
    await store.close();
    assert.deepStrictEqual(loaded?.snapshot.keyed, {
      incremental: false,
      tables: { a: { entries: [['x', 1, 0]], deleted: [] }, b: { entries: [[2, 'two', 5]], deleted: [] } },
    });
  });

  it('keeps the newest `keep` checkpoints and deletes what none of their chains reads', async () => {
    const dir = tempDir();
    const t = twins();
    const write = async (id: number, incremental: boolean) => {
      for (let i = 0; i < 200; i++) t.put('counts', `c${(id * 37 + i) % 400}`, { n: id, seen: [id, i] });
      const store = await LevelCheckpointStore.open(dir, { keep: 2 });
      if (incremental) await store.loadId(id - 1);
      await store.write(id, job(t.state.snapshot({ incremental }), id), id);
      const ids = (await store.list()).map((c) => c.id);
      await store.close();
      const keys = await rawKeys(dir);
      return {
        ids,
        keys,
        manifests: idsUnder(keys, 'm'),
        data: idsUnder(keys, 'd'),
        ops: idsUnder(keys, 'o'),
      };
    };
    await write(1, false);
    await write(2, true);
    const third = await write(3, true);
    // 1 and 2 are past `keep`, but 3 is built on them: their keyed state stays, nothing else.
    assert.deepStrictEqual(third.ids, [2, 3]);
    assert.deepStrictEqual(third.manifests, [2, 3]);
    assert.deepStrictEqual(third.data, [1, 2, 3]);
    assert.deepStrictEqual(third.ops, [2, 3]);
    const fourth = await write(4, false);
    assert.deepStrictEqual(
      [fourth.manifests, fourth.data, fourth.ops],
      [
        [3, 4],
        [1, 2, 3, 4],
        [3, 4],
      ],
    );
    const fifth = await write(5, true);
    // 3's chain is no longer kept: 1, 2 and 3 go, and the store is smaller despite 5's records.
    assert.deepStrictEqual(
      [fifth.manifests, fifth.data, fifth.ops],
      [
        [4, 5],
        [4, 5],
        [4, 5],
      ],
    );
    assert.ok(fifth.keys.length < fourth.keys.length, `${fifth.keys.length} keys, was ${fourth.keys.length}`);

    const store = await LevelCheckpointStore.open(dir, { keep: 2 });
    const five = await store.loadId(5);
    assertSameState(five.snapshot, t.expected(5));
    await assert.rejects(store.loadId(3), /checkpoint 3 is not in .* \(there: 4, 5\)/);
    await store.close();
  });

  it('skips a newest checkpoint whose stored state was altered, and says why', async () => {
    const dir = tempDir();
    let store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const expected = await writeChain(store);
    await store.close();
    await tamper(dir, async (db) => {
      const [last] = await db.iterator({ gte: 'd!', lt: 'd"', reverse: true, limit: 1 }).all();
      assert.ok(last);
      const [key, value] = last;
      const altered = Uint8Array.from(value);
      altered[altered.length - 1]! ^= 1;
      assert.ok(key.startsWith(`d!${'4'.padStart(16, '0')}!`));
      await db.put(key, altered);
    });
    store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const loaded = await store.load();
    assert.equal(loaded?.id, 3);
    assertSameState(loaded.snapshot, expected.get(3)!);
    assert.equal(loaded.skipped.length, 1);
    assert.equal(loaded.skipped[0]!.id, 4);
    assert.match(loaded.skipped[0]!.reason, /^corrupt: its keyed state does not match its checksum/);
    const error = await store.loadId(4).then(
      () => assert.fail('a corrupt checkpoint loaded'),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      /^checkpoint 4 in .* cannot be restored: corrupt: its keyed state does not match/,
    );
    assert.equal(error.message.includes('\n'), false);
    await store.close();
  });

  it('skips every checkpoint built on an altered base, and fails when none is left', async () => {
    const dir = tempDir();
    let store = await LevelCheckpointStore.open(dir, { keep: 10 });
    await writeChain(store);
    await store.close();
    await tamper(dir, async (db) => {
      const key = `d!${'1'.padStart(16, '0')}!${'0'.padStart(8, '0')}`;
      const value = await db.get(key);
      assert.ok(value);
      const altered = Uint8Array.from(value);
      altered[10]! ^= 0x40;
      await db.put(key, altered);
    });
    store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const error = await store.load().then(
      () => assert.fail('a chain with a corrupt base loaded'),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      /no checkpoint in .* can be restored: 4: corrupt: the keyed state of checkpoint 1 it builds on/,
    );
    assert.match(error.message, /; 1: corrupt: its keyed state does not match its checksum/);
    await store.close();
  });

  it('treats a checkpoint without a manifest as torn, and never reuses its id', async () => {
    const dir = tempDir();
    let store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const expected = await writeChain(store);
    await store.close();
    await tamper(dir, (db) => db.del(`m!${'4'.padStart(16, '0')}`));
    store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const loaded = await store.load();
    assert.equal(loaded?.id, 3);
    assertSameState(loaded.snapshot, expected.get(3)!);
    assert.deepStrictEqual(
      loaded.skipped.map((s) => s.id),
      [4],
    );
    assert.match(loaded.skipped[0]!.reason, /^torn: its manifest is missing/);
    assert.deepStrictEqual(
      (await store.list()).map((c) => c.id),
      [1, 2, 3],
    );

    await assert.rejects(
      store.write(4, job({ incremental: false, tables: {} }), 0),
      /ids must increase: 4 is not above 4/,
    );
    // Incremental on top of 3, the checkpoint loaded; 4's stray records are cleared away.
    await store.write(
      5,
      job({ incremental: true, tables: { 'names/by-id': { entries: [[9, 'nine', 0]], deleted: [] } } }),
      0,
    );
    const five = await store.loadId(5);
    assert.deepStrictEqual(byKey(five.snapshot, 'names/by-id').get(9), ['nine', 0]);
    assert.deepStrictEqual(
      byKey(five.snapshot, 'count/per-channel'),
      byKey(expected.get(3)!, 'count/per-channel'),
    );
    await store.close();
    assert.deepStrictEqual(idsUnder(await rawKeys(dir), 'd'), [1, 2, 3, 5]);
  });

  it('treats an unreadable manifest as torn', async () => {
    const dir = tempDir();
    let store = await LevelCheckpointStore.open(dir);
    await store.write(
      1,
      job({ incremental: false, tables: { t: { entries: [['a', 1, 0]], deleted: [] } } }),
      0,
    );
    await store.write(
      2,
      job({ incremental: false, tables: { t: { entries: [['a', 2, 0]], deleted: [] } } }),
      0,
    );
    await store.close();
    await tamper(dir, (db) => db.put(`m!${'2'.padStart(16, '0')}`, Buffer.from('{"format":1,"id":2,"ch')));
    store = await LevelCheckpointStore.open(dir);
    const loaded = await store.load();
    assert.equal(loaded?.id, 1);
    assert.deepStrictEqual(loaded.snapshot.keyed.tables.t?.entries, [['a', 1, 0]]);
    assert.match(loaded.skipped[0]!.reason, /^torn: its manifest is not JSON/);
    await store.close();
  });

  it('sees the same checkpoints after reopening', async () => {
    const dir = tempDir();
    let store = await LevelCheckpointStore.open(dir, { keep: 10 });
    const expected = await writeChain(store);
    const before = await store.list();
    await store.close();
    store = await LevelCheckpointStore.open(dir, { keep: 10 });
    assert.deepStrictEqual(await store.list(), before);
    const loaded = await store.load();
    assert.equal(loaded?.id, 4);
    assertSameState(loaded.snapshot, expected.get(4)!);
    await store.close();
  });

  it('refuses ids that do not increase, also after reopening', async () => {
    const dir = tempDir();
    const full = job({ incremental: false, tables: {} });
    let store = await LevelCheckpointStore.open(dir);
    await store.write(2, full, 0);
    await assert.rejects(store.write(2, full, 0), /checkpoint ids must increase: 2 is not above 2/);
    await assert.rejects(store.write(1, full, 0), /checkpoint ids must increase: 1 is not above 2/);
    await assert.rejects(store.write(-1, full, 0), /safe integer ≥ 0/);
    await store.close();
    store = await LevelCheckpointStore.open(dir);
    await assert.rejects(store.write(2, full, 0), /checkpoint ids must increase/);
    await store.write(3, full, 0);
    assert.deepStrictEqual(
      (await store.list()).map((c) => c.id),
      [2, 3],
    );
    await store.close();
  });

  it('refuses an incremental checkpoint with nothing to build on', async () => {
    const store = await LevelCheckpointStore.open(tempDir());
    await assert.rejects(
      store.write(1, job({ incremental: true, tables: {} }), 0),
      /checkpoint 1 is incremental, but no checkpoint was written or loaded/,
    );
    assert.equal(await store.load(), undefined);
    await store.close();
  });

  it('refuses state that is not plain data, naming where it is, and leaves no checkpoint', async () => {
    const store = await LevelCheckpointStore.open(tempDir());
    const bad = job({
      incremental: false,
      tables: {
        t: {
          entries: [
            ['ok', 1, 0],
            ['k', new Map(), 0],
          ],
          deleted: [],
        },
      },
    });
    await assert.rejects(
      store.write(1, bad, 0),
      /^Error: state "t", key "k": checkpointed state must be plain data; found a Map object$/,
    );
    assert.deepStrictEqual(await store.list(), []);
    assert.equal(await store.load(), undefined);
    assert.equal(store.nextId, 2);
    await store.write(
      2,
      job({ incremental: false, tables: { t: { entries: [['ok', 1, 0]], deleted: [] } } }),
      0,
    );
    assert.deepStrictEqual(
      (await store.list()).map((c) => c.id),
      [2],
    );
    await store.close();
  });

  it('writes and verifies state larger than one record and one batch', async () => {
    const dir = tempDir();
    const history = (i: number) => Array.from({ length: 60 }, (_, j) => 1_000 + ((i * 31 + j) % 300));
    const entries: Array<[KeyType, unknown, number]> = [];
    for (let i = 0; i < 40_000; i++)
      entries.push([`channel_${i}`, { next: i, counts: history(i), label: `#${i}` }, i]);
    const snapshot = job({ incremental: false, tables: { 'baseline/history': { entries, deleted: [] } } });
    let store = await LevelCheckpointStore.open(dir);
    const info = await store.write(1, snapshot, 0);
    assert.ok(info.bytes > 9 * 1024 * 1024, `only ${info.bytes} bytes: one batch`);
    assert.deepStrictEqual((await store.load())?.snapshot, snapshot);
    await store.close();
    const records = (await rawKeys(dir)).filter((k) => k.startsWith('d!'));
    assert.ok(records.length > 40, `${records.length} records`);
    await tamper(dir, async (db) => {
      const middle = records[records.length >> 1]!;
      await db.del(middle);
    });
    store = await LevelCheckpointStore.open(dir);
    await assert.rejects(store.loadId(1), /its keyed state has \d+ records where its manifest lists \d+/);
    await store.close();
  });
});

describe('LevelCheckpointStore export and import', () => {
  /** Checkpoints 1 (full) … 4 (incrementals) in a store of their own, and their exports. */
  async function exportedChain(): Promise<{ source: LevelCheckpointStore; exported: ExportedCheckpoint[] }> {
    const source = await LevelCheckpointStore.open(tempDir(), { keep: 10 });
    await writeChain(source);
    const exported: ExportedCheckpoint[] = [];
    for (const id of [1, 2, 3, 4]) exported.push(await source.exportCheckpoint(id));
    return { source, exported };
  }

  it("exports a checkpoint's own records and manifest, and another store imports them to the same state", async () => {
    const { source, exported } = await exportedChain();
    assert.deepStrictEqual(
      exported.map((e) => e.chain),
      [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]],
    );
    for (const e of exported) {
      const own = new RegExp(`^[do]!${String(e.id).padStart(16, '0')}!\\d{8}$`);
      assert.ok(e.records.length > 0);
      for (const [key] of e.records) assert.match(key, own);
      assert.ok(e.records.some(([key]) => key.startsWith('o!')));
      assert.equal(JSON.parse(Buffer.from(e.manifest).toString()).id, e.id);
    }
    const target = await LevelCheckpointStore.open(tempDir(), { keep: 10 });
    assert.equal(await target.hasCheckpoint(1), false);
    for (const e of exported) await target.importCheckpoint(e);
    assert.equal(await target.hasCheckpoint(1), true);
    assert.deepStrictEqual(await target.list(), await source.list());
    for (const id of [1, 2, 3, 4]) {
      assert.deepStrictEqual((await target.loadId(id)).snapshot, (await source.loadId(id)).snapshot);
    }
    const loaded = await target.load();
    assert.equal(loaded?.id, 4);
    assert.deepStrictEqual(loaded.skipped, []);
    assert.equal(target.nextId, 5);
    // An incremental write goes on from the imported chain.
    await target.write(
      5,
      job({ incremental: true, tables: { 'names/by-id': { entries: [[5, 'five', 0]], deleted: [] } } }),
      0,
    );
    assert.deepStrictEqual(byKey((await target.loadId(5)).snapshot, 'names/by-id').get(5), ['five', 0]);
    await source.close();
    await target.close();
  });

  it('passes over an imported checkpoint whose bytes changed on the way, and says why', async () => {
    const { source, exported } = await exportedChain();
    const fourth = exported[3]!;
    const records = fourth.records.map(([key, value], i): [string, Uint8Array] => {
      if (i !== 0) return [key, value];
      assert.ok(key.startsWith('d!'));
      const altered = Uint8Array.from(value);
      altered[altered.length - 1]! ^= 1;
      return [key, altered];
    });
    const target = await LevelCheckpointStore.open(tempDir(), { keep: 10 });
    for (const e of [...exported.slice(0, 3), { ...fourth, records }]) await target.importCheckpoint(e);
    const loaded = await target.load();
    assert.equal(loaded?.id, 3);
    assert.deepStrictEqual(loaded.snapshot, (await source.loadId(3)).snapshot);
    assert.deepStrictEqual(
      loaded.skipped.map((s) => s.id),
      [4],
    );
    assert.match(loaded.skipped[0]!.reason, /^corrupt: its keyed state does not match its checksum/);
    await source.close();
    await target.close();
  });

  it('applies retention on import and never reuses an imported id', async () => {
    const { source, exported } = await exportedChain();
    await source.close();
    const dir = tempDir();
    const target = await LevelCheckpointStore.open(dir, { keep: 2 });
    for (const e of exported) await target.importCheckpoint(e);
    assert.deepStrictEqual(
      (await target.list()).map((c) => c.id),
      [3, 4],
    );
    assert.equal(await target.hasCheckpoint(2), false);
    assert.equal((await target.load())?.id, 4);
    await assert.rejects(
      target.write(4, job({ incremental: false, tables: {} }), 0),
      /checkpoint ids must increase: 4 is not above 4/,
    );
    await target.close();
    const keys = await rawKeys(dir);
    assert.deepStrictEqual(
      [idsUnder(keys, 'm'), idsUnder(keys, 'd'), idsUnder(keys, 'o')],
      [
        [3, 4],
        [1, 2, 3, 4],
        [3, 4],
      ],
    );
    const reopened = await LevelCheckpointStore.open(dir, { keep: 2 });
    assert.equal(reopened.nextId, 5);
    await reopened.close();
  });

  it('refuses what it cannot import or export, naming why', async () => {
    const { source, exported } = await exportedChain();
    const [first, second] = exported as [ExportedCheckpoint, ExportedCheckpoint];
    await assert.rejects(
      source.exportCheckpoint(9),
      /^Error: checkpoint 9 is not in .* \(there: 1, 2, 3, 4\)$/,
    );
    const target = await LevelCheckpointStore.open(tempDir(), { keep: 10 });
    await assert.rejects(
      target.importCheckpoint(second),
      /^Error: cannot import checkpoint 2 into .*: checkpoint 1 it builds on is not here; import it first$/,
    );
    await assert.rejects(
      target.importCheckpoint({ ...first, records: [...first.records, ...second.records] }),
      /cannot import checkpoint 1 into .*: record key "d!0000000000000002!00000000" is not one of checkpoint 1's/,
    );
    await assert.rejects(
      target.importCheckpoint({ ...second, id: 1 }),
      /cannot import checkpoint 1 into .*: torn: its manifest is not a format-1 manifest of checkpoint 1/,
    );
    await assert.rejects(
      target.importCheckpoint({ ...first, chain: [0, 1] }),
      /cannot import checkpoint 1 into .*: its manifest lists the chain 1, not 0, 1/,
    );
    await assert.rejects(
      target.importCheckpoint({ ...first, manifest: first.manifest.subarray(0, 20) }),
      /cannot import checkpoint 1 into .*: torn: its manifest is not JSON/,
    );
    assert.deepStrictEqual(await target.list(), []);
    await target.importCheckpoint(first);
    await assert.rejects(
      target.importCheckpoint(first),
      /cannot import checkpoint 1 into .*: it is there already/,
    );
    assert.deepStrictEqual(
      (await target.list()).map((c) => c.id),
      [1],
    );
    await source.close();
    await target.close();
  });
});
