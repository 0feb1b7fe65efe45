import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../../pipeline/builder.ts';
import { runJob } from '../../pipeline/runtime/runtime.ts';
import { OperatorHarness } from '../../pipeline/testing/harness.ts';
import { collect, fromArray } from '../../pipeline/testing/sources.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import type { StreamLifecycle, StreamSnapshot } from '../../schemas/avro-types.ts';
import { presence } from './presence.ts';
import { stream } from './top-poll.test.ts';
import { rankPoll } from './top-poll.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

function harness() {
  const h = new OperatorHarness<StreamSnapshot, StreamLifecycle>((s) =>
    presence(s, { pollIntervalMs: 2 * MIN, offlineAfterPolls: 2 }),
  );
  const runPoll = (n: number, ids: number[]) => {
    const at = T0 + n * 2 * MIN;
    for (const s of rankPoll({ collected_at: at, streams: ids.map((id) => stream(id)), excluded: [] }))
      h.push(s, at);
    // As a source sets it after the poll: every event at or before `at - 1` has been seen.
    h.watermark(at - 1);
  };
  const events = () => h.values().map((e) => [e.event_type, e.broadcaster_id, e.rank ?? null]);
  return { h, runPoll, events };
}

describe('presence', () => {
  it('says online once, then rank changes, from the polls', () => {
    const { runPoll, events } = harness();
    runPoll(0, [1, 2]);
    runPoll(1, [1, 2]);
    runPoll(2, [2, 1]);
    assert.deepEqual(events(), [
      ['online', 1, 1],
      ['online', 2, 2],
      ['rank', 2, 1],
      ['rank', 1, 2],
    ]);
  });

  it('says offline only after the stream has been missing for two polls', () => {
    const { h, runPoll, events } = harness();
    runPoll(0, [1, 2]);
    runPoll(1, [2]); // 1 missing once: still online
    assert.equal(events().filter((e) => e[0] === 'offline').length, 0);
    runPoll(2, [2]); // missing twice: offline
    assert.deepEqual(
      events().filter((e) => e[0] === 'offline'),
      [['offline', 1, null]],
    );
    const offline = h.values().find((e) => e.event_type === 'offline');
    assert.equal(offline?.timestamp, Math.floor((T0 + 4 * MIN) / 1000));
  });

  it('keeps a stream that comes back before the second missed poll, and says online again after an offline', () => {
    const { runPoll, events } = harness();
    runPoll(0, [1]);
    runPoll(1, []);
    runPoll(2, [1]); // back in time
    runPoll(3, []);
    runPoll(4, []);
    runPoll(5, [1]);
    assert.deepEqual(events(), [
      ['online', 1, 1],
      ['offline', 1, null],
      ['online', 1, 1],
    ]);
  });

  it('dates an offline at the end of the input when it fell due, not at the infinite watermark', async () => {
    const p = pipeline('presence-end');
    const polls = [0, 1].map((n) => ({ collected_at: T0 + n * 2 * MIN, streams: [stream(1)], excluded: [] }));
    const out = collect<StreamLifecycle>();
    presence(p.from(fromArray(polls), { timestamp: (poll) => poll.collected_at }).flatMap(rankPoll), {
      pollIntervalMs: 2 * MIN,
      offlineAfterPolls: 2,
    }).to(out);
    await runJob(p.graph(), { clock: new ManualClock(T0) });
    const offline = out.records.find((e) => e.event_type === 'offline');
    assert.equal(offline?.timestamp, Math.floor((T0 + 2 * MIN + 3 * MIN) / 1000));
  });

  it('never says offline while no poll succeeds (the watermark does not move)', () => {
    const { h, runPoll, events } = harness();
    runPoll(0, [1]);
    h.clock.advance(60 * MIN);
    assert.deepEqual(events(), [['online', 1, 1]]);
  });
});
