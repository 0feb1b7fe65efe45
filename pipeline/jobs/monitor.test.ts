import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatMembership } from '../../operators/monitor/chat-membership.ts';
import { stream } from '../../operators/monitor/top-poll.test.ts';
import type { TopPoll } from '../../operators/monitor/top-poll.ts';
import type { ChatMessage, StreamLifecycle, StreamSnapshot } from '../../schemas/avro-types.ts';
import type { StreamerUpdate } from '../../schemas/streamer.ts';
import { GraphError } from '../builder.ts';
import { runJob } from '../runtime/runtime.ts';
import { collect, fromArray } from '../testing/sources.ts';
import { ManualClock } from '../time/clock.ts';
import type { Sink, Source } from '../types.ts';
import { EmbeddedBroker, embeddedContext } from './contexts.ts';
import monitor, { monitorOptions, TWITCH_BINDINGS } from './monitor.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** Runs the monitor over scripted polls; `top[i]` is poll i's list of broadcaster ids. */
async function run(top: number[][], options: Record<string, string> = {}, excluded: number[] = []) {
  const polls: TopPoll[] = top.map((ids, i) => ({
    collected_at: T0 + i * 2 * MIN,
    streams: ids.map((id) => stream(id)),
    excluded,
  }));
  const chat: ChatMessage[] = [
    {
      broadcaster_id: 1,
      timestamp: T0 + 1000,
      message_id: 'm1',
      text: 'hi',
      user_id: 9,
      user_name: 'v',
      metadata: { emotes: {}, badges: {}, is_subscriber: false, is_mod: false },
      broadcaster_login: 'c1',
    },
  ];
  const eventSub: StreamLifecycle[] = [
    {
      event_type: 'online',
      broadcaster_id: 7,
      broadcaster_login: 'c7',
      rank: null,
      timestamp: T0 / 1000,
      source: 'eventsub',
    },
  ];
  const out = {
    lifecycle: collect<StreamLifecycle>(),
    snapshots: collect<StreamSnapshot>(),
    chat: collect<ChatMessage>(),
    membership: collect<ChatMembership>(),
    streamers: collect<StreamerUpdate>(),
  };
  const clock = new ManualClock(T0);
  const ctx = embeddedContext(new EmbeddedBroker(), {
    clock,
    mode: 'live',
    options,
    inputs: new Map<string, Source<unknown>>([
      [TWITCH_BINDINGS.polls, fromArray(polls) as Source<unknown>],
      [TWITCH_BINDINGS.chat, fromArray(chat) as Source<unknown>],
      [TWITCH_BINDINGS.eventSub, fromArray(eventSub) as Source<unknown>],
    ]),
    outputs: new Map<string, Sink<unknown>>([
      ['stream-lifecycle', out.lifecycle as Sink<unknown>],
      ['stream-snapshots', out.snapshots as Sink<unknown>],
      ['chat-messages', out.chat as Sink<unknown>],
      [TWITCH_BINDINGS.membership, out.membership as Sink<unknown>],
    ]),
    stores: new Map([['streamers', out.streamers as Sink<unknown>]]),
  });
  await runJob(monitor.build(ctx).graph(), { clock });
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the monitor job', () => {
  it('publishes ranked snapshots, lifecycle events from polls and EventSub, sightings and chat', async () => {
    const out = await run([[1, 2, 3], [2, 1], [2], [2]], { 'chat-enter': '1', 'chat-leave': '1', top: '5' });
    assert.deepEqual(
      out.snapshots.records.map((s) => [s.collected_at - T0, s.broadcaster_id, s.rank]),
      [
        [0, 1, 1],
        [0, 2, 2],
        [0, 3, 3],
        [2 * MIN, 2, 1],
        [2 * MIN, 1, 2],
        [4 * MIN, 2, 1],
        [6 * MIN, 2, 1],
      ],
    );
    const lifecycle = out.lifecycle.records.map((e) => [e.event_type, e.broadcaster_id, e.source]);
    assert.deepEqual(
      lifecycle.filter((e) => e[2] === 'poll'),
      [
        ['online', 1, 'poll'],
        ['online', 2, 'poll'],
        ['online', 3, 'poll'],
        ['rank', 2, 'poll'],
        ['rank', 1, 'poll'],
        // 3 missing at polls 1 and 2: offline at poll 2; 1 missing at polls 2 and 3: offline at 3.
        ['offline', 3, 'poll'],
        ['offline', 1, 'poll'],
        // The scripted polls end, which ends event time: what is still online goes offline.
        ['offline', 2, 'poll'],
      ],
    );
    assert.deepEqual(
      lifecycle.filter((e) => e[2] === 'eventsub'),
      [['online', 7, 'eventsub']],
    );
    assert.deepEqual(
      out.membership.records.flatMap((m) => m.changes).map((c) => [c.action, c.broadcaster_id]),
      [
        ['join', 1],
        ['part', 1],
        ['join', 2],
      ],
    );
    assert.equal(out.streamers.records.length, 7);
    assert.deepEqual(out.streamers.records[0], { broadcaster_id: 1, broadcaster_login: 'c1', seen_at: T0 });
    assert.deepEqual(
      out.chat.records.map((m) => m.message_id),
      ['m1'],
    );
  });

  it('keeps clipping-disabled channels out of the ranking and the chat joins', async () => {
    const out = await run([range(1, 6)], {}, [1, 3]);
    assert.deepEqual(
      out.snapshots.records.map((s) => [s.broadcaster_id, s.rank]),
      [
        [2, 1],
        [4, 2],
        [5, 3],
        [6, 4],
      ],
    );
    assert.deepEqual(
      out.membership.records.at(-1)?.channels.map((m) => m.id),
      [2, 4, 5, 6],
    );
  });

  it('refuses options that make no sense, in one line', () => {
    assert.throws(() => monitorOptions({ 'chat-enter': '6', 'chat-leave': '5' }), GraphError);
    assert.throws(() => monitorOptions({ top: '0' }), /option top must be a whole number >= 1, got "0"/);
    assert.throws(() => monitorOptions({ poll: 'soon' }));
    assert.deepEqual(monitorOptions({}), {
      pollIntervalMs: 120_000,
      top: 100,
      offlineAfterPolls: 2,
      chatEnter: 5,
      chatLeave: 10,
    });
  });
});
