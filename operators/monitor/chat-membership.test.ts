import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import type { StreamSnapshot } from '../../schemas/avro-types.ts';
import { type ChatMembership, chatMembership, decideMembership } from './chat-membership.ts';
import { stream } from './top-poll.test.ts';
import { rankPoll } from './top-poll.ts';

/** A poll whose top list is `ids` in that order. */
const poll = (ids: number[], at = 0) =>
  rankPoll({ collected_at: at, streams: ids.map((id) => stream(id)), excluded: [] });

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('decideMembership', () => {
  it('joins the top 5 and leaves a channel only once it is out of the top 10', () => {
    let joined = decideMembership(poll(range(1, 12)), []).joined;
    assert.deepEqual(
      joined.map((m) => m.id),
      [1, 2, 3, 4, 5],
    );
    // Channel 1 drops to 7th: still inside the top 10, it stays; 6 rises into the top 5.
    const second = decideMembership(poll([2, 3, 4, 5, 6, 8, 1, 9, 10, 11]), joined);
    assert.deepEqual(
      second.changes.map((c) => [c.action, c.broadcaster_id]),
      [['join', 6]],
    );
    joined = second.joined;
    // Channel 1 drops to 11th: out.
    const third = decideMembership(poll([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 1]), joined);
    assert.deepEqual(
      third.changes.map((c) => [c.action, c.broadcaster_id, c.rank]),
      [['part', 1, 11]],
    );
  });

  it('leaves a channel that went offline (absent from the list) with rank 0', () => {
    const { joined } = decideMembership(poll([1, 2]), []);
    const { changes } = decideMembership(poll([2]), joined);
    assert.deepEqual(changes, [{ action: 'part', broadcaster_login: 'c1', broadcaster_id: 1, rank: 0 }]);
  });

  it('honours other thresholds and refuses enter > leave', () => {
    const { joined } = decideMembership(poll(range(1, 5)), [], { enterTop: 2, leaveTop: 3 });
    assert.deepEqual(
      joined.map((m) => m.id),
      [1, 2],
    );
    assert.throws(() => decideMembership([], [], { enterTop: 6, leaveTop: 5 }), /enter \(6\) <= leave \(5\)/);
  });
});

describe('chatMembership', () => {
  it('keeps the joined set in keyed state across polls and a restore', () => {
    const make = () =>
      new OperatorHarness<readonly StreamSnapshot[], ChatMembership>((s) =>
        chatMembership(s, { enterTop: 2, leaveTop: 3 }),
      );
    const h = make();
    h.push(poll([1, 2, 3], 0), 0);
    const snapshot = h.snapshot();
    const restored = make();
    restored.restore(snapshot);
    restored.push(poll([3, 4, 1], 1), 1);
    const [after] = restored.values();
    assert.deepEqual(
      after?.channels.map((m) => m.id),
      [1, 3, 4],
    );
    assert.deepEqual(
      after?.changes.map((c) => [c.action, c.broadcaster_id]),
      [
        ['part', 2],
        ['join', 3],
        ['join', 4],
      ],
    );
  });
});
