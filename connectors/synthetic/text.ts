/**
 * What chatters and bots say: ordinary messages from templates over the word lists, emote spam
 * during bursts, `!commands`, and the bots' answers. Text never affects timing, so this file can
 * change freely without moving a single label.
 */
import type { Burst } from './bursts.ts';
import type { ChannelProfile } from './profile.ts';
import type { Rng } from './rng.ts';
import {
  ADJECTIVES,
  BACKSEAT,
  COPULAS,
  GLOBAL_EMOTES,
  GREETINGS,
  INTENSIFIERS,
  OPINION_ENDINGS,
  QUESTIONS,
  REACTIONS,
  SONG_WORDS_A,
  SONG_WORDS_B,
  SUBJECTS,
} from './vocabulary.ts';

/** Which bot answers a command when the channel runs it; otherwise the channel's own bot does. */
type Answerer = 'nightbot' | 'streamelements' | 'moobot' | 'channel';

interface CommandSpec {
  readonly name: string;
  /** Relative frequency among commands. */
  readonly weight: number;
  readonly answerer: Answerer;
  /** `undefined` when no bot answers this command. */
  readonly reply: ((c: ReplyContext) => string) | undefined;
}

interface ReplyContext {
  readonly profile: ChannelProfile;
  readonly user: string;
  /** Text after the command name, if any. */
  readonly argument: string;
  /** Time since the run's start: the "stream" has been live this long. */
  readonly liveMs: number;
  readonly rng: Rng;
}

const COMMANDS: readonly CommandSpec[] = [
  {
    name: '!uptime',
    weight: 10,
    answerer: 'nightbot',
    reply: (c) =>
      `${c.profile.login} has been live for ${Math.floor(c.liveMs / 3_600_000)} hours ${Math.floor((c.liveMs % 3_600_000) / 60_000)} minutes`,
  },
  {
    name: '!discord',
    weight: 8,
    answerer: 'nightbot',
    reply: (c) => `@${c.user} the Discord is discord.gg/${c.profile.discordCode}`,
  },
  {
    name: '!socials',
    weight: 4,
    answerer: 'moobot',
    reply: (c) => `Twitter, Instagram and TikTok: @${c.profile.login}`,
  },
  {
    name: '!sr',
    weight: 12,
    answerer: 'streamelements',
    reply: (c) => `@${c.user} added "${c.argument}" to the queue (#${c.rng.int(1, 25)})`,
  },
  { name: '!song', weight: 6, answerer: 'streamelements', reply: (c) => `Current song: ${song(c.rng)}` },
  {
    name: '!followage',
    weight: 6,
    answerer: 'streamelements',
    reply: (c) => `@${c.user} has been following ${c.profile.login} for ${c.rng.int(1, 40)} months`,
  },
  {
    name: '!points',
    weight: 6,
    answerer: 'streamelements',
    reply: (c) => `@${c.user} has ${c.rng.int(0, 250) * 50} points`,
  },
  {
    name: '!lurk',
    weight: 8,
    answerer: 'channel',
    reply: (c) => `${c.user} is now lurking, enjoy your stay!`,
  },
  {
    name: '!hug',
    weight: 4,
    answerer: 'channel',
    reply: (c) => `${c.user} hugs ${c.argument} ${c.profile.emotePrefix}Love`,
  },
  {
    name: '!so',
    weight: 2,
    answerer: 'channel',
    reply: (c) => `Go check out ${c.argument.replace('@', '')}, they are awesome!`,
  },
  {
    name: '!commands',
    weight: 4,
    answerer: 'nightbot',
    reply: () => 'Commands: !uptime !discord !socials !sr !song !followage !points !lurk !hug',
  },
  {
    name: '!specs',
    weight: 3,
    answerer: 'moobot',
    reply: () => 'PC specs and peripherals are on the About page',
  },
  { name: '!rank', weight: 3, answerer: 'nightbot', reply: (c) => `Currently Diamond ${c.rng.int(1, 4)}` },
  { name: '!title', weight: 2, answerer: 'nightbot', reply: undefined },
  { name: '!gamba', weight: 2, answerer: 'streamelements', reply: undefined },
];

const COMMAND_WEIGHT_TOTAL = COMMANDS.reduce((sum, c) => sum + c.weight, 0);

/** Cumulative weights of the ordinary-message templates (see `ordinary`). */
const TEMPLATE_CUTS = cumulative([16, 20, 5, 8, 28, 8, 9, 6]);

/** Chance an ordinary message is shouted (all caps); chat does it, and it exercises case folding. */
const SHOUT_CHANCE = 0.03;

/** A bot reply to a command, to be posted a moment later. */
export interface BotReply {
  readonly bot: string;
  readonly text: string;
}

/**
 * Builds message texts for one channel. Draws from the channel's message stream.
 *
 * @example
 * const text = new TextGenerator(profile, rng, () => 'some_user');
 * text.ordinary(); // e.g. 'this boss is lowkey rigged ngl'
 */
export class TextGenerator {
  private readonly emotes: readonly string[];

  constructor(
    private readonly profile: ChannelProfile,
    private readonly rng: Rng,
    /** Login of some chatter to @-mention (drawn by the caller's activity model). */
    private readonly mention: () => string,
  ) {
    this.emotes = [...GLOBAL_EMOTES, ...profile.channelEmotes, ...profile.channelEmotes];
  }

