import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { channelProfiles, generateChat, labelsOf } from './generate.ts';
import { type WriteProgress, writeGeneratedChat } from './write.ts';

const options = { channels: 4, hours: 0.75, seed: 31 };
const KEYS = ['broadcaster_login', 'ts', 'user', 'text'];

describe('writeGeneratedChat', async () => {
  const root = await mkdtemp(join(tmpdir(), 'synthetic-write-'));
  after(() => rm(root, { recursive: true, force: true }));
  const expected = [...generateChat(options)];
  const labels = labelsOf(options);
  const logins = channelProfiles(options).map((p) => p.login);

  async function readLines(path: string, gzip: boolean): Promise<string[]> {
    const bytes = await readFile(path);
    const text = (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
    assert.ok(text.endsWith('\n'));
    return text.slice(0, -1).split('\n');
  }

  for (const gzip of [false, true]) {
    it(`writes the dataset format exactly${gzip ? ', gzipped' : ''}, with labels and a manifest`, async () => {
      const outDir = join(root, gzip ? 'gz' : 'plain');
      const progress: WriteProgress[] = [];
      const summary = await writeGeneratedChat({
        ...options,
        outDir,
        gzip,
        onProgress: (p) => progress.push(p),
      });

      const ext = gzip ? '.jsonl.gz' : '.jsonl';
      const names = logins.flatMap((l) => [l + ext, l + '.labels.json']);
      assert.deepEqual((await readdir(outDir)).sort(), [...names, 'manifest.json'].sort());
      assert.deepEqual(summary.files, [...names.map((n) => join(outDir, n)), join(outDir, 'manifest.json')]);
      assert.equal(summary.messages, expected.length);
      assert.equal(summary.labels, [...labels.values()].flat().length);

      for (const login of logins) {
        const lines = await readLines(join(outDir, login + ext), gzip);
        const parsed = lines.map((line) => JSON.parse(line) as ChatLine);
        for (const [i, record] of parsed.entries()) {
          assert.deepEqual(Object.keys(record), KEYS);
          assert.equal(lines[i], JSON.stringify(record), 'compact, no extra whitespace');
          assert.ok(i === 0 || record.ts >= (parsed[i - 1] as ChatLine).ts, 'sorted by ts');
        }
        assert.deepEqual(
          parsed,
          expected.filter((l) => l.broadcaster_login === login),
        );
        const written = JSON.parse(await readFile(join(outDir, login + '.labels.json'), 'utf8'));
        assert.ok(Array.isArray(written));
        assert.deepEqual(written, labels.get(login));
        for (const label of written) assert.deepEqual(Object.keys(label), ['start_ms', 'end_ms', 'note']);
      }

      const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
      assert.equal(manifest.options.seed, 31);
      assert.equal(manifest.options.durationMs, 0.75 * 3_600_000);
      assert.equal(manifest.gzip, gzip);
      assert.deepEqual(manifest.totals, { messages: summary.messages, labels: summary.labels });
      for (const entry of manifest.channels) {
        assert.equal(entry.messages, expected.filter((l) => l.broadcaster_login === entry.login).length);
        assert.equal(entry.labels, labels.get(entry.login)?.length);
      }

      const last = progress.at(-1);
      assert.deepEqual(last, { messages: expected.length, channelsDone: 4, channels: 4 });
      for (let i = 1; i < progress.length; i++)
        assert.ok((progress[i] as WriteProgress).messages >= (progress[i - 1] as WriteProgress).messages);
    });
  }

  it('writes byte-identical files for the same options', async () => {
    const a = join(root, 'again-a');
    const b = join(root, 'again-b');
    await writeGeneratedChat({ ...options, outDir: a, gzip: true });
    await writeGeneratedChat({ ...options, outDir: b, gzip: true });
    for (const name of await readdir(a))
      assert.deepEqual(await readFile(join(a, name)), await readFile(join(b, name)));
  });

  it('writes an empty labels array when a channel has no bursts', async () => {
    const outDir = join(root, 'quiet');
    await writeGeneratedChat({ ...options, burstsPerHour: 0, outDir });
    assert.equal(await readFile(join(outDir, logins[0] + '.labels.json'), 'utf8'), '[]\n');
  });

  it('refuses an endless run', async () => {
    await assert.rejects(
      writeGeneratedChat({ ...options, hours: Number.POSITIVE_INFINITY, outDir: join(root, 'never') }),
      RangeError,
    );
  });
});
