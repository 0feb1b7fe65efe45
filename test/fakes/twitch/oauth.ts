/** Fake id.twitch.tv: authorize, token, validate, revoke (contracts/twitch.md §1). TO BE WRITTEN. */
import { Hono } from 'hono';
import type { TwitchWorld } from './world.ts';

export function oauthRoutes(_world: TwitchWorld): Hono {
  return new Hono();
}
