/** Fake Helix (contracts/twitch.md §2–3). TO BE WRITTEN. */
import { Hono } from 'hono';
import type { TwitchWorld } from './world.ts';

/** Test hooks: inject failures, drain the rate-limit bucket, count calls. */
export interface HelixHooks {
  readonly calls?: number;
}

export function helixRoutes(_world: TwitchWorld): { routes: Hono; hooks: HelixHooks } {
  return { routes: new Hono(), hooks: {} };
}
