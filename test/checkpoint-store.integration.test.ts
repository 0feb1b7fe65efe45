/**
 * `--checkpoint-store s3://…` against a real MinIO server (scripts/services): a replay copies its
 * checkpoints there; on "another machine" — an empty state folder — the same command starts from
 * the newest copy instead of from the beginning, and finishes with the uninterrupted output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { LevelCheckpointStore } from '../pipeline/checkpoint/level-store.ts';
import { createTestBucket } from './services.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const golden = join(root, 'test/golden/highlights');
const inputs = readdirSync(golden)
  .filter((f) => f.endsWith('.jsonl') && !f.startsWith('expected'))
  .sort()
  .map((f) => join(golden, f));

describe('--checkpoint-store on MinIO', async () => {
  const bucket = await createTestBucket();
  after(() => bucket.drop());

  async function replay(stateDir: string, out: string, extra: string[] = []) {
    const args = [join(root, 'bin/scout.mjs'), 'replay', ...inputs, '--job', 'highlights', '--out', out];
    args.push('--state-dir', stateDir, '--checkpoint-store', `s3://${bucket.name}/highlights`, ...extra);
    return run(process.execPath, args, { cwd: root, env: { ...process.env, ...bucket.env } });
  }

  it('copies checkpoints, and an empty state folder resumes from the newest copy', async () => {
    const work = mkdtempSync(join(tmpdir(), 'checkpoint-store-'));
    const out = join(work, 'out.jsonl');
    const first = await replay(join(work, 'machine-a'), out, ['--checkpoint-interval', '1ms']);
    assert.match(first.stderr, /; [1-9]\d* checkpoints, longest pause/);
    const objects = await bucket.client.listObjectsV2(bucket.name, 'highlights/', true).toArray();
    const remote = objects
      .map((o: { name?: string }) => /\/(\d+)\/manifest$/.exec(o.name ?? '')?.[1])
      .filter((id: string | undefined) => id !== undefined)
      .map(Number);
    const local = await LevelCheckpointStore.open(join(work, 'machine-a'));
    const kept = (await local.list()).map((c) => c.id);
    await local.close();
    assert.ok(kept.length > 0);
    // Everything the local store keeps is there (and any chain member a kept one reads).
    for (const id of kept)
      assert.ok(remote.includes(id), `checkpoint ${id} is not in the bucket (${remote})`);
    assert.equal(Math.max(...remote), Math.max(...kept));

    const second = await replay(join(work, 'machine-b'), out);
    assert.match(
      second.stderr,
      /copied checkpoint \d+ of highlights from s3:\/\/scout-test-[0-9a-f]+\/highlights/,
    );
    assert.match(second.stderr, /restoring checkpoint \d+ of highlights/);
    const replayed = Number(/replayed (\d+) messages/.exec(second.stderr)?.[1]);
    const total = inputs.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length - 1, 0);
    assert.ok(replayed < total, `machine b replayed ${replayed} of ${total}: it started over`);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(golden, 'expected.jsonl'), 'utf8'));
  });

  it('fails in one line when the bucket does not exist', async () => {
    const work = mkdtempSync(join(tmpdir(), 'checkpoint-store-'));
    const args = [join(root, 'bin/scout.mjs'), 'replay', ...inputs, '--job', 'highlights'];
    args.push('--out', join(work, 'o.jsonl'), '--state-dir', join(work, 's'));
    args.push('--checkpoint-store', 's3://no-such-bucket-here/x');
    const failed = await run(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...bucket.env },
    }).then(
      () => assert.fail('the replay ran without its checkpoint store'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /^scout: cannot open s3:\/\/no-such-bucket-here\/x at .*: bucket "no-such-bucket-here" does not exist\n$/,
    );
  });
});
