/**
 * Drops messages from bot accounts: bots answer commands and post timers, so their volume says
 * nothing about what viewers are reacting to.
 */
import type { Stream } from '../../pipeline/builder.ts';

/** Bots common on Twitch; the default list of `dropBots` (job option `bots=a,b,c` replaces it). */
export const DEFAULT_BOTS: readonly string[] = [
  'nightbot',
  'streamelements',
  'moobot',
  'streamlabs',
  'fossabot',
  'wizebot',
  'soundalerts',
  'sery_bot',
];

/** Parses a comma-separated bot list (`"nightbot, MooBot"`), lower-cased; empty entries ignored. */
export function parseBotList(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}

/**
 * Keeps only messages whose sender is not in `bots` (compared lower-case).
 *
 * @example
 * dropBots(chat, ['nightbot', 'streamelements']);
 */
export function dropBots<T extends { readonly user: string }>(
  stream: Stream<T>,
  bots: readonly string[] = DEFAULT_BOTS,
  id = 'drop-bots',
): Stream<T> {
  const set = new Set(bots.map((b) => b.toLowerCase()));
  return stream.filter((m) => !set.has(m.user.toLowerCase()), id);
}
