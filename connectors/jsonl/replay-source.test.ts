import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ManualClock, settle } from '../../pipeline/time/clock.ts';
import type { Poll, SourcePosition, SourceReader } from '../../pipeline/types.ts';
import type { ChatLine } from '../../schemas/chat-line.ts';
import { jsonlReplaySource } from './replay-source.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamscout-replay-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function chat(ts: number, text = `m${ts}`, channel = 'xqc'): ChatLine {
  return { broadcaster_login: channel, ts, user: 'u1', text };
}

function jsonl(lines: readonly (ChatLine | string)[]): string {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
}

async function fixture(name: string, lines: readonly (ChatLine | string)[], gzip = false): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(jsonl(lines)) : jsonl(lines));
  return path;
}

/**
 * Polls, waiting out idles that only wait for the disk (they schedule nothing on the clock);
 * returns the first poll that is not such an idle.
 */
async function pollPastIo<T>(reader: SourceReader<T>, clock: ManualClock, max = 1000): Promise<Poll<T>> {
  for (;;) {
    const scheduled = clock.pending();
    const poll = await reader.poll(max);
    if (poll.kind !== 'idle' || clock.pending() > scheduled) return poll;
    await poll.ready;
  }
}

/** Every poll up to `end` (idles for the disk left out). */
async function drain<T>(reader: SourceReader<T>, clock: ManualClock, max = 1000): Promise<Poll<T>[]> {
  const polls: Poll<T>[] = [];
  for (;;) {
    const poll = await pollPastIo(reader, clock, max);
    assert.notEqual(poll.kind, 'idle', 'an unpaced replay only idles for the disk');
    polls.push(poll);
    if (poll.kind === 'end') return polls;
  }
}

function recordsOf<T>(polls: readonly Poll<T>[]): T[] {
  return polls.flatMap((p) => (p.kind === 'records' ? p.records : []));
}

