/**
 * Word lists the synthetic chat is assembled from, written for this generator (none of it is
 * taken from recorded chat). Lists are plain data; `text.ts` decides how they combine. Adding
 * words changes the text of every seed but not the message times, users or labels.
 */

/** Emotes every channel can use. */
export const GLOBAL_EMOTES = [
  'PogChamp',
  'KEKW',
  'LUL',
  'OMEGALUL',
  'monkaS',
  'Kappa',
  'Pog',
  'PepeHands',
  'Sadge',
  'EZ',
  'Clap',
  'catJAM',
  'HeyGuys',
  'BibleThump',
  'NotLikeThis',
  'ResidentSleeper',
  'Kreygasm',
  '4Head',
  'WutFace',
  'SeemsGood',
] as const;

/** Suffixes of a channel's own emotes (`<prefix>Hype`, `<prefix>LUL`, …). */
export const CHANNEL_EMOTE_SUFFIXES = [
  'Hype',
  'LUL',
  'Love',
  'Wave',
  'GG',
  'Pog',
  'Sad',
  'Rage',
  'Cozy',
  'Clap',
  'W',
  'L',
  'Think',
  'Shy',
  'Dance',
  'Comfy',
] as const;

/** A burst's mood picks its focal emotes and hype lines, so one burst reads like one reaction. */
export interface BurstMood {
  readonly name: string;
  readonly globalEmotes: readonly string[];
  readonly channelSuffixes: readonly string[];
  readonly lines: readonly string[];
}

export const BURST_MOODS: readonly BurstMood[] = [
  {
    name: 'funny',
    globalEmotes: ['KEKW', 'LUL', 'OMEGALUL', '4Head'],
    channelSuffixes: ['LUL'],
    lines: ['LMAO', 'LOL', 'HAHAHA', 'im dead', 'no way', 'CLIP IT', 'bro', 'crying', 'ahahaha'],
  },
  {
    name: 'hype',
    globalEmotes: ['PogChamp', 'Pog', 'Kreygasm', 'Clap', 'EZ'],
    channelSuffixes: ['Hype', 'Pog', 'GG', 'Clap', 'W'],
    lines: ['LETS GOOO', 'W', 'HUGE', 'CLIP IT', 'NO WAY', 'GG', 'INSANE', 'lets gooo', 'WWWW', 'HOLY'],
  },
  {
    name: 'scary',
    globalEmotes: ['monkaS', 'WutFace', 'NotLikeThis'],
    channelSuffixes: ['Rage', 'Think'],
    lines: ['RUN', 'behind you', 'nope', 'AAAA', 'oh no', 'dont go in there', 'close one'],
  },
  {
    name: 'sad',
    globalEmotes: ['PepeHands', 'Sadge', 'BibleThump', 'NotLikeThis'],
    channelSuffixes: ['Sad', 'L'],
    lines: ['F', 'L', 'so close', 'unlucky', 'nooo', 'RIP', 'F in chat', 'it was over'],
  },
];

export const REACTIONS = [
  'LOL',
  'lol',
  'lmao',
  'W',
  'L',
  'true',
  'based',
  'no way',
  '????',
  'gg',
  'nice',
  'clean',
  'real',
  'facts',
  'huh',
  'wait what',
  'yikes',
  'ez',
  'bruh',
  'hmm',
  'ok',
  'sheesh',
  'W stream',
  'same',
  'omg',
  'nah',
  'yep',
  'wow',
] as const;

export const GREETINGS = [
  'hi',
  'hello',
  'hey',
  'yo',
  'sup',
  'hiii',
  'good morning',
  'evening',
  'o7',
  'heyo',
] as const;

export const SUBJECTS = [
  'this game',
  'that boss',
  'the music',
  'chat',
  'this map',
  'the new update',
  'this run',
  'that jump',
  'the last round',
  'this level',
  'the ending',
  'this song',
  'the lobby',
  'the aim',
  'that strat',
  'the camera',
  'this build',
  'the timer',
  'the stream',
  'the mic',
  'this patch',
  'that combo',
  'the art',
  'this puzzle',
] as const;

export const COPULAS = ['is', 'was', 'looks', 'feels', 'seems', 'sounds'] as const;

export const INTENSIFIERS = [
  'so',
  'actually',
  'kinda',
  'literally',
  'lowkey',
  'way too',
  'pretty',
  'super',
  'not',
] as const;

