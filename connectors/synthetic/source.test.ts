import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../pipeline/time/clock.ts';
import type { SourcePosition, SourceReader } from '../../pipeline/types.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { channelProfiles, generateChat } from './generate.ts';
import { DEFAULT_START_MS } from './options.ts';
import { type SyntheticSourceOptions, syntheticChatSource, UNPACED_SLICE_MS } from './source.ts';

const options = { channels: 5, hours: 0.5, seed: 17 };

function byChannel(lines: Iterable<ChatLine>): Map<string, ChatLine[]> {
  const out = new Map<string, ChatLine[]>();
  for (const line of lines) {
    const list = out.get(line.broadcaster_login) ?? [];
    list.push(line);
    out.set(line.broadcaster_login, list);
  }
  return out;
}

async function open(
  sourceOptions: SyntheticSourceOptions,
  clock = new ManualClock(0),
  startPositions?: ReadonlyMap<string, SourcePosition>,
): Promise<SourceReader<ChatLine>> {
  return syntheticChatSource(sourceOptions).open(
    startPositions === undefined ? { clock } : { clock, startPositions },
  );
}

interface Drained {
  records: Map<string, ChatLine[]>;
  positions: Map<string, SourcePosition>;
  ended: string[];
}

/** Polls an unpaced reader until it ends or `maxPolls` polls, checking the batch contract. */
async function drain(reader: SourceReader<ChatLine>, maxPolls = Number.POSITIVE_INFINITY): Promise<Drained> {
  const records = new Map<string, ChatLine[]>();
  const positions = new Map<string, SourcePosition>();
  const ended: string[] = [];
  for (let polls = 0; polls < maxPolls; polls++) {
    const poll = await reader.poll(500);
    if (poll.kind === 'end') break;
    if (poll.kind === 'idle') assert.fail('an unpaced source is never idle');
    if (poll.kind === 'partition-end') {
      assert.ok(!ended.includes(poll.partition), 'each partition ends once');
      ended.push(poll.partition);
      continue;
    }
    assert.ok(poll.records.length > 0 && poll.records.length <= 500);
    const first = poll.records[0] as ChatLine;
    assert.ok((poll.records.at(-1) as ChatLine).ts - first.ts <= UNPACED_SLICE_MS);
    const list = records.get(poll.partition) ?? [];
    list.push(...poll.records);
    records.set(poll.partition, list);
    positions.set(poll.partition, poll.position);
  }
  return { records, positions, ended };
}

