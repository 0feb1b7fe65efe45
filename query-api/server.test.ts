import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { startServer } from './server.ts';

const app = new Hono().get('/', (c) => c.text('hello'));

describe('startServer', () => {
  test('resolves with the bound URL once listening, and close() stops it', async () => {
    const server = await startServer(app, { port: 0 });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(server.url);
    assert.equal(await res.text(), 'hello');
    await server.close();
    await assert.rejects(fetch(server.url));
  });

  test('a port in use rejects with one line saying what to do', async () => {
    const first = await startServer(app, { port: 0 });
    const port = Number(new URL(first.url).port);
    try {
      await assert.rejects(startServer(app, { port }), {
        message: `port ${port} is in use; pick another with --port`,
      });
    } finally {
      await first.close();
    }
  });
});