  /** An everyday chat message. */
  ordinary(): string {
    const rng = this.rng;
    const roll = rng.float();
    let text: string;
    if (roll < (TEMPLATE_CUTS[0] as number)) {
      text = this.emoteRun(this.emotes, 3);
    } else if (roll < (TEMPLATE_CUTS[1] as number)) {
      text = rng.pick(REACTIONS);
      if (rng.chance(0.3)) text += ' ' + rng.pick(this.emotes);
    } else if (roll < (TEMPLATE_CUTS[2] as number)) {
      const greeting = rng.pick(GREETINGS);
      const who = rng.float();
      text = who < 0.4 ? greeting + ' chat' : who < 0.8 ? greeting + ' ' + this.profile.login : greeting;
      if (rng.chance(0.4)) text += ' ' + this.profile.emotePrefix + 'Wave';
    } else if (roll < (TEMPLATE_CUTS[3] as number)) {
      text = rng.pick(QUESTIONS) + (rng.chance(0.5) ? '?' : '');
    } else if (roll < (TEMPLATE_CUTS[4] as number)) {
      text =
        rng.pick(SUBJECTS) +
        ' ' +
        rng.pick(COPULAS) +
        ' ' +
        rng.pick(INTENSIFIERS) +
        ' ' +
        rng.pick(ADJECTIVES);
      if (rng.chance(0.35)) text += ' ' + rng.pick(OPINION_ENDINGS);
      if (rng.chance(0.25)) text += ' ' + rng.pick(this.emotes);
    } else if (roll < (TEMPLATE_CUTS[5] as number)) {
      text = rng.pick(BACKSEAT);
    } else if (roll < (TEMPLATE_CUTS[6] as number)) {
      text = '@' + this.mention() + ' ' + (rng.chance(0.7) ? rng.pick(REACTIONS) : rng.pick(QUESTIONS) + '?');
    } else {
      text = this.profile.login + ' ' + (rng.chance(0.5) ? rng.pick(BACKSEAT) : rng.pick(QUESTIONS) + '?');
    }
    return rng.chance(SHOUT_CHANCE) ? text.toUpperCase() : text;
  }

  /** A message sent because of `burst`: mostly its focal emote, repeated. */
  burst(burst: Burst): string {
    const rng = this.rng;
    const roll = rng.float();
    if (roll < 0.55) return repeat(burst.focalEmote, rng.int(1, 5));
    if (roll < 0.7) {
      const line = rng.pick(burst.mood.lines);
      return rng.chance(0.5) ? line + ' ' + burst.focalEmote : burst.focalEmote + ' ' + line;
    }
    if (roll < 0.85 && burst.otherEmotes.length > 0) {
      return (
        repeat(rng.pick(burst.otherEmotes), rng.int(1, 3)) + (rng.chance(0.5) ? ' ' + burst.focalEmote : '')
      );
    }
    return rng.pick(burst.mood.lines);
  }

  /** A `!command` (with an argument for the ones that take one). */
  command(): string {
    const spec = this.drawCommand();
    if (spec.name === '!sr') return '!sr ' + song(this.rng);
    if (spec.name === '!hug' || spec.name === '!so') return spec.name + ' @' + this.mention();
    return spec.name;
  }

  /**
   * The bot answer to `commandText` sent by `user`, or `undefined` when no bot answers (unknown
   * command, or the `botReplyProbability` draw said no).
   */
  reply(commandText: string, user: string, liveMs: number, probability: number): BotReply | undefined {
    // Drawn first and always, so whether a reply happens never shifts later draws' meaning.
    const answered = this.rng.chance(probability);
    const space = commandText.indexOf(' ');
    const name = space < 0 ? commandText : commandText.slice(0, space);
    const spec = COMMANDS.find((c) => c.name === name);
    if (!answered || spec === undefined || spec.reply === undefined) return undefined;
    const argument = space < 0 ? '' : commandText.slice(space + 1);
    const bot =
      spec.answerer !== 'channel' && this.profile.sharedBots.includes(spec.answerer)
        ? spec.answerer
        : this.profile.channelBot;
    return { bot, text: spec.reply({ profile: this.profile, user, argument, liveMs, rng: this.rng }) };
  }

  private drawCommand(): CommandSpec {
    let roll = this.rng.float() * COMMAND_WEIGHT_TOTAL;
    for (const spec of COMMANDS) {
      roll -= spec.weight;
      if (roll < 0) return spec;
    }
    return COMMANDS[COMMANDS.length - 1] as CommandSpec;
  }

  private emoteRun(emotes: readonly string[], max: number): string {
    let text = this.rng.pick(emotes);
    for (let n = this.rng.int(1, max); n > 1; n--) text += ' ' + this.rng.pick(emotes);
    return text;
  }
}

/** The names of the commands the generator sends (for tests and filters). */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

function song(rng: Rng): string {
  const a = rng.pick(SONG_WORDS_A);
  const b = rng.pick(SONG_WORDS_B);
  return rng.chance(0.5) ? `${a} ${b}` : `the ${b} - ${a} ${rng.pick(SONG_WORDS_B)}`;
}

function repeat(word: string, times: number): string {
  let text = word;
  for (let i = 1; i < times; i++) text += ' ' + word;
  return text;
}

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => {
    sum += w;
    return sum / total;
  });
}