describe('jsonlReplaySource', () => {
  it('describes the files and the pace', () => {
    assert.equal(jsonlReplaySource(['a/x.jsonl']).describe(), 'jsonl-replay a/x.jsonl');
    assert.equal(
      jsonlReplaySource(['a.jsonl', 'b.jsonl'], { speed: 10 }).describe(),
      'jsonl-replay 2 files at 10× recorded pace',
    );
  });

  it('replays a plain and a gzipped file with line-number positions, then ends each and all', async () => {
    for (const gzip of [false, true]) {
      const name = gzip ? 'one.jsonl.gz' : 'one.jsonl';
      const lines = [chat(1), chat(2), chat(3)];
      const path = await fixture(name, lines, gzip);
      const clock = new ManualClock();
      const reader = await jsonlReplaySource([path]).open({ clock });
      assert.deepEqual(reader.partitions(), [name]);
      assert.deepEqual(await drain(reader, clock, 2), [
        { kind: 'records', partition: name, records: lines.slice(0, 2), position: 2 },
        { kind: 'records', partition: name, records: lines.slice(2), position: 3 },
        { kind: 'partition-end', partition: name },
        { kind: 'end' },
      ]);
      await reader.close();
    }
  });

  it('counts and skips lines that are not JSON, fail validation or lack a timestamp, and never throws', async () => {
    const path = await fixture('bad.jsonl', [
      chat(1),
      '{"broadcaster_login":"xqc","ts":2,"user":"u1"', // cut short
      JSON.stringify({ broadcaster_login: 'xqc', ts: 3, user: 'u1' }), // no text
      '',
      JSON.stringify({ ...chat(4), ts: '4' }),
      chat(5),
    ]);
    const clock = new ManualClock();
    const source = jsonlReplaySource([path]);
    const reader = await source.open({ clock });
    assert.deepEqual(await drain(reader, clock, 1), [
      { kind: 'records', partition: 'bad.jsonl', records: [chat(1)], position: 1 },
      { kind: 'records', partition: 'bad.jsonl', records: [chat(5)], position: 6 },
      { kind: 'partition-end', partition: 'bad.jsonl' },
      { kind: 'end' },
    ]);
    const stats = source.stats();
    assert.equal(stats.linesRead, 6);
    assert.equal(stats.malformed, 3);
    assert.equal(stats.firstMalformed?.file, path);
    assert.equal(stats.firstMalformed?.line, 2);
    assert.match(stats.firstMalformed?.error ?? '', /JSON/);
    assert.equal(stats.totalBytes, (await stat(path)).size);
    assert.equal(stats.bytesRead, stats.totalBytes);
  });

  it('counts a record whose custom timestamp is not a finite number as malformed', async () => {
    const path = await fixture('when.jsonl', [chat(1), chat(2)]);
    const clock = new ManualClock();
    const source = jsonlReplaySource([path], { timestamp: (m) => (m.ts === 1 ? Number.NaN : m.ts) });
    const reader = await source.open({ clock });
    assert.deepEqual(recordsOf(await drain(reader, clock)), [chat(2)]);
    assert.deepEqual(source.stats().firstMalformed, {
      file: path,
      line: 1,
      error: 'timestamp is not a finite number',
    });
  });

  it('merges several files into one stream in time order, one partition per batch', async () => {
    const a = [1, 2, 2, 5, 9, 10, 11].map((ts) => chat(ts, `a${ts}`));
    const b = [0, 2, 3, 4, 12].map((ts) => chat(ts, `b${ts}`));
    const c = [6, 7, 8].map((ts) => chat(ts, `c${ts}`));
    const files = [
      await fixture('a.jsonl', a),
      await fixture('b.jsonl.gz', b, true),
      await fixture('c.jsonl', c),
    ];
    const clock = new ManualClock();
    const reader = await jsonlReplaySource(files).open({ clock });
    const polls = await drain(reader, clock);
    const records = recordsOf(polls);
    assert.equal(records.length, a.length + b.length + c.length);
    for (let i = 1; i < records.length; i++) {
      assert.ok(
        records[i - 1]!.ts <= records[i]!.ts,
        `ts ${records[i - 1]!.ts} then ${records[i]!.ts} at ${i}`,
      );
    }
    const batches = polls
      .filter((p) => p.kind === 'records')
      .map((p) => `${p.partition}:${p.records.length}`);
    assert.deepEqual(batches, [
      'b.jsonl.gz:1', // 0
      'a.jsonl:3', // 1, 2, 2 (ties go to the earlier file, and a takes its 2s while ≤ b's next, 2)
      'b.jsonl.gz:3', // 2, 3, 4
      'a.jsonl:1', // 5
      'c.jsonl:3', // 6, 7, 8
      'a.jsonl:3', // 9, 10, 11
      'b.jsonl.gz:1', // 12
    ]);
    const ends = polls.filter((p) => p.kind === 'partition-end').map((p) => p.partition);
    assert.deepEqual(new Set(ends), new Set(['a.jsonl', 'b.jsonl.gz', 'c.jsonl']));
  });

  it('resumes after the positions of a checkpoint, malformed lines included in the count', async () => {
    const lines = [chat(1), 'garbage', chat(2), chat(3), chat(4)];
    const path = await fixture('resume.jsonl', lines);
    const clock = new ManualClock();
    const source = jsonlReplaySource([path]);
    const first = await source.open({ clock });
    const batch = await pollPastIo(first, clock, 2);
    assert.deepEqual(batch, {
      kind: 'records',
      partition: 'resume.jsonl',
      records: [chat(1), chat(2)],
      position: 3,
    });
    await first.close();

    const startPositions = new Map<string, SourcePosition>([['resume.jsonl', 3]]);
    const second = await source.open({ clock, startPositions });
    assert.deepEqual(recordsOf(await drain(second, clock)), [chat(3), chat(4)]);
    assert.equal(source.stats().linesRead, 2, 'skipped lines are not read');
    assert.equal(source.stats().malformed, 0);
  });

  it('resumes deep inside a large gzipped file', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => chat(i));
    const path = await fixture('big.jsonl.gz', lines, true);
    const clock = new ManualClock();
    const reader = await jsonlReplaySource([path]).open({
      clock,
      startPositions: new Map<string, SourcePosition>([['big.jsonl.gz', '12345']]),
    });
    const first = await pollPastIo(reader, clock, 1);
    assert.deepEqual(first, {
      kind: 'records',
      partition: 'big.jsonl.gz',
      records: [chat(12_345)],
      position: 12_346,
    });
    assert.equal(recordsOf(await drain(reader, clock)).length, 20_000 - 12_346);
  });

  it('rejects positions for a file that is not replayed, and positions that are not line counts', async () => {
    const path = await fixture('p.jsonl', [chat(1)]);
    const clock = new ManualClock();
    await assert.rejects(
      async () => jsonlReplaySource([path]).open({ clock, startPositions: new Map([['other.jsonl', 1]]) }),
      /position for other\.jsonl, which is not replayed/,
    );
    await assert.rejects(
      async () => jsonlReplaySource([path]).open({ clock, startPositions: new Map([['p.jsonl', '1.5']]) }),
      /position "1\.5" of p\.jsonl is not a line count/,
    );
  });

  it('rejects a missing file with a one-line message', async () => {
    const present = await fixture('present.jsonl', [chat(1)]);
    const missing = join(dir, 'missing.jsonl');
    await assert.rejects(
      async () => jsonlReplaySource([present, missing]).open({ clock: new ManualClock() }),
      {
        message: `cannot read ${missing}: no such file`,
      },
    );
  });

  it('paces records at the recorded pace times speed on the clock', async () => {
    const lines = [chat(10_000, 'a'), chat(10_000, 'b'), chat(10_500, 'c'), chat(12_000, 'd')];
    const path = await fixture('paced.jsonl', lines);
    const clock = new ManualClock(1_000);
    const reader = await jsonlReplaySource([path], { speed: 2 }).open({ clock });

    // The first record is anchored to the clock at the first poll, so it is due at once.
    const first = await pollPastIo(reader, clock);
    assert.equal(first.kind, 'records');
    assert.deepEqual(first.kind === 'records' && first.records, [lines[0], lines[1]]);

    // 'c' is 500 ms later in the recording: due 250 ms later at speed 2.
    const waiting = await pollPastIo(reader, clock);
    assert.equal(waiting.kind, 'idle');
    assert.equal(clock.nextAt(), 1_250);
    let woke = false;
    if (waiting.kind === 'idle') waiting.ready.then(() => (woke = true));
    await clock.advance(249);
    assert.equal(woke, false);
    assert.equal((await reader.poll(1000)).kind, 'idle', 'not released a millisecond early');
    await clock.advance(1);
    assert.equal(woke, true);
    assert.deepEqual(await reader.poll(1000), {
      kind: 'records',
      partition: 'paced.jsonl',
      records: [lines[2]],
      position: 3,
    });

    // 'd' is due at 1000 + 2000 / 2; advancing past it releases it in the next poll.
    assert.equal((await reader.poll(1000)).kind, 'idle');
    await clock.advanceTo(2_100);
    await settle();
    assert.deepEqual(await reader.poll(1000), {
      kind: 'records',
      partition: 'paced.jsonl',
      records: [lines[3]],
      position: 4,
    });
  });

  it('reads records of another type given a validator and a timestamp', async () => {
    interface View {
      readonly at: number;
      readonly viewers: number;
    }
    const isView = (v: unknown): v is View =>
      typeof v === 'object' && v !== null && typeof (v as { viewers?: unknown }).viewers === 'number';
    const path = join(dir, 'views.jsonl');
    await writeFile(path, '{"at":5,"viewers":10}\n{"at":6}\n{"at":7,"viewers":12}\n');
    const clock = new ManualClock();
    const source = jsonlReplaySource<View>([path], { validate: isView, timestamp: (v) => v.at });
    const reader = await source.open({ clock });
    assert.deepEqual(recordsOf(await drain(reader, clock)), [
      { at: 5, viewers: 10 },
      { at: 7, viewers: 12 },
    ]);
    assert.equal(source.stats().malformed, 1);

    // @ts-expect-error a record type other than ChatLine needs a validator or a parser
    jsonlReplaySource<View>([path], { timestamp: (v) => v.at });
    // @ts-expect-error and, without a numeric `ts`, a timestamp
    jsonlReplaySource<View>([path], { validate: isView });
  });
});
