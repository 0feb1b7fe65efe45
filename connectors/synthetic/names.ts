/**
 * Plausible Twitch logins for generated channels and chatters. Channel logins are drawn in order
 * and kept unique per run; a chatter's login is a pure function of (channel seed, rank), so the
 * user pool needs no table and a name is built only the first time that chatter speaks.
 */
import { deriveSeed, type Rng } from './rng.ts';
import {
  CHANNEL_SUFFIXES,
  NAME_ADJECTIVES,
  NAME_FIRSTS,
  NAME_NOUNS,
  SHARED_BOTS,
  USER_SUFFIXES,
} from './vocabulary.ts';

/** Twitch logins are 4–25 characters of `[a-z0-9_]`, starting with a letter or digit. */
const MAX_LOGIN_LENGTH = 25;

/**
 * Draws a channel login not in `taken` (and adds it). Collisions get a numeric suffix, which keeps
 * the draw count, and so every later draw, independent of how many collisions happened.
 *
 * @example
 * const taken = new Set<string>();
 * const login = channelLogin(new Rng(1), taken); // e.g. 'sleepyotter_tv'
 */
export function channelLogin(rng: Rng, taken: Set<string>): string {
  const style = rng.int(0, 4);
  const adjective = rng.pick(NAME_ADJECTIVES);
  const noun = rng.pick(NAME_NOUNS);
  const first = rng.pick(NAME_FIRSTS);
  const suffix = rng.pick(CHANNEL_SUFFIXES);
  const digits = rng.int(1, 99);
  let login: string;
  switch (style) {
    case 0:
      login = adjective + noun;
      break;
    case 1:
      login = noun + suffix;
      break;
    case 2:
      login = first + noun;
      break;
    case 3:
      login = 'the' + adjective + noun;
      break;
    default:
      login = first + '_' + digits;
  }
  login = login.slice(0, MAX_LOGIN_LENGTH);
  let unique = login;
  for (let n = 2; taken.has(unique) || isBotLogin(unique); n++) {
    unique = login.slice(0, MAX_LOGIN_LENGTH - String(n).length) + n;
  }
  taken.add(unique);
  return unique;
}

/**
 * The login of the chatter at `rank` in a channel's pool (rank 0 talks most). Deterministic and
 * table-free; two ranks may rarely share a login, which only merges two quiet chatters.
 *
 * @example
 * userLogin(1234, 0); // the same string on every call
 */
export function userLogin(poolSeed: number, rank: number): string {
  const h1 = deriveSeed(poolSeed, rank) >>> 0;
  const h2 = deriveSeed(poolSeed, rank, 1) >>> 0;
  const adjective = NAME_ADJECTIVES[h1 % NAME_ADJECTIVES.length] as string;
  const noun = NAME_NOUNS[(h1 >>> 8) % NAME_NOUNS.length] as string;
  const first = NAME_FIRSTS[(h1 >>> 16) % NAME_FIRSTS.length] as string;
  const suffix = USER_SUFFIXES[(h2 >>> 4) % USER_SUFFIXES.length] as string;
  const number = h2 % 10_000;
  // Every style carries digits or a long combination: pools reach ~20 000 chatters and the
  // combinations of words alone would make many of them namesakes.
  let login: string;
  switch ((h1 >>> 24) % 6) {
    case 0:
      login = adjective + noun + (number % 100);
      break;
    case 1:
      login = first + '_' + noun + (number % 100);
      break;
    case 2:
      login = noun + suffix + (number % 1000);
      break;
    case 3:
      login = first + number;
      break;
    case 4:
      login = adjective + '_' + first + (number % 1000);
      break;
    default:
      login = 'x' + noun + (number % 1000) + 'x';
  }
  const safe = login.slice(0, MAX_LOGIN_LENGTH);
  // A chatter must never be mistaken for a bot by the tests or by bot filters downstream.
  return isBotLogin(safe) ? safe + '_' : safe;
}

/**
 * The prefix of a channel's emotes, as Twitch derives them from the login: its first letters,
 * lower case, 3–5 long.
 *
 * @example
 * emotePrefix('sleepyotter_tv', 4); // 'slee'
 */
export function emotePrefix(login: string, length: number): string {
  const letters = login.replace(/[^a-z]/g, '');
  return (letters.length >= 3 ? letters : letters + 'tv').slice(0, length);
}

/** The channel's own bot (`<login>bot`, trimmed to a valid login). */
export function channelBotLogin(login: string): string {
  return login.slice(0, MAX_LOGIN_LENGTH - 3) + 'bot';
}

function isBotLogin(login: string): boolean {
  return (SHARED_BOTS as readonly string[]).includes(login) || login.endsWith('bot');
}
