/** Fake EventSub: subscription management (contracts/twitch.md §3.8) and the signed sender (§4). TO BE WRITTEN. */
import { Hono } from 'hono';
import type { TwitchWorld } from './world.ts';

export class EventSubSender {
  constructor(readonly world: TwitchWorld) {}
  close(): void {}
}

export function eventSubRoutes(_world: TwitchWorld, _sender: EventSubSender): Hono {
  return new Hono();
}
