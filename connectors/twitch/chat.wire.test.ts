import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseTwitchMessage, ChatMessage as TwurpleChatMessage } from '@twurple/chat';
import type { ChatMessage } from '../../schemas/avro-types.ts';
import {
  MalformedChatMessageError,
  type PrivmsgWire,
  parseBadges,
  parseEmotes,
  toChatMessage,
} from './chat.wire.ts';

const contractLine = (
  JSON.parse(
    readFileSync(new URL('../../test/fakes/twitch/fixtures/chat-privmsg.json', import.meta.url), 'utf8'),
  ) as { line: string }
).line;

/** A line through the parser the client uses (twurple's), as chat.ts receives it. */
function wireOf(line: string): PrivmsgWire {
  const msg = parseTwitchMessage(line);
  assert.ok(msg instanceof TwurpleChatMessage);
  return { channel: msg.target, login: msg.prefix!.nick, text: msg.text, tags: msg.tags };
}

function tags(entries: Record<string, string>): Map<string, string> {
  return new Map(
    Object.entries({
      'room-id': '52419331',
      'user-id': '90345172',
      'tmi-sent-ts': '1741975412063',
      id: '2c6d3f1e-8b9a-4e70-a1d2-5f3e7c9b0a14',
      ...entries,
    }),
  );
}

test("the contract's PRIVMSG example becomes this record", () => {
  assert.deepEqual(toChatMessage(wireOf(contractLine)), {
    broadcaster_id: 52419331,
    timestamp: 1741975412063,
    message_id: '2c6d3f1e-8b9a-4e70-a1d2-5f3e7c9b0a14',
    text: 'hello Kappa and Kappa again',
    user_id: 90345172,
    user_name: 'nova_lynx',
    metadata: {
      emotes: { '25': ['6-10', '18-22'] },
      badges: { subscriber: '12', premium: '1' },
      is_subscriber: true,
      is_mod: false,
    },
    broadcaster_login: 'pixelfox',
  } satisfies ChatMessage);
});

test('tag values reach the record unescaped as §5.9 says, whatever the tag order', () => {
  const line =
    '@user-id=7;reply-parent-msg-body=semi\\:colon\\sspace\\\\back\\rcr\\nlf\\qq\\;room-id=42;' +
    'flag;empty=;tmi-sent-ts=1000;id=abc;badges=vip/1 :ann!ann@ann.tmi.twitch.tv PRIVMSG #Chan :a  b :c';
  const wire = wireOf(line);
  // `\q` is an unknown escape (→ `q`) and the value ends in a lone `\` (dropped).
  assert.equal(wire.tags.get('reply-parent-msg-body'), 'semi;colon space\\back\rcr\nlfqq');
  assert.equal(wire.tags.get('flag'), '');
  assert.equal(wire.tags.get('empty'), '');
  const record = toChatMessage(wire);
  assert.equal(record.text, 'a  b :c');
  assert.equal(record.broadcaster_id, 42);
  assert.equal(record.broadcaster_login, 'chan');
  assert.deepEqual(record.metadata.badges, { vip: '1' });
  assert.deepEqual(record.metadata.emotes, {});
});

test('emote ranges are kept per id, in code points, clamped to the text', () => {
  const text = '🎉🎉 Kappa'; // 8 code points, 10 UTF-16 units
  assert.deepEqual(parseEmotes('25:3-7/emotesv2_a1b2:0-0,1-1', text), {
    '25': ['3-7'],
    emotesv2_a1b2: ['0-0', '1-1'],
  });
  // Twitch sometimes overshoots: the end is cut at the last code point, a start past it is dropped.
  assert.deepEqual(parseEmotes('25:3-9,8-9', text), { '25': ['3-7'] });
  assert.deepEqual(parseEmotes('300196486_TK:0-1,x-2,4/:1-2/25:', 'ab'), { '300196486_TK': ['0-1'] });
  assert.deepEqual(parseEmotes('', text), {});
  assert.deepEqual(parseEmotes(undefined, text), {});
});

test('badges become name → version', () => {
  assert.deepEqual(parseBadges('broadcaster/1,subscriber/3012,glhf-pledge/1'), {
    broadcaster: '1',
    subscriber: '3012',
    'glhf-pledge': '1',
  });
  assert.deepEqual(parseBadges(''), {});
  assert.deepEqual(parseBadges('novalue,/1,ok/2'), { ok: '2' });
});

test('flags and names are normalised: 1 is true, anything else false; logins lower case', () => {
  const r = toChatMessage({
    channel: '#PixelFox',
    login: 'Nova_Lynx',
    text: 'x',
    tags: tags({ mod: '1', subscriber: '0' }),
  });
  assert.equal(r.metadata.is_mod, true);
  assert.equal(r.metadata.is_subscriber, false);
  assert.equal(r.user_name, 'nova_lynx');
  assert.equal(r.broadcaster_login, 'pixelfox');
  const noFlags = toChatMessage({ channel: 'pixelfox', login: 'a', text: 'x', tags: tags({}) });
  assert.deepEqual(noFlags.metadata, { emotes: {}, badges: {}, is_subscriber: false, is_mod: false });
});

test('a message without a usable id, time or room is malformed, with the tag named', () => {
  const wire = (t: Map<string, string>): PrivmsgWire => ({ channel: '#c', login: 'a', text: 'x', tags: t });
  const missing = tags({});
  missing.delete('room-id');
  assert.throws(
    () => toChatMessage(wire(missing)),
    (e: unknown) =>
      e instanceof MalformedChatMessageError && e.message === 'chat message without the room-id tag',
  );
  assert.throws(() => toChatMessage(wire(tags({ id: '' }))), /without the id tag/);
  assert.throws(() => toChatMessage(wire(tags({ 'user-id': 'abc' }))), /non-numeric user-id tag: "abc"/);
  assert.throws(() => toChatMessage(wire(tags({ 'tmi-sent-ts': '1.5e12' }))), /non-numeric tmi-sent-ts/);
  assert.throws(
    () => toChatMessage(wire(tags({ 'room-id': '99999999999999999999' }))),
    /non-numeric room-id/,
  );
});
