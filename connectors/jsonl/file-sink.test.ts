import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { jsonlFileSink } from './file-sink.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamscout-sink-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = { clock: new ManualClock() };

describe('jsonlFileSink', () => {
  it('describes its target', () => {
    assert.equal(jsonlFileSink('out/x.jsonl').describe(), 'jsonl-file out/x.jsonl');
    assert.equal(jsonlFileSink('-').describe(), 'jsonl-file stdout');
  });

  it('writes one JSON line per record into a new folder, exactly', async () => {
    const path = join(dir, 'new', 'folder', 'out.jsonl');
    const writer = await jsonlFileSink<unknown>(path).open(ctx);
    assert.equal(writer.write([{ a: 1 }, { text: 'two\nlines', é: '😀' }], [0, 0]), undefined);
    assert.equal(writer.write([], []), undefined);
    await writer.write(['plain', null], [0, 0]);
    await writer.flush?.();
    assert.equal(await readFile(path, 'utf8'), '{"a":1}\n{"text":"two\\nlines","é":"😀"}\n"plain"\nnull\n');
    await writer.close();
    await writer.close();
  });

  it('uses a custom serializer and replaces an existing file', async () => {
    const path = join(dir, 'custom.jsonl');
    await writeFile(path, 'old content that is longer than the new one\n');
    const writer = await jsonlFileSink<{ ts: number; text: string }>(path, {
      serialize: (m) => JSON.stringify([m.ts, m.text]),
    }).open(ctx);
    await writer.write([{ ts: 1, text: 'hi' }], [1]);
    await writer.close();
    assert.equal(await readFile(path, 'utf8'), '[1,"hi"]\n');
  });

  it('returns a promise only when the stream buffer is full, and everything arrives in order', async () => {
    const path = join(dir, 'big.jsonl');
    const writer = await jsonlFileSink<{ n: number; pad: string }>(path).open(ctx);
    const small = writer.write([{ n: 0, pad: '' }], [0]);
    assert.equal(small, undefined, 'a small batch fits the buffer');
    const big = Array.from({ length: 2_000 }, (_, i) => ({ n: i + 1, pad: 'x'.repeat(40) }));
    const pending = writer.write(big, []);
    assert.ok(pending instanceof Promise, 'a batch beyond the buffer waits for drain');
    await pending;
    await writer.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).n),
      Array.from({ length: 2_001 }, (_, i) => i),
    );
  });

  it('rejects a path it cannot create with a one-line message', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const path = join(blocker, 'out.jsonl');
    await assert.rejects(
      async () => jsonlFileSink(path).open(ctx),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`^cannot write ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
        );
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );
  });

  it("writes to stdout for '-' and leaves stdout open on close", async () => {
    const sinkUrl = new URL('./file-sink.ts', import.meta.url).href;
    const script = [
      `import { jsonlFileSink } from ${JSON.stringify(sinkUrl)};`,
      `const writer = await jsonlFileSink('-').open({ clock: undefined });`,
      `await writer.write([{ a: 1 }, 'b'], [0, 0]);`,
      `await writer.close();`,
      `process.stdout.write('after close\\n');`,
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    assert.equal(stdout, '{"a":1}\n"b"\nafter close\n');
  });
});

describe('jsonlFileSink to a device', () => {
  it('writes to /dev/null, which cannot be synced, without failing', async () => {
    const writer = await jsonlFileSink<{ a: number }>('/dev/null').open({ clock: new ManualClock(0) });
    await writer.write([{ a: 1 }], [0]);
    await writer.flush?.();
    await writer.close();
  });
});

describe('jsonlFileSink resuming from a checkpoint', () => {
  it('reports its length at a checkpoint, and on resume drops what came after and appends from there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'file-sink-resume-'));
    const path = join(dir, 'out.jsonl');
    const clock = new ManualClock(0);
    const first = await jsonlFileSink<{ n: number }>(path).open({ clock });
    await first.write([{ n: 1 }, { n: 2 }], [0, 0]);
    await first.flush?.();
    const state = first.checkpointState?.();
    assert.deepEqual(state, { bytes: Buffer.byteLength('{"n":1}\n{"n":2}\n') });
    await first.write([{ n: 3 }], [0]); // written after the checkpoint: lost in the "crash"
    await first.close();

    const resumed = await jsonlFileSink<{ n: number }>(path).open({ clock, resumeState: state });
    await resumed.write([{ n: 4 }], [0]);
    await resumed.close();
    assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n{"n":4}\n');
    await rm(dir, { recursive: true });
  });
});
