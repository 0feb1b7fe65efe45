import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import { dropCommands, isCommand } from './drop-commands.ts';

describe('dropCommands', () => {
  it('drops messages whose text starts with "!" and keeps the rest in order', () => {
    const h = new OperatorHarness<{ text: string }, { text: string }>((s) => dropCommands(s));
    h.pushAll(
      [{ text: '!uptime' }, { text: 'PogChamp' }, { text: ' !not-a-command' }, { text: 'wow !' }],
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      h.values().map((m) => m.text),
      ['PogChamp', ' !not-a-command', 'wow !'],
    );
  });

  it('isCommand looks only at the first character', () => {
    assert.equal(isCommand('!'), true);
    assert.equal(isCommand('hi !so'), false);
    assert.equal(isCommand(''), false);
  });
});
