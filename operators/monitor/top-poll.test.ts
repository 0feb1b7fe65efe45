import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankPoll, type TopStream } from './top-poll.ts';

export function stream(id: number, viewers = 1000 - id): TopStream {
  return {
    stream_id: `s${id}`,
    broadcaster_id: id,
    broadcaster_login: `c${id}`,
    broadcaster_name: `C${id}`,
    game_id: '509658',
    game_name: 'Just Chatting',
    title: 't',
    viewer_count: viewers,
    language: 'en',
    started_at: 0,
  };
}

describe('rankPoll', () => {
  it('ranks in Twitch order after removing clipping-disabled channels', () => {
    const ranked = rankPoll({ collected_at: 5, streams: [stream(1), stream(2), stream(3)], excluded: [2] });
    assert.deepEqual(
      ranked.map((s) => [s.broadcaster_id, s.rank, s.collected_at]),
      [
        [1, 1, 5],
        [3, 2, 5],
      ],
    );
  });

  it('keeps a broadcaster once when a page repeats it', () => {
    const ranked = rankPoll({ collected_at: 5, streams: [stream(1), stream(1), stream(2)], excluded: [] });
    assert.deepEqual(
      ranked.map((s) => s.rank),
      [1, 2],
    );
  });
});
