import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LineReader } from './line-reader.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamscout-lines-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(reader: LineReader): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    for (let line = reader.take(); line !== undefined; line = reader.take()) lines.push(line);
    if (reader.done) return lines;
    await reader.fill();
  }
}

describe('LineReader', () => {
  it('splits lines, drops a trailing CR, keeps blank lines and a last line without newline', async () => {
    const path = await fixture('plain.jsonl', 'one\r\ntwo\n\nthree');
    const reader = await LineReader.open(path);
    assert.equal(reader.gzipped, false);
    assert.deepEqual(await readAll(reader), ['one', 'two', '', 'three']);
    assert.equal(reader.lineNumber, 4);
    assert.equal(reader.bytesRead, reader.size);
    assert.equal(reader.size, (await stat(path)).size);
  });

  it('detects gzip by its magic bytes, not by the name', async () => {
    const text = 'é\n😀 ok\n';
    const gz = await LineReader.open(await fixture('disguised.jsonl', gzipSync(text)));
    assert.equal(gz.gzipped, true);
    assert.deepEqual(await readAll(gz), ['é', '😀 ok']);
    const plain = await LineReader.open(await fixture('misnamed.jsonl.gz', text));
    assert.equal(plain.gzipped, false);
    assert.deepEqual(await readAll(plain), ['é', '😀 ok']);
  });

  it('reads a file many chunks long, with a line longer than a chunk, gzipped or not', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    lines[12_345] = 'y'.repeat(700_000);
    const text = lines.join('\n') + '\n';
    for (const [name, content] of [
      ['long.txt', text],
      ['long.txt.gz', gzipSync(text)],
    ] as const) {
      const reader = await LineReader.open(await fixture(name, content));
      const read = await readAll(reader);
      assert.equal(read.length, lines.length, name);
      assert.deepEqual(read, lines, name);
      assert.equal(reader.bytesRead, reader.size, name);
    }
  });

  it('skips the first lines across chunk boundaries and counts them in lineNumber', async () => {
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i} ${'z'.repeat(i % 30)}`);
    const text = lines.join('\n') + '\n';
    for (const [name, content] of [
      ['skip.txt', text],
      ['skip.txt.gz', gzipSync(text)],
    ] as const) {
      const reader = await LineReader.open(await fixture(name, content), { skipLines: 23_456 });
      const first = await readAll(reader);
      assert.equal(first[0], lines[23_456], name);
      assert.equal(first.length, 40_000 - 23_456, name);
      assert.equal(reader.lineNumber, 40_000, name);
    }
  });

  it('skips a last line that has no newline, and skipping past the end leaves nothing', async () => {
    const path = await fixture('short.txt', 'a\nb');
    const exact = await LineReader.open(path, { skipLines: 2 });
    assert.deepEqual(await readAll(exact), []);
    assert.equal(exact.lineNumber, 2);
    const beyond = await LineReader.open(path, { skipLines: 5 });
    assert.deepEqual(await readAll(beyond), []);
    const one = await LineReader.open(path, { skipLines: 1 });
    assert.deepEqual(await readAll(one), ['b']);
  });

  it('rejects a missing file or a folder with a one-line message', async () => {
    const missing = join(dir, 'nope.jsonl');
    await assert.rejects(LineReader.open(missing), { message: `cannot read ${missing}: no such file` });
    const folder = join(dir, 'folder.jsonl');
    await mkdir(folder);
    await assert.rejects(LineReader.open(folder), { message: `cannot read ${folder}: not a regular file` });
  });

  it('reports a truncated gzip file as a failure instead of rejecting', async () => {
    const whole = gzipSync('a\n'.repeat(10_000));
    const path = await fixture('cut.jsonl.gz', whole.subarray(0, whole.length - 20));
    const reader = await LineReader.open(path);
    await readAll(reader);
    assert.equal(reader.failure?.message, `cannot read ${path}: unexpected end of file`);
    assert.equal(reader.done, true);
  });
});
