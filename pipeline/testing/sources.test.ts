import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../time/clock.ts';
import type { Poll, SourcePosition, SourceReader } from '../types.ts';
import { collect, fromArray, fromPartitions, slowSink } from './sources.ts';

type Read = string; // `${partition}:${records}` or `${partition}:end` or `end`

function describePoll(poll: Poll<number>): Read {
  switch (poll.kind) {
    case 'records':
      return `${poll.partition}:${poll.records.join(',')}`;
    case 'partition-end':
      return `${poll.partition}:end`;
    default:
      return poll.kind;
  }
}

/** Polls until `end`, tracking positions the way the source step does. */
function readAll(reader: SourceReader<number>, max: number, limit = Number.POSITIVE_INFINITY) {
  const reads: Read[] = [];
  const positions = new Map<string, SourcePosition>();
  for (let i = 0; i < limit; i++) {
    const poll = reader.poll(max) as Poll<number>;
    reads.push(describePoll(poll));
    if (poll.kind === 'records') positions.set(poll.partition, poll.position);
    if (poll.kind === 'end') break;
  }
  return { reads, positions };
}

const clock = new ManualClock(0);

describe('fromPartitions', () => {
  const data = { a: [1, 2, 3, 4, 5], b: [10, 20], c: [100, 200, 300, 400] };

  it('reads each partition in order, interleaving them, and ends each before the whole source', () => {
    const source = fromPartitions(data);
    const { reads } = readAll(source.open({ clock }) as SourceReader<number>, 2);
    // Least-read first (ties in declaration order); an exhausted partition ends at the next poll.
    assert.deepEqual(reads, [
      'a:1,2',
      'b:10,20',
      'b:end',
      'c:100,200',
      'a:3,4',
      'c:300,400',
      'c:end',
      'a:5',
      'a:end',
      'end',
    ]);
    assert.equal(source.polls, reads.length);
    assert.equal(source.describe(), 'test partitions (a, b, c)');
  });

  it('resumes from positions with exactly the reads an uninterrupted reader would make', () => {
    const whole = readAll(fromPartitions(data).open({ clock }) as SourceReader<number>, 2).reads;
    for (let cut = 1; cut < whole.length; cut++) {
      const first = readAll(fromPartitions(data).open({ clock }) as SourceReader<number>, 2, cut);
      const resumed = readAll(
        fromPartitions(data).open({ clock, startPositions: first.positions }) as SourceReader<number>,
        2,
      ).reads;
      // A partition that had already ended may announce its end once more; no record is read twice.
      const records = (reads: Read[]) => reads.filter((r) => !r.endsWith('end'));
      assert.deepEqual(
        [...records(first.reads), ...records(resumed)],
        records(whole),
        `cut after ${cut} polls`,
      );
    }
  });

  it('reads a one-partition source with fromArray', () => {
    assert.deepEqual(readAll(fromArray([7, 8, 9]).open({ clock }) as SourceReader<number>, 2).reads, [
      '0:7,8',
      '0:9',
      '0:end',
      'end',
    ]);
  });
});

describe('collect', () => {
  it('keeps records and their timestamps in the order written', async () => {
    const sink = collect<string>();
    const writer = await sink.open({ clock });
    await writer.write(['a', 'b'], [1, 2]);
    await writer.write(['c'], [3]);
    assert.deepEqual(sink.records, ['a', 'b', 'c']);
    assert.deepEqual(sink.timestamps, [1, 2, 3]);
  });
});

describe('slowSink', () => {
  it('counts a write only once its delay has passed', async () => {
    const manual = new ManualClock(0);
    const sink = slowSink<number>(() => manual.sleep(100));
    const writer = await sink.open({ clock: manual });
    const written = writer.write([1, 2, 3], [0, 0, 0]);
    assert.equal(sink.writes, 1);
    assert.equal(sink.written, 0);
    await manual.advance(99);
    assert.equal(sink.written, 0);
    await manual.advance(1);
    await written;
    assert.equal(sink.written, 3);
  });
});
