import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BurstSchedule } from './bursts.ts';
import { resolveOptions } from './options.ts';
import { createProfiles } from './profile.ts';
import { Rng } from './rng.ts';
import { COMMAND_NAMES, TextGenerator } from './text.ts';
import { GLOBAL_EMOTES, SHARED_BOTS } from './vocabulary.ts';

const options = resolveOptions({ channels: 3, hours: 2, seed: 21 });
const profile = createProfiles(options)[0]!;

function generator(seed = 1): TextGenerator {
  return new TextGenerator(profile, new Rng(seed), () => 'some_chatter');
}

describe('TextGenerator', () => {
  it('writes ordinary messages that are varied and never look like commands', () => {
    const text = generator();
    const messages = Array.from({ length: 5000 }, () => text.ordinary());
    assert.ok(new Set(messages).size > 1500, 'varied');
    assert.ok(messages.every((m) => m.length > 0 && !m.startsWith('!')));
    assert.ok(
      messages.some((m) => m.includes(profile.emotePrefix)),
      'channel emotes appear',
    );
    assert.ok(
      messages.some((m) => m.startsWith('@some_chatter ')),
      'mentions appear',
    );
  });

  it('fills bursts mostly with the focal emote', () => {
    const burst = new BurstSchedule(profile, options).next()!;
    const text = generator();
    const messages = Array.from({ length: 2000 }, () => text.burst(burst));
    const focal = messages.filter((m) => m.split(' ').includes(burst.focalEmote)).length;
    assert.ok(focal / messages.length > 0.6, `${focal} of ${messages.length} carry ${burst.focalEmote}`);
    assert.ok(
      messages.every((m) => m.length > 0 && m.length < 80),
      'short',
    );
  });

  it('sends known commands, some with arguments', () => {
    const text = generator();
    const commands = Array.from({ length: 2000 }, () => text.command());
    for (const c of commands) assert.ok(COMMAND_NAMES.includes(c.split(' ')[0] as string), c);
    assert.ok(commands.some((c) => /^!sr \S/.test(c)));
    assert.ok(commands.some((c) => c === '!hug @some_chatter'));
  });

  it('answers commands from the channel bots, at the given probability', () => {
    const text = generator();
    const bots = new Set([...profile.sharedBots, profile.channelBot]);
    let answered = 0;
    for (let i = 0; i < 2000; i++) {
      const reply = text.reply('!uptime', 'viewer_1', 5_400_000, 0.5);
      if (reply === undefined) continue;
      answered++;
      assert.ok(bots.has(reply.bot), reply.bot);
      assert.equal(reply.text, `${profile.login} has been live for 1 hours 30 minutes`);
    }
    assert.ok(answered > 900 && answered < 1100, `${answered} answered`);
    assert.equal(text.reply('!title', 'viewer_1', 0, 1), undefined, 'no bot answers !title');
    assert.equal(text.reply('!nope', 'viewer_1', 0, 1), undefined);
    assert.match(
      text.reply('!sr neon harbor', 'viewer_1', 0, 1)?.text ?? '',
      /^@viewer_1 added "neon harbor"/,
    );
  });

  it('uses the shared vocabulary', () => {
    assert.ok(GLOBAL_EMOTES.includes('KEKW') && SHARED_BOTS.includes('nightbot'));
  });
});
