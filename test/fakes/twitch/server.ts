/**
 * The fake Twitch HTTP server: OAuth (id.twitch.tv), Helix (api.twitch.tv) and EventSub
 * subscription management on one port, serving both layouts a client may use:
 *
 * - Twitch's own paths: `/oauth2/<authorize|token|validate|revoke>`, `/helix/<endpoint>`;
 * - the Twitch CLI mock-API layout that @twurple reaches through `TWURPLE_MOCK_API_PORT`:
 *   `/auth/<token|validate|revoke>`, `/mock/<helix endpoint>` and `/eventsub/subscriptions`.
 *
 * The chat server (IRC over WebSocket) listens on its own port: see chat-server.ts.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { EventSubSender, eventSubRoutes } from './eventsub.ts';
import { type HelixHooks, helixRoutes } from './helix.ts';
import { oauthRoutes } from './oauth.ts';
import type { TwitchWorld } from './world.ts';

export interface FakeTwitchOptions {
  readonly world: TwitchWorld;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

export interface FakeTwitch {
  readonly world: TwitchWorld;
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly helix: HelixHooks;
  readonly eventSub: EventSubSender;
  readonly app: Hono;
  close(): Promise<void>;
}

/** Builds the app without listening (for `app.request()` tests). */
export function fakeTwitchApp(world: TwitchWorld): {
  app: Hono;
  helix: HelixHooks;
  eventSub: EventSubSender;
} {
  const app = new Hono();
  const eventSub = new EventSubSender(world);
  const { routes: helix, hooks } = helixRoutes(world);
  const oauth = oauthRoutes(world);
  const subscriptions = eventSubRoutes(world, eventSub);
  // The EventSub paths go first: `/helix/eventsub/...` would otherwise fall into Helix's routes.
  app.route('/helix/eventsub', subscriptions);
  app.route('/eventsub', subscriptions);
  app.route('/oauth2', oauth);
  app.route('/auth', oauth);
  app.route('/helix', helix);
  app.route('/mock', helix);
  return { app, helix: hooks, eventSub };
}

export async function startFakeTwitch(options: FakeTwitchOptions): Promise<FakeTwitch> {
  const { app, helix, eventSub } = fakeTwitchApp(options.world);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    world: options.world,
    port,
    url: `http://127.0.0.1:${port}`,
    helix,
    eventSub,
    app,
    close: () =>
      new Promise<void>((resolve) => {
        eventSub.close();
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
