/**
 * The checkpoint mirror against a real MinIO server (`scripts/services up minio`, or TEST_S3_*),
 * in a bucket of this file's own; each test works under a prefix of its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createTestBucket, type TestBucket } from '../../test/services.ts';
import type { JobSnapshot } from '../runtime/runtime.ts';
import type { BackendSnapshot, TableSnapshot } from '../state/backend.ts';
import { LevelCheckpointStore, type LevelCheckpointStoreOptions } from './level-store.ts';
import { S3CheckpointMirror } from './object-mirror.ts';

let bucket: TestBucket;
before(async () => {
  bucket = await createTestBucket();
});
after(() => bucket?.drop());

const stores: LevelCheckpointStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openStore(options: LevelCheckpointStoreOptions = {}): Promise<LevelCheckpointStore> {
  const dir = mkdtempSync(join(tmpdir(), 'scout-object-mirror-'));
  dirs.push(dir);
  const store = await LevelCheckpointStore.open(dir, options);
  stores.push(store);
  return store;
}

function openMirror(prefix: string): Promise<S3CheckpointMirror> {
  return S3CheckpointMirror.open(`s3://${bucket.name}${prefix ? `/${prefix}` : ''}`, { env: bucket.env });
}

function job(id: number, tables: Record<string, Partial<TableSnapshot>>, incremental: boolean): JobSnapshot {
  const keyed: BackendSnapshot = {
    incremental,
    tables: Object.fromEntries(
      Object.entries(tables).map(([name, t]) => [
        name,
        { entries: t.entries ?? [], deleted: t.deleted ?? [] },
      ]),
    ),
  };
  return {
    job: 'highlights',
    operators: { window: { watermark: 1_000 * id, state: { open: [id, `w${id}`] } } },
    keyed,
    positions: { chat: { '0': 100 * id } },
  };
}

const COUNTS = 'count/per-channel';
const NAMES = 'names/by-id';

/** Checkpoint `id` of a job whose chain restarts at every multiple of `fullEvery`. */
function checkpointOf(id: number, fullEvery = 1_000): JobSnapshot {
  if ((id - 1) % fullEvery === 0) {
    const entries = Array.from({ length: 300 }, (_, i) => [`channel-${i}`, { n: i, id }, id] as const);
    return job(id, { [COUNTS]: { entries }, [NAMES]: { entries: [[1, 'one', 0]] } }, false);
  }
  // Each incremental changes one key, deletes another and adds a third.
  return job(
    id,
    {
      [COUNTS]: {
        entries: [
          [`channel-${id}`, { n: -id, id }, id],
          [`new-${id}`, { n: id }, id],
        ],
        deleted: [`channel-${id + 100}`],
      },
      [NAMES]: { deleted: id === 2 ? [1] : [] },
    },
    true,
  );
}

/** Writes checkpoints `ids` to `store` in order, each uploaded right after, as the CLI does. */
async function writeAndUpload(
  store: LevelCheckpointStore,
  mirror: S3CheckpointMirror,
  ids: readonly number[],
  fullEvery?: number,
): Promise<void> {
  for (const id of ids) {
    await store.write(id, checkpointOf(id, fullEvery), id);
    const result = await mirror.upload(store, id);
    assert.deepStrictEqual(result.uploaded, [id]);
    assert.ok(result.bytes > 0);
  }
}

/** The bucket's object names under `prefix/`, without it. */
async function objectsUnder(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of bucket.client.listObjectsV2(bucket.name, `${prefix}/`, true)) {
    names.push((item as { name: string }).name.slice(prefix.length + 1));
  }
  return names.sort();
}

const objectName = (prefix: string, id: number, part: string) =>
  `${prefix}/${String(id).padStart(16, '0')}/${part}`;

