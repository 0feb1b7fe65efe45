/**
 * `scout replay --store` against the real Postgres server: the highlights job's clips land in the
 * `clips` table, one per detection, and replaying the same chat again doubles nothing (the sink's
 * `ON CONFLICT (clip_id)` with the local clipper's deterministic ids).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../connectors/postgres/database.ts';
import { writeGeneratedChat } from '../connectors/synthetic/write.ts';
import { main } from '../pipeline/cli/main.ts';
import { createTestDatabase, type TestDatabase } from './services.ts';

let database: TestDatabase;
let files: string[] = [];
const previousUrl = process.env.DATABASE_URL;

before(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  const dir = mkdtempSync(join(tmpdir(), 'replay-store-'));
  files = (await writeGeneratedChat({ channels: 4, hours: 0.5, seed: 31, outDir: dir })).files.filter((f) =>
    f.endsWith('.jsonl'),
  );
});

after(async () => {
  if (previousUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = previousUrl;
  await database.drop();
});

async function replay(out: string): Promise<number> {
  let err = '';
  const code = await main(
    ['replay', ...files, '--job', 'highlights', '--store', '--out', out],
    () => {},
    (s) => {
      err += s;
    },
  );
  assert.equal(code, 0, err);
  return code;
}

describe('scout replay --store on Postgres', () => {
  it('stores one clip per detection, and a second replay of the same chat adds none', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'replay-store-out-')), 'detections.jsonl');
    assert.equal(await replay(out), 0);
    const detections = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { detected_at: number; broadcaster_login: string });
    assert.ok(detections.length > 0);
    const db = await openDatabase({ url: database.url });
    try {
      const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM clips'))[0]!.n;
      assert.equal(await count(), detections.length);
      const rows = await db.query<{ clip_id: string; streamer_login: string; detected_at: number }>(
        'SELECT c.clip_id, s.streamer_login, c.detected_at FROM clips c JOIN streamers s USING (broadcaster_id) ORDER BY c.clip_id',
      );
      const expected = detections.map((d) => `local-${d.broadcaster_login}-${d.detected_at}`).sort();
      assert.deepEqual(
        rows.map((r) => r.clip_id),
        expected,
      );
      assert.ok(rows.every((r) => r.clip_id === `local-${r.streamer_login}-${r.detected_at}`));

      assert.equal(await replay(out), 0);
      assert.equal(await count(), detections.length, 'the second replay doubled clips');
    } finally {
      await db.close();
    }
  });
});