export const ADJECTIVES = [
  'insane',
  'clean',
  'cursed',
  'scuffed',
  'goated',
  'washed',
  'cozy',
  'hard',
  'easy',
  'free',
  'broken',
  'fun',
  'weird',
  'good',
  'bad',
  'slow',
  'fast',
  'loud',
  'quiet',
  'fair',
  'rigged',
  'pretty',
  'chill',
  'sweaty',
  'crazy',
] as const;

export const QUESTIONS = [
  'what game is this',
  'how long has the stream been on',
  'is this ranked',
  'whats the song',
  'what rank are we',
  'did i miss anything',
  'when is the next stream',
  'what happened',
  'is this the new map',
  'how many deaths',
  'what keyboard is that',
  'who won',
  'is this a new run',
  'whats the goal today',
  'can we play with viewers',
] as const;

export const BACKSEAT = [
  'just go left',
  'use the shield',
  'check the map',
  'go back',
  'heal first',
  'you missed a chest',
  'wait for the timer',
  'dodge roll',
  'jump earlier',
  'upgrade the sword',
  'talk to the guy again',
  'turn on subtitles',
  'save first',
  'try the other door',
  'read the chat',
] as const;

export const OPINION_ENDINGS = [
  'ngl',
  'tbh',
  'fr',
  'imo',
  'no cap',
  'today',
  'honestly',
  'for real',
  'this time',
  'again',
] as const;

/** Fragments of invented song titles for `!sr`; no real songs. */
export const SONG_WORDS_A = [
  'midnight',
  'neon',
  'paper',
  'velvet',
  'static',
  'golden',
  'silent',
  'electric',
  'broken',
  'lucky',
  'summer',
  'hollow',
] as const;

export const SONG_WORDS_B = [
  'harbor',
  'skyline',
  'engines',
  'echoes',
  'satellites',
  'lanterns',
  'tigers',
  'highways',
  'mirrors',
  'parade',
  'signals',
  'oceans',
] as const;

/** Login fragments for channels and users: short, lower case, plausibly Twitch-like. */
export const NAME_ADJECTIVES = [
  'sleepy',
  'lazy',
  'tiny',
  'big',
  'crispy',
  'fuzzy',
  'salty',
  'spicy',
  'silent',
  'lucky',
  'angry',
  'happy',
  'frozen',
  'cosmic',
  'pixel',
  'retro',
  'shadow',
  'neon',
  'golden',
  'wild',
  'mellow',
  'rusty',
  'swift',
  'grumpy',
  'quiet',
  'chaotic',
  'sunny',
  'dusty',
  'velvet',
  'nova',
] as const;

export const NAME_NOUNS = [
  'otter',
  'waffle',
  'panda',
  'falcon',
  'noodle',
  'wizard',
  'goblin',
  'tiger',
  'pickle',
  'raven',
  'dragon',
  'turtle',
  'muffin',
  'ghost',
  'knight',
  'fox',
  'badger',
  'comet',
  'potato',
  'mango',
  'ninja',
  'llama',
  'biscuit',
  'moose',
  'kraken',
  'pigeon',
  'cactus',
  'taco',
  'wolf',
  'sloth',
  'bean',
  'toast',
  'lynx',
  'orca',
  'gecko',
] as const;

export const NAME_FIRSTS = [
  'alex',
  'sam',
  'mika',
  'jordan',
  'kai',
  'rin',
  'leo',
  'nova',
  'zoe',
  'max',
  'ivy',
  'theo',
  'luna',
  'finn',
  'aria',
  'jay',
  'eli',
  'noah',
  'mia',
  'ren',
  'sora',
  'nico',
  'tess',
  'quinn',
] as const;

export const CHANNEL_SUFFIXES = [
  'tv',
  '_tv',
  'live',
  '_live',
  'gaming',
  'plays',
  'ttv',
  'hd',
  'irl',
  'x',
] as const;

export const USER_SUFFIXES = ['_', 'x', 'xd', 'lol', '_gg', 'ttv', 'yt', 'btw', 'main', 'fan'] as const;

/** Shared chat bots; each channel runs some of them beside its own. */
export const SHARED_BOTS = ['nightbot', 'streamelements', 'moobot'] as const;

export const TIMER_LINES = [
  'Follow the channel so you never miss a stream!',
  'Join the community Discord: discord.gg/{code}',
  'Remember to hydrate and take breaks chat',
  'Be kind in chat, read the rules before posting links',
  'Clips are welcome, post your favourites in the Discord',
  'Stream schedule is on the channel About page',
  'Use !commands to see what the bots can do',
  'Song requests are open: !sr <song name>',
] as const;