async function getObject(name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await bucket.client.getObject(bucket.name, name)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function putObject(name: string, body: Buffer): Promise<void> {
  await bucket.client.putObject(bucket.name, name, body, body.length);
}

describe('S3CheckpointMirror on MinIO', () => {
  it('uploads a full checkpoint and two incrementals, and an empty store restores the newest exactly', async () => {
    const mirror = await openMirror('restore');
    const a = await openStore({ keep: 10 });
    await writeAndUpload(a, mirror, [1, 2, 3]);
    assert.deepStrictEqual(await mirror.list(), [1, 2, 3]);
    const pad = (id: number) => String(id).padStart(16, '0');
    assert.deepStrictEqual(
      await objectsUnder('restore'),
      [1, 2, 3].flatMap((id) => ['chain.json', 'manifest', 'records'].map((part) => `${pad(id)}/${part}`)),
    );
    assert.deepStrictEqual(JSON.parse((await getObject(objectName('restore', 3, 'chain.json'))).toString()), {
      id: 3,
      chain: [1, 2, 3],
    });
    assert.deepStrictEqual(await mirror.upload(a, 3), { bytes: 0, uploaded: [] });

    const b = await openStore();
    assert.deepStrictEqual(await mirror.restoreInto(b), { id: 3, imported: [1, 2, 3], notes: [] });
    const want = await a.load();
    const got = await b.load();
    assert.equal(got?.id, 3);
    assert.deepStrictEqual(got, want);
    // What the chain did, so that the comparison above compares something.
    const counts = new Map(got.snapshot.keyed.tables[COUNTS]!.entries.map(([k, v]) => [k, v]));
    assert.equal(counts.size, 300 + 2 - 2);
    assert.deepStrictEqual(counts.get('channel-3'), { n: -3, id: 3 });
    assert.equal(counts.has('channel-102'), false);
    assert.deepStrictEqual(got.snapshot.keyed.tables[NAMES]!.entries, []);
    assert.equal(b.nextId, 4);

    // Nothing newer remotely: nothing to import.
    const again = await mirror.restoreInto(b);
    assert.equal(again?.id, 3);
    assert.deepStrictEqual(again.imported, []);
    assert.match(again.notes[0]!, /the local store has checkpoint 3, as new as any in s3:\/\/.*\/restore/);
    // An empty prefix holds nothing.
    assert.equal(await (await openMirror('nothing-here')).restoreInto(await openStore()), undefined);
  });

  it('keeps what the store keeps and the chains those read, deletes the rest, and the newest still restores', async () => {
    const mirror = await openMirror('retain');
    const a = await openStore({ keep: 2 });
    const retain = async () => mirror.retain((await a.list()).map((c) => c.id));
    // A full checkpoint every third: 1 full, 2–3 on it; 4 full, 5 on it.
    for (const id of [1, 2, 3]) {
      await writeAndUpload(a, mirror, [id], 3);
      assert.deepStrictEqual(await retain(), []); // 3's chain reads 1 and 2
    }
    await writeAndUpload(a, mirror, [4], 3);
    assert.deepStrictEqual(await retain(), []); // the store keeps 3 and 4
    await writeAndUpload(a, mirror, [5], 3);
    assert.deepStrictEqual(await retain(), [1, 2, 3]);
    assert.deepStrictEqual(await mirror.list(), [4, 5]);
    assert.deepStrictEqual(
      [...new Set((await objectsUnder('retain')).map((n) => Number(n.split('/')[0])))],
      [4, 5],
    );

    // Ids the bucket does not hold never empty it.
    assert.deepStrictEqual(await mirror.retain([]), []);
    assert.deepStrictEqual(await mirror.retain([99]), []);
    assert.deepStrictEqual(await mirror.list(), [4, 5]);

    const b = await openStore({ keep: 2 });
    const restored = await mirror.restoreInto(b);
    assert.deepStrictEqual(restored, { id: 5, imported: [4, 5], notes: [] });
    assert.deepStrictEqual(await b.load(), await a.load());
  });

  it('ignores a checkpoint whose upload was cut short, and retention deletes it', async () => {
    const mirror = await openMirror('torn');
    const a = await openStore({ keep: 2 });
    await writeAndUpload(a, mirror, [1, 2], 3);
    await writeAndUpload(a, mirror, [3], 3);
    // Cut short before its manifest: records and chain are there, the manifest is not.
    await bucket.client.removeObject(bucket.name, objectName('torn', 3, 'manifest'));
    assert.deepStrictEqual(await mirror.list(), [1, 2]);

    const b = await openStore();
    assert.deepStrictEqual(await mirror.restoreInto(b), { id: 2, imported: [1, 2], notes: [] });
    const loaded = await b.load();
    assert.equal(loaded?.id, 2);
    assert.deepStrictEqual(loaded.snapshot, (await a.loadId(2)).snapshot);

    // 4 starts a new chain; the store keeps 3 and 4, the bucket has only 4 of those complete.
    await writeAndUpload(a, mirror, [4], 3);
    assert.deepStrictEqual(await mirror.retain((await a.list()).map((c) => c.id)), [1, 2, 3]);
    assert.deepStrictEqual(await objectsUnder('torn'), [
      `${'4'.padStart(16, '0')}/chain.json`,
      `${'4'.padStart(16, '0')}/manifest`,
      `${'4'.padStart(16, '0')}/records`,
    ]);
  });

  it('uploads the checkpoints of a chain an earlier upload missed, and says when one is gone', async () => {
    const mirror = await openMirror('catch-up');
    const a = await openStore({ keep: 10 });
    await a.write(1, checkpointOf(1), 1); // its upload failed, say
    await a.write(2, checkpointOf(2), 2);
    const result = await mirror.upload(a, 2);
    assert.deepStrictEqual(result.uploaded, [1, 2]);
    assert.deepStrictEqual(await mirror.list(), [1, 2]);
    const b = await openStore();
    assert.equal((await mirror.restoreInto(b))?.id, 2);
    assert.deepStrictEqual(await b.load(), await a.load());

    // With keep: 1, checkpoint 1 is retired from the store as soon as 2 is written.
    const lost = await openMirror('catch-up-lost');
    const c = await openStore({ keep: 1 });
    await c.write(1, checkpointOf(1), 1);
    await c.write(2, checkpointOf(2), 2);
    const error = await lost.upload(c, 2).then(
      () => assert.fail('an upload that cannot be restored succeeded'),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      /^cannot upload checkpoint 2 to s3:\/\/.*\/catch-up-lost: checkpoint 1, which it builds on, is neither there nor complete in the local store any more/,
    );
    assert.equal(error.message.includes('\n'), false);
    assert.deepStrictEqual(await lost.list(), []);
  });

  it('detects a records object whose bytes changed, when the restored store loads', async () => {
    const mirror = await openMirror('corrupt-bytes');
    const a = await openStore({ keep: 10 });
    await writeAndUpload(a, mirror, [1, 2, 3]);
    // A byte in the first record's value (the `d!` records come first): the framing still reads.
    const name = objectName('corrupt-bytes', 3, 'records');
    const records = await getObject(name);
    const keyLength = records.readUInt32BE(0);
    records[4 + keyLength + 4 + 5]! ^= 0x10;
    await putObject(name, records);

    const b = await openStore({ keep: 10 });
    assert.deepStrictEqual(await mirror.restoreInto(b), { id: 3, imported: [1, 2, 3], notes: [] });
    const loaded = await b.load();
    assert.equal(loaded?.id, 2);
    assert.deepStrictEqual(loaded.snapshot, (await a.loadId(2)).snapshot);
    assert.deepStrictEqual(
      loaded.skipped.map((s) => s.id),
      [3],
    );
    assert.match(loaded.skipped[0]!.reason, /^corrupt: its keyed state does not match its checksum/);
  });

  it('passes over a newest checkpoint whose objects cannot be read, for the one before', async () => {
    const mirror = await openMirror('corrupt-frame');
    const a = await openStore({ keep: 10 });
    await writeAndUpload(a, mirror, [1, 2, 3], 2); // 1 full, 2 on it; 3 full
    const name = objectName('corrupt-frame', 3, 'records');
    const records = await getObject(name);
    await putObject(name, records.subarray(0, records.length - 3));

    const b = await openStore({ keep: 10 });
    const restored = await mirror.restoreInto(b);
    assert.equal(restored?.id, 2);
    assert.deepStrictEqual(restored.imported, [1, 2]);
    assert.equal(restored.notes.length, 1);
    assert.match(
      restored.notes[0]!,
      /^checkpoint 3 in s3:\/\/.*\/corrupt-frame passed over: corrupt-frame\/0000000000000003\/records is cut short or garbled/,
    );
    assert.deepStrictEqual(await b.load(), await a.loadId(2));

    // Nothing restorable at all: an error naming each reason, on one line.
    await bucket.client.removeObject(bucket.name, objectName('corrupt-frame', 1, 'chain.json'));
    const error = await mirror.restoreInto(await openStore()).then(
      () => assert.fail('restored from a bucket with nothing restorable'),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      /^no checkpoint in s3:\/\/.*\/corrupt-frame can be restored: checkpoint 3 .*; checkpoint 2 .*; checkpoint 1 /,
    );
    assert.equal(error.message.includes('\n'), false);
  });

  it('works at the root of the bucket, beside other prefixes, which it leaves alone', async () => {
    const beside = await openMirror('beside');
    await writeAndUpload(await openStore(), beside, [1]);
    const mirror = await openMirror('');
    const a = await openStore();
    await writeAndUpload(a, mirror, [7], 1);
    assert.deepStrictEqual(await mirror.list(), [7]);
    assert.deepStrictEqual(await mirror.retain([7]), []);
    const b = await openStore();
    assert.equal((await mirror.restoreInto(b))?.id, 7);
    assert.deepStrictEqual(await b.load(), await a.load());
    assert.deepStrictEqual(await beside.list(), [1]);
    assert.equal((await objectsUnder('beside')).length, 3);
  });

  it('says, on one line, when the URL is wrong, the bucket missing, the server unreachable or the key wrong', async () => {
    const oneLine = (pattern: RegExp) => (e: Error) => {
      assert.match(e.message, pattern);
      assert.equal(e.message.includes('\n'), false, e.message);
      return true;
    };
    const endpoint = bucket.env.SCOUT_S3_ENDPOINT!;
    const quoted = endpoint.replace(/[.]/g, '\\.');
    await assert.rejects(
      S3CheckpointMirror.open('s3://scout-no-such-bucket-here/job', { env: bucket.env }),
      oneLine(
        new RegExp(
          `^cannot open s3://scout-no-such-bucket-here/job at ${quoted}: bucket "scout-no-such-bucket-here" does not exist$`,
        ),
      ),
    );
    await assert.rejects(
      S3CheckpointMirror.open(`s3://${bucket.name}/job`, {
        env: { ...bucket.env, SCOUT_S3_ENDPOINT: 'http://127.0.0.1:1' },
      }),
      oneLine(/^cannot open s3:\/\/scout-test-\w+\/job at http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/),
    );
    await assert.rejects(
      S3CheckpointMirror.open(`s3://${bucket.name}/job`, {
        env: { ...bucket.env, SCOUT_S3_SECRET_KEY: 'not-the-secret' },
      }),
      oneLine(new RegExp(`^cannot open s3://scout-test-\\w+/job at ${quoted}: .*\\(AccessDenied\\)$`)),
    );
    await assert.rejects(
      S3CheckpointMirror.open(`s3:/${bucket.name}`, { env: bucket.env }),
      oneLine(/^--checkpoint-store must look like s3:\/\/bucket\/prefix, got "s3:\/scout-test-\w+"$/),
    );
  });
});
