import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChatRecord, toChatLine } from './chat-record.ts';

describe('toChatLine', () => {
  it('passes the recorded-chat format through', () => {
    const line = { broadcaster_login: 'ann', ts: 5, user: 'u', text: 'hi' };
    assert.equal(toChatLine(line), line);
  });

  it('maps a chat-messages record (DESIGN.md contract) onto a chat line', () => {
    const record = {
      broadcaster_id: 12345,
      timestamp: 1704067200000,
      message_id: 'uuid-string',
      text: 'message content',
      user_id: 67890,
      user_name: 'viewer_name',
      metadata: { emotes: {}, badges: {}, is_subscriber: false, is_mod: false },
    };
    assert.deepEqual(toChatLine(record), {
      broadcaster_login: '12345',
      broadcaster_id: 12345,
      ts: 1704067200000,
      user: 'viewer_name',
      text: 'message content',
    });
    assert.equal(toChatLine({ ...record, broadcaster_login: 'ann' }).broadcaster_login, 'ann');
  });

  it('rejects anything else with one line naming both accepted shapes', () => {
    for (const bad of [
      null,
      7,
      { ts: 1 },
      { broadcaster_id: '1', timestamp: 1, user_name: 'u', text: 't' },
    ]) {
      assert.throws(
        () => toChatLine(bad),
        /expected \{broadcaster_login, ts, user, text\} or a chat-messages record/,
      );
    }
    assert.throws(() => parseChatRecord('{not json'), SyntaxError);
  });
});
