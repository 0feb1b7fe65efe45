/**
 * `scout run --state-dir`: a live run stopped and started again with the same arguments resumes
 * from its last checkpoint — the generated chat continues where the checkpoint was, and the
 * output file has every (channel, bucket) exactly once, with no gap, across the two runs. The
 * runs are real child processes; they stop on `--for`, and nothing asserted depends on how much
 * each got done in that time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

interface Bucket {
  broadcaster_login: string;
  bucket_start: number;
}

it('scout run --state-dir resumes a stopped run without losing or repeating output', async () => {
  const work = mkdtempSync(join(tmpdir(), 'run-state-'));
  const out = join(work, 'activity.jsonl');
  const args = [join(root, 'bin/scout.mjs'), 'run', 'chat-activity', '--channels', '4', '--speed', '1000'];
  args.push(
    '--for',
    '2s',
    '--state-dir',
    join(work, 'state'),
    '--checkpoint-interval',
    '100ms',
    '--out',
    out,
  );
  const first = await run(process.execPath, args, { cwd: root });
  assert.doesNotMatch(first.stderr, /restoring/);
  const afterFirst = readFileSync(out, 'utf8').split('\n').length - 1;

  const second = await run(process.execPath, args, { cwd: root });
  assert.match(second.stderr, /^scout: restoring checkpoint \d+ of chat-activity from /m);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  const rows = lines.map((l) => JSON.parse(l) as Bucket);
  assert.ok(
    rows.length > afterFirst,
    `the second run added nothing (${rows.length} rows, ${afterFirst} before)`,
  );

  const byChannel = new Map<string, number[]>();
  for (const r of rows)
    byChannel.set(r.broadcaster_login, [...(byChannel.get(r.broadcaster_login) ?? []), r.bucket_start]);
  assert.equal(byChannel.size, 4);
  for (const [channel, starts] of byChannel) {
    for (let i = 1; i < starts.length; i++) {
      assert.equal(
        starts[i]! - starts[i - 1]!,
        5_000,
        `${channel}: bucket ${i} repeats or skips (${starts[i - 1]} → ${starts[i]})`,
      );
    }
  }
});

it('scout run refuses a state folder of another job, and --checkpoint-interval without --state-dir', async () => {
  const work = mkdtempSync(join(tmpdir(), 'run-state-'));
  const state = join(work, 'state');
  const base = [join(root, 'bin/scout.mjs'), 'run', '--channels', '2', '--speed', '1000', '--for', '300ms'];
  await run(
    process.execPath,
    [
      ...base,
      'chat-activity',
      '--state-dir',
      state,
      '--checkpoint-interval',
      '10ms',
      '--out',
      join(work, 'a.jsonl'),
    ],
    { cwd: root },
  );
  const other = await run(
    process.execPath,
    [...base, 'highlights', '--state-dir', state, '--out', join(work, 'b.jsonl')],
    {
      cwd: root,
    },
  ).then(
    () => assert.fail('ran on another job’s state'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(other.code, 1);
  assert.match(
    other.stderr,
    /^scout: .* holds state of job "chat-activity", not "highlights"; use another --state-dir, or --ignore-state to start empty\n$/,
  );

  const usage = await run(process.execPath, [...base, 'chat-activity', '--checkpoint-interval', '1s'], {
    cwd: root,
  }).then(
    () => assert.fail('accepted --checkpoint-interval alone'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr, 'scout: --checkpoint-interval needs --state-dir\n');

  const url = await run(
    process.execPath,
    [...base, 'chat-activity', '--state-dir', state, '--checkpoint-store', 'ftp://x'],
    { cwd: root },
  ).then(
    () => assert.fail('accepted an ftp:// checkpoint store'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(url.code, 2);
  assert.equal(url.stderr, 'scout: --checkpoint-store must look like s3://bucket/prefix, got "ftp://x"\n');
});
