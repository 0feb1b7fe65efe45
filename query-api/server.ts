/**
 * Puts a Hono app on a Node HTTP listener. Resolves once the port is bound, so callers can print a
 * URL that already answers; a port that cannot be bound rejects with one line saying what to do.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface ServerOptions {
  /** TCP port; 0 picks a free one (see `url`). */
  readonly port: number;
  /** Interface to bind; default `127.0.0.1` (this machine only). */
  readonly hostname?: string;
  /** The flag that sets the port, named in errors; default `--port`. */
  readonly portFlag?: string;
}

export interface RunningServer {
  /** `http://host:port` with the port actually bound. */
  readonly url: string;
  /** Stops accepting, drops idle keep-alive connections and resolves when the listener is closed. */
  close(): Promise<void>;
}

/**
 * Serves `app` until `close()` is called.
 *
 * @example
 * const server = await startServer(app, { port: 0 });
 * console.log(`serving ${server.url}`);
 * await server.close();
 */
export function startServer(app: Hono, options: ServerOptions): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  const flag = options.portFlag ?? '--port';
  return new Promise((resolve, reject) => {
    let server: Server;
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${options.port} is in use; pick another with ${flag}`));
      } else if (error.code === 'EACCES') {
        reject(
          new Error(`port ${options.port} needs privileges this process lacks; pick another with ${flag}`),
        );
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new Error(`cannot listen on ${hostname}: no such local address`));
      } else {
        reject(new Error(`cannot listen on ${hostname}:${options.port}: ${error.message}`));
      }
    };
    const onListening = (info: AddressInfo) => {
      server.off('error', onError);
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // A browser keeps idle connections open; without this close() would wait for them.
            server.closeIdleConnections();
          }),
      });
    };
    // The default server type is node:http's; the listener errors arrive after serve() returns.
    server = serve({ fetch: app.fetch, port: options.port, hostname }, onListening) as Server;
    server.once('error', onError);
  });
}
