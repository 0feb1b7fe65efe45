/**
 * `GET /static/<name>`: the page's own files, read from one flat folder. A name is a single plain
 * file name with a known extension, so `..`, slashes (encoded or not) and dot files never reach
 * the file system.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';

/** The folder shipped with the app. */
export const STATIC_DIR = new URL('./static/', import.meta.url).pathname;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

// The names carry no content hash, so a long max-age would keep an old app.js after an upgrade;
// five minutes saves the refetches of one visit and a reload revalidates anyway.
const CACHE_CONTROL = 'public, max-age=300';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/** Reads `name` from `dir` as a response, or `undefined` when there is no such servable file. */
export async function serveStaticFile(c: Context, dir: string, name: string): Promise<Response | undefined> {
  if (!SAFE_NAME.test(name)) return undefined;
  const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
  if (type === undefined) return undefined;
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch {
    // Missing, a directory or unreadable: all the same to the caller.
    return undefined;
  }
  return c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': CACHE_CONTROL });
}
