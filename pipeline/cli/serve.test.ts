import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serveCommand } from './serve.ts';

/** Starts `scout serve` on an in-memory PGlite; `url` resolves once it prints its address. */
function startServe() {
  let out = '';
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => {
    listening = resolve;
  });
  const stop = new AbortController();
  const done = serveCommand({ port: 0, dataDir: 'memory://', signal: stop.signal }, (s) => {
    out += s;
    const m = /^serving (\S+) /.exec(s);
    if (m?.[1]) listening(m[1]);
  });
  return { url, done, stop: () => stop.abort(), out: () => out };
}

describe('scout serve', () => {
  // The command falls back to DATABASE_URL; these tests use an in-memory PGlite whatever is set.
  const saved = process.env.DATABASE_URL;
  before(() => {
    delete process.env.DATABASE_URL;
  });
  after(() => {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  });

  test('migrates, serves until stopped, then closes the port', async () => {
    const serve = startServe();
    const base = await serve.url;
    assert.match(serve.out(), /^serving http:\/\/127\.0\.0\.1:\d+ \(clips from PGlite at memory:\/\/\)\n$/);
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok', database: 'ok' });
    // The tables exist because serve migrated them.
    const clips = (await (await fetch(`${base}/v1.0/clip`)).json()) as { clips: unknown[] };
    assert.deepEqual(clips.clips, []);
    serve.stop();
    await serve.done;
    assert.match(serve.out(), /\nstopped\n$/);
    await assert.rejects(fetch(`${base}/health`));
  });

  test('a port in use fails with one line', async () => {
    const first = startServe();
    try {
      const port = Number(new URL(await first.url).port);
      await assert.rejects(
        serveCommand({ port, dataDir: 'memory://' }, () => {}),
        {
          message: `port ${port} is in use; pick another with --port`,
        },
      );
    } finally {
      first.stop();
      await first.done;
    }
  });
});
