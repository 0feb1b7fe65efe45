/**
 * How `scout savepoint` reaches a running job: a job run with `--state-dir` listens on a Unix
 * socket named after that folder, and takes requests over HTTP on it. Only processes of this
 * machine that may open the socket file (mode 0600, the job's user) can ask; nothing listens on
 * the network. The socket lives in the temporary folder, named by a hash of the state folder's
 * absolute path, because a socket path is limited to ~107 bytes and state folders may be deep.
 *
 *   POST /savepoint?name=N   take a savepoint now; 200 with its SavepointInfo as JSON once it is
 *                            durable, 4xx/5xx with { error } (a one-line message) otherwise
 *   GET  /job                the job's name, so the client can check it asked the right one
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NewSavepoint } from '../checkpoint/savepoints.ts';

export function controlSocketPath(stateDir: string): string {
  const hash = createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `scout-${hash}.sock`);
}

export interface ControlHandlers {
  readonly job: string;
  savepoint(name: string | undefined): Promise<NewSavepoint>;
}

/**
 * Listens for the job checkpointing into `stateDir`. The state folder's LevelDB lock makes this
 * process its only user, so a socket file already there is a crashed run's and is replaced.
 */
export async function startControlServer(stateDir: string, handlers: ControlHandlers): Promise<Server> {
  const path = controlSocketPath(stateDir);
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://scout');
    if (req.method === 'GET' && url.pathname === '/job') return reply(200, { job: handlers.job });
    if (req.method === 'POST' && url.pathname === '/savepoint') {
      const name = url.searchParams.get('name') ?? undefined;
      handlers.savepoint(name).then(
        (info) => reply(200, info),
        (error: unknown) => reply(409, { error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    reply(404, { error: `no ${req.method} ${url.pathname} here (POST /savepoint, GET /job)` });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  chmodSync(path, 0o600);
  server.unref();
  return server;
}

export async function stopControlServer(server: Server, stateDir: string): Promise<void> {
  await new Promise<void>((done) => server.close(() => done()));
  const path = controlSocketPath(stateDir);
  if (existsSync(path)) unlinkSync(path);
}

/** Asks the job running on `stateDir` for a savepoint and waits until it is durable. */
export async function requestSavepoint(
  stateDir: string,
  job: string,
  name: string | undefined,
): Promise<NewSavepoint> {
  const running = await call<{ job: string }>(stateDir, 'GET', '/job');
  if (running.job !== job) {
    throw new Error(`the job running on ${stateDir} is "${running.job}", not "${job}"`);
  }
  const query = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  return call<NewSavepoint>(stateDir, 'POST', `/savepoint${query}`);
}

function call<T>(stateDir: string, method: string, path: string): Promise<T> {
  return new Promise((resolveCall, reject) => {
    const req = request({ socketPath: controlSocketPath(stateDir), method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return reject(new Error(`the job on ${stateDir} answered with something other than JSON`));
        }
        if (res.statusCode === 200) resolveCall(parsed as T);
        else reject(new Error((parsed as { error?: string }).error ?? `the job answered ${res.statusCode}`));
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(
          new Error(
            `no job is running with --state-dir ${stateDir} (start one with: scout run <job> --state-dir ${stateDir})`,
          ),
        );
      } else reject(new Error(`cannot reach the job on ${stateDir}: ${error.message}`));
    });
    req.end();
  });
}