describe('syntheticChatSource', () => {
  const expected = byChannel(generateChat(options));
  const logins = channelProfiles(options).map((p) => p.login);

  it('emits one partition per channel, positions counting records, then ends', async () => {
    const reader = await open(options);
    assert.deepEqual(reader.partitions(), logins);
    const { records, positions, ended } = await drain(reader);
    assert.deepEqual([...ended].sort(), [...logins].sort());
    for (const login of logins) {
      assert.deepEqual(records.get(login), expected.get(login));
      assert.equal(positions.get(login), expected.get(login)?.length);
    }
    assert.deepEqual(await reader.poll(10), { kind: 'end' });
  });

  it('can merge channels into a few partitions', async () => {
    const reader = await open({ ...options, partitions: 2 });
    assert.deepEqual(reader.partitions(), ['synthetic-0', 'synthetic-1']);
    const { records } = await drain(reader);
    for (const [p, partition] of ['synthetic-0', 'synthetic-1'].entries()) {
      const lines = records.get(partition) ?? [];
      for (let i = 1; i < lines.length; i++)
        assert.ok((lines[i] as ChatLine).ts >= (lines[i - 1] as ChatLine).ts);
      const mine = logins.filter((_, i) => i % 2 === p);
      assert.deepEqual([...byChannel(lines).keys()].sort(), [...mine].sort());
      for (const login of mine) assert.deepEqual(byChannel(lines).get(login), expected.get(login));
    }
  });

  it('resumes from startPositions with exactly the records that followed', async () => {
    for (const partitions of ['channel', 3] as const) {
      const first = await drain(await open({ ...options, partitions }), 40);
      const rest = await drain(await open({ ...options, partitions }, new ManualClock(0), first.positions));
      const full = await drain(await open({ ...options, partitions }));
      for (const [partition, lines] of full.records) {
        const resumed = [...(first.records.get(partition) ?? []), ...(rest.records.get(partition) ?? [])];
        assert.deepEqual(resumed, lines, `${partition} (${partitions})`);
      }
    }
  });

  it('accepts positions as numeric strings and rejects unknown partitions or bad positions', async () => {
    const login = logins[0] as string;
    const { records } = await drain(await open(options, new ManualClock(0), new Map([[login, '3']])));
    assert.deepEqual(records.get(login), expected.get(login)?.slice(3));
    await assert.rejects(async () => open(options, new ManualClock(0), new Map([['nobody', 0]])), RangeError);
    await assert.rejects(async () => open(options, new ManualClock(0), new Map([[login, -1]])), RangeError);
  });

  it('paces records on the clock: each released exactly when due', async () => {
    const speed = 60;
    const clock = new ManualClock(5_000);
    const anchor = clock.now();
    const reader = await open({ ...options, speed }, clock);
    const dueAt = (line: ChatLine) => anchor + (line.ts - DEFAULT_START_MS) / speed;
    const released = new Map<string, ChatLine[]>();
    let idles = 0;
    while (clock.now() < anchor + 10_000) {
      const poll = await reader.poll(1000);
      if (poll.kind === 'records') {
        for (const line of poll.records) assert.ok(dueAt(line) <= clock.now(), 'never early');
        released.set(poll.partition, [...(released.get(poll.partition) ?? []), ...poll.records]);
        continue;
      }
      assert.equal(poll.kind, 'idle');
      if (poll.kind !== 'idle') return;
      idles++;
      // Idle means everything due by now has been released, and nothing more.
      for (const login of logins) {
        const all = expected.get(login) ?? [];
        let due = released.get(login)?.length ?? 0;
        assert.ok(due === 0 || dueAt(all[due - 1] as ChatLine) <= clock.now());
        while (due < all.length && dueAt(all[due] as ChatLine) <= clock.now()) due++;
        assert.equal(released.get(login)?.length ?? 0, due, `${login} is late at ${clock.now()}`);
      }
      let woke = false;
      void poll.ready.then(() => {
        woke = true;
      });
      await clock.advanceTo(clock.nextAt() as number);
      assert.ok(woke, 'ready resolves when the next record is due');
    }
    assert.ok(idles > 50, `${idles} idle polls`);
    for (const [login, lines] of released)
      assert.deepEqual(lines, expected.get(login)?.slice(0, lines.length));
    assert.ok([...released.values()].flat().length > 100);
  });

  it('on resume, makes the first resumed record due at once', async () => {
    const login = logins[0] as string;
    const clock = new ManualClock(0);
    const reader = await open({ ...options, speed: 1 }, clock, new Map([[login, 50]]));
    const poll = await reader.poll(10);
    assert.equal(poll.kind, 'records');
  });

  it('never ends in endless mode', async () => {
    const reader = await open({ ...options, hours: Number.POSITIVE_INFINITY });
    let last = 0;
    for (let i = 0; i < 2000; i++) {
      const poll = await reader.poll(1000);
      assert.equal(poll.kind, 'records');
      if (poll.kind === 'records') last = Math.max(last, (poll.records.at(-1) as ChatLine).ts);
    }
    assert.ok(last > DEFAULT_START_MS + options.hours * 3_600_000, 'past where the finite run would stop');
  });

  it('describes itself and rejects bad options', () => {
    assert.equal(
      syntheticChatSource({ ...options, speed: 2, partitions: 2 }).describe(),
      'synthetic-chat 5 channels, 0.5h, seed 17 (2 partitions, paced ×2)',
    );
    assert.throws(() => syntheticChatSource({ ...options, speed: 0 }), RangeError);
    assert.throws(() => syntheticChatSource({ ...options, partitions: 0 }), RangeError);
  });
});
