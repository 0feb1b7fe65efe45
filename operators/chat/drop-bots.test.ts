import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import { DEFAULT_BOTS, dropBots, parseBotList } from './drop-bots.ts';

interface Msg {
  user: string;
  text: string;
}

describe('dropBots', () => {
  it('drops the default bots whatever the case of the sender name', () => {
    const h = new OperatorHarness<Msg, Msg>((s) => dropBots(s));
    h.pushAll(
      [
        { user: 'Nightbot', text: 'Follow!' },
        { user: 'viewer1', text: 'hi' },
        { user: 'streamelements', text: 'timer' },
      ],
      [1, 2, 3],
    );
    assert.deepEqual(
      h.values().map((m) => m.user),
      ['viewer1'],
    );
  });

  it('takes a configured list instead of the default', () => {
    const h = new OperatorHarness<Msg, Msg>((s) => dropBots(s, parseBotList(' MyBot, ,other ')));
    h.pushAll(
      [
        { user: 'mybot', text: 'a' },
        { user: 'nightbot', text: 'b' },
        { user: 'OTHER', text: 'c' },
      ],
      [1, 2, 3],
    );
    assert.deepEqual(
      h.values().map((m) => m.user),
      ['nightbot'],
    );
  });

  it('parses comma-separated lists lower-cased, ignoring blanks', () => {
    assert.deepEqual(parseBotList('A,b ,, C'), ['a', 'b', 'c']);
    assert.ok(DEFAULT_BOTS.includes('nightbot'));
  });
});
