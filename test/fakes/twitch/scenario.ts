/**
 * A scripted Twitch for `scout demo --twitch-fake`: a dozen live channels whose viewer counts
 * drift (so the top list changes and chats are joined and left), steady chat in every channel
 * someone is in, with a burst now and then (which the highlights job turns into a clip), and one
 * channel near the top whose clipping is disabled. Everything runs on the world's clock, seeded,
 * so a run tells the same story at any speed.
 */
import type { FakeChat } from './chat-server.ts';
import type { FakeUser, TwitchWorld } from './world.ts';

export interface ScenarioOptions {
  readonly channels?: number;
  readonly seed?: number;
  /** Mean chat messages per second of a channel outside bursts, world time. */
  readonly messagesPerSecond?: number;
  /** World time between viewer-count changes. */
  readonly driftEveryMs?: number;
}

export interface Scenario {
  readonly streamers: readonly FakeUser[];
  /** The channel that does not allow clipping. */
  readonly noClips: FakeUser;
  /** Messages sent so far. */
  sent(): number;
  stop(): void;
}

/** A small deterministic PRNG (mulberry32): the story must not depend on Math.random. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'pixelfox',
  'lunarbyte',
  'mossgiant',
  'quietstorm',
  'retrorin',
  'saltycrab',
  'tidalwave',
  'emberkit',
  'glitchgoat',
  'novaquill',
  'frostpine',
  'duskowl',
  'velvetfang',
  'cobaltcat',
  'honeybadge',
  'orbitink',
];
const WORDS = [
  'lol',
  'KEKW',
  'nice',
  'gg',
  'no way',
  'POG',
  'clip it',
  'what',
  'hello chat',
  'LUL',
  'wow',
  'ez',
];

export function startScenario(world: TwitchWorld, chat: FakeChat, options: ScenarioOptions = {}): Scenario {
  const clock = world.clock;
  const rand = random(options.seed ?? 1);
  const n = Math.min(options.channels ?? 12, NAMES.length);
  const rate = options.messagesPerSecond ?? 4;
  const driftMs = options.driftEveryMs ?? 90_000;
  const streamers = NAMES.slice(0, n).map((name, i) => {
    const user = world.addUser(name, { displayName: name[0]!.toUpperCase() + name.slice(1) });
    world.goLive(user.id, { viewerCount: Math.round(20_000 / (i + 1)), title: `${name} live` });
    return user;
  });
  const viewers = (u: FakeUser) => world.streams.get(u.id)?.viewerCount ?? 0;
  const noClips = streamers[2]!;
  world.disableClipping(noClips.id);
  const chatters = Array.from({ length: 200 }, (_, i) => world.addUser(`viewer${i}`));
  let sent = 0;
  let stopped = false;
  const cancels = new Set<() => void>();
  const every = (ms: () => number, fn: () => void) => {
    const tick = () => {
      if (stopped) return;
      fn();
      const cancel = clock.schedule(clock.now() + ms(), tick);
      cancels.add(cancel);
    };
    cancels.add(clock.schedule(clock.now() + ms(), tick));
  };
  // Bursts: each channel has one now and then, eight times its usual rate for ten seconds.
  const burstUntil = new Map<string, number>();
  const nextBurst = new Map<string, number>(
    streamers.map((s) => [s.login, clock.now() + 360_000 + rand() * 240_000]),
  );
  every(
    () => 100,
    () => {
      const now = clock.now();
      for (const login of chat.joinedChannels()) {
        const due = nextBurst.get(login);
        if (due !== undefined && now >= due) {
          burstUntil.set(login, now + 10_000);
          nextBurst.set(login, now + 240_000 + rand() * 240_000);
        }
        const boost = (burstUntil.get(login) ?? 0) > now ? 8 : 1;
        // Messages this 100 ms tick: the mean with ±50% noise, the fraction rounded at random.
        const mean = ((rate * boost) / 10) * (0.5 + rand());
        const count = Math.floor(mean) + (rand() < mean - Math.floor(mean) ? 1 : 0);
        for (let i = 0; i < count; i++) {
          const who = chatters[Math.floor(rand() * chatters.length)]!;
          chat.say(login, {
            userLogin: who.login,
            text: WORDS[Math.floor(rand() * WORDS.length)]!,
            ...(rand() < 0.2 ? { badges: { subscriber: '3' } } : {}),
          });
          sent++;
        }
      }
    },
  );
  // Viewer counts drift, so channels move in and out of the top 5 and the top 10.
  every(
    () => driftMs,
    () => {
      for (const s of streamers) {
        const v = viewers(s);
        if (v > 0) world.setViewers(s.id, Math.max(50, Math.round(v * (0.6 + rand() * 0.8))));
      }
    },
  );
  return {
    streamers,
    noClips,
    sent: () => sent,
    stop() {
      stopped = true;
      for (const c of cancels) c();
    },
  };
}
