import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Database, openDatabase, type Queryable } from '../../connectors/postgres/database.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pipeline } from '../../pipeline/builder.ts';
import { runJob } from '../../pipeline/runtime/runtime.ts';
import { track } from '../../pipeline/testing/promises.ts';
import { fromArray, fromPartitions } from '../../pipeline/testing/sources.ts';
import { ManualClock, settle } from '../../pipeline/time/clock.ts';
import type { Clip } from '../../schemas/clip.ts';
import { createTestDatabase, DATABASE_TARGETS, type TestDatabase } from '../../test/services.ts';
import { postgresClipSink } from './clip-sink.ts';

/** 2026-11-20T10:00:00.000Z */
const BASE = Date.UTC(2026, 10, 20, 10, 0, 0);

/** Clip `n`: seven broadcasters, a detection time with a non-zero millisecond part. */
function clip(n: number, overrides: Partial<Clip> = {}): Clip {
  return {
    clip_id: `Clip${n}-AwkwardFancyPotato`,
    broadcaster_id: 100_000 + (n % 7),
    broadcaster_login: `streamer_${n % 7}`,
    embed_url: `https://clips.twitch.tv/embed?clip=Clip${n}`,
    thumbnail_url: `https://static-cdn.jtvnw.net/clip-${n}-preview-480x272.jpg`,
    detected_at: BASE + n * 5_000 + (n % 1000),
    ...overrides,
  };
}

function clips(from: number, to: number): Clip[] {
  return Array.from({ length: to - from }, (_, i) => clip(from + i));
}

/** The stored clips, in the `Clip` shape, ordered by clip id. */
async function storedClips(db: Queryable): Promise<Clip[]> {
  return db.query<Clip>(
    `SELECT c.clip_id, c.broadcaster_id, s.streamer_login AS broadcaster_login, c.embed_url, c.thumbnail_url,
            c.detected_at
       FROM clips c JOIN streamers s USING (broadcaster_id)
      ORDER BY c.clip_id`,
  );
}

function byId(list: readonly Clip[]): Clip[] {
  return [...list].sort((a, b) => (a.clip_id < b.clip_id ? -1 : a.clip_id > b.clip_id ? 1 : 0));
}

/** A database that counts the statements run in its transactions. */
function counting(db: Database): Database & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    kind: db.kind,
    describe: () => db.describe(),
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: (sql, params) => {
            statements.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
            return tx.query(sql, params);
          },
        }),
      ),
    close: () => db.close(),
  };
}

/** Resolves once `condition` holds; for real I/O the test cannot drive (a connection being refused). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The behaviour both databases must show. */
function sinkSuite(name: string, open: () => Promise<{ db: Database; dispose: () => Promise<void> }>) {
  describe(`postgresClipSink on ${name}`, () => {
    let db: Database;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ db, dispose } = await open());
      await migrate(db);
    });
    after(() => dispose());
    beforeEach(() => db.exec('TRUNCATE clips, streamers'));

    test('describes where the clips go', () => {
      assert.equal(postgresClipSink(db).describe(), `postgres clips (${db.describe()})`);
    });

    test('writes a batch in one transaction of few statements', async () => {
      const counted = counting(db);
      const writer = await postgresClipSink(counted, { rowsPerStatement: 500 }).open({
        clock: new ManualClock(),
      });
      const batch = clips(0, 1_200);
      await writer.write(batch, [...batch.map((c) => c.detected_at)]);
      assert.deepEqual(counted.statements, [
        'INSERT INTO streamers',
        'INSERT INTO clips',
        'INSERT INTO clips',
        'INSERT INTO clips',
      ]);
      assert.deepEqual(await storedClips(db), byId(batch));
      await writer.close();
    });

    test('stores each clip once when the same clips are written again', async () => {
      const sink = postgresClipSink(db);
      const writer = await sink.open({ clock: new ManualClock() });
      const batch = clips(0, 50);
      await writer.write(batch, []);
      await writer.write(batch, []);
      await writer.write(clips(25, 60), []);
      assert.deepEqual(await storedClips(db), byId(clips(0, 60)));
      assert.deepEqual(
        { ...sink.stats(), lastError: undefined },
        {
          rowsWritten: 60,
          duplicatesSkipped: 75,
          transactions: 3,
          retries: 0,
          lastError: undefined,
          retrying: false,
        },
      );
      await writer.close();
    });

    test('a replay after a crash does not double what was stored before it', async () => {
      // The first run stores 0–40 and "crashes": its writer is never closed or flushed.
      const first = await postgresClipSink(db).open({ clock: new ManualClock() });
      await first.write(clips(0, 40), []);
      // The restarted job resumes from an older checkpoint and writes 30–80 again.
      const second = await postgresClipSink(db).open({ clock: new ManualClock() });
      await second.write(clips(30, 60), []);
      await second.write(clips(60, 80), []);
      assert.deepEqual(await storedClips(db), byId(clips(0, 80)));
      const counts = await db.query<{ n: number; distinct_ids: number }>(
        'SELECT COUNT(*)::int AS n, COUNT(DISTINCT clip_id)::int AS distinct_ids FROM clips',
      );
      assert.deepEqual(counts, [{ n: 80, distinct_ids: 80 }]);
      await second.close();
    });

    test('retries a commit whose answer was lost without doubling it', async () => {
      // The transaction commits, then the connection breaks before the client hears of it.
      let failNext = true;
      const lossy: Database = {
        ...counting(db),
        transaction: async (fn) => {
          const result = await db.transaction(fn);
          if (failNext) {
            failNext = false;
            throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
          }
          return result;
        },
      };
      const clock = new ManualClock(0);
      const sink = postgresClipSink(lossy);
      const writer = await sink.open({ clock });
      const write = writer.write(clips(0, 10), []);
      const state = track(Promise.resolve(write));
      await settle();
      await until(() => clock.nextAt() !== undefined, 'the sink waits to retry');
      assert.equal(state.done(), false);
      assert.equal(clock.nextAt(), 100, 'first retry after 100 ms');
      await clock.advance(100);
      await write;
      assert.deepEqual(await storedClips(db), byId(clips(0, 10)));
      const stats = sink.stats();
      assert.equal(stats.retries, 1);
      assert.equal(stats.rowsWritten, 0, 'the retry found every clip already stored');
      assert.equal(stats.duplicatesSkipped, 10);
      assert.equal(stats.lastError, 'read ECONNRESET');
      await writer.close();
    });

    test("upserts the streamer's login and leaves the monitor's columns alone", async () => {
      await db.query(
        `INSERT INTO streamers (broadcaster_id, streamer_login, allows_clipping, first_seen_at, last_seen_at)
         VALUES (100001, 'old_name', FALSE, '2026-01-01 00:00:00', '2026-11-01 12:34:56.789')`,
      );
      const writer = await postgresClipSink(db).open({ clock: new ManualClock() });
      // Broadcaster 100001 twice in one batch, renamed in between: the last login wins.
      await writer.write(
        [
          clip(1, { broadcaster_login: 'middle_name' }),
          clip(8, { broadcaster_login: 'new_name' }),
          clip(2, { broadcaster_login: 'fresh' }),
        ],
        [],
      );
      const streamers = await db.query(
        `SELECT broadcaster_id, streamer_login, allows_clipping, first_seen_at, last_seen_at
           FROM streamers ORDER BY broadcaster_id`,
      );
      assert.equal(streamers.length, 2);
      assert.deepEqual(streamers[0], {
        broadcaster_id: 100001,
        streamer_login: 'new_name',
        allows_clipping: false,
        first_seen_at: Date.UTC(2026, 0, 1),
        last_seen_at: Date.UTC(2026, 10, 1, 12, 34, 56, 789),
      });
      assert.equal(streamers[1]!.broadcaster_id, 100002);
      assert.equal(streamers[1]!.streamer_login, 'fresh');
      assert.equal(streamers[1]!.allows_clipping, true, 'a new streamer gets the column defaults');
      await writer.close();
    });

    test('stores detected_at as UTC wall time and reads it back to the millisecond', async () => {
      const times = [
        Date.UTC(2026, 10, 20, 23, 59, 59, 999),
        Date.UTC(2026, 2, 29, 1, 30, 0, 1), // inside the hour Europe skips for summer time
        Date.UTC(2000, 0, 1, 0, 0, 0, 0),
        Date.UTC(2038, 0, 19, 3, 14, 8, 123), // past 2^31 seconds
        1_763_700_000_123,
      ];
      const batch = times.map((t, i) => clip(i, { detected_at: t }));
      const writer = await postgresClipSink(db).open({ clock: new ManualClock() });
      await writer.write(batch, times);
      const rows = await db.query<{ clip_id: string; detected_at: number; wall: string }>(
        `SELECT clip_id, detected_at, to_char(detected_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS wall
           FROM clips ORDER BY clip_id`,
      );
      for (const row of rows) {
        const sent = batch.find((c) => c.clip_id === row.clip_id)!.detected_at;
        assert.equal(row.detected_at, sent, row.clip_id);
        assert.equal(`${row.wall}Z`, new Date(sent).toISOString(), 'the column holds the UTC wall time');
      }
      assert.equal(rows.length, times.length);
      await writer.close();
    });

    test('fails at once, in one line, on data retrying cannot fix', async () => {
      const sink = postgresClipSink(db);
      const writer = await sink.open({ clock: new ManualClock() });
      const bad = clip(1, { embed_url: null as unknown as string });
      await assert.rejects(Promise.resolve(writer.write([clip(0), bad], [])), (error: Error) => {
        assert.match(error.message, /^postgres clips: .*null value in column "embed_url"/);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
      const fractional = clip(2, { detected_at: 1.5 });
      await assert.rejects(Promise.resolve(writer.write([fractional], [])), /bigint/);
      assert.equal(sink.stats().retries, 0);
      assert.deepEqual(await storedClips(db), [], 'the failed batches rolled back whole');
      await writer.close();
    });

    test('says to run `scout migrate` when the tables are missing', async () => {
      await db.exec('CREATE SCHEMA IF NOT EXISTS unmigrated');
      const unmigrated: Database = {
        ...db,
        transaction: (fn) =>
          db.transaction(async (tx) => {
            await tx.query('SET LOCAL search_path TO unmigrated');
            return fn(tx);
          }),
      };
      const writer = await postgresClipSink(unmigrated).open({ clock: new ManualClock() });
      await assert.rejects(
        Promise.resolve(writer.write([clip(0)], [])),
        /^Error: postgres clips: relation "streamers" does not exist in .*; run `scout migrate` first$/,
      );
      await writer.close();
    });

    test('an empty batch writes nothing and does not wait', async () => {
      const counted = counting(db);
      const writer = await postgresClipSink(counted).open({ clock: new ManualClock() });
      assert.equal(writer.write([], []), undefined);
      assert.deepEqual(counted.statements, []);
      await writer.close();
    });

    test('stores what a pipeline sends it', async () => {
      const sink = postgresClipSink(db);
      const p = pipeline('store-clips');
      const input = clips(0, 300);
      p.from(fromArray(input), { timestamp: (c) => c.detected_at }).to(sink);
      const result = await runJob(p.graph(), { clock: new ManualClock(BASE), batchSize: 64 });
      assert.equal(result.outcome, 'end');
      assert.deepEqual(await storedClips(db), byId(input));
      assert.equal(sink.stats().transactions, Math.ceil(300 / 64));
    });

    test('opens and closes its own database when given a factory', async () => {
      let closed = 0;
      const sink = postgresClipSink(async () => ({ ...db, close: async () => void closed++ }));
      assert.equal(sink.describe(), 'postgres clips', 'where is known once opened');
      const writer = await sink.open({ clock: new ManualClock() });
      assert.equal(sink.describe(), `postgres clips (${db.describe()})`);
      await writer.write([clip(0)], []);
      await writer.close();
      assert.equal(closed, 1);
      assert.deepEqual(await storedClips(db), [clip(0)]);
      assert.equal(
        postgresClipSink(async () => db, { where: 'PGlite at data/pglite' }).describe(),
        'postgres clips (PGlite at data/pglite)',
      );
    });
  });
}

for (const [name, open] of DATABASE_TARGETS) sinkSuite(name, open);

/**
 * A TCP proxy in front of the test server that can refuse connections (and cut the open ones) and
 * later accept them again: a database outage the test controls.
 */
class OutageProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Accepts connections (on the same port as before, after the first time). */
  async accept(): Promise<void> {
    const server = createServer((client) => {
      const upstream = netConnect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    this.port = address.port;
    this.server = server;
  }

  /** Refuses new connections and cuts the open ones. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

describe('postgresClipSink while the server is unreachable', () => {
  let serverDb: TestDatabase;
  let proxy: OutageProxy;
  let db: Database;
  let direct: Database;

  before(async () => {
    serverDb = await createTestDatabase();
    const url = new URL(serverDb.url);
    proxy = new OutageProxy(url.hostname, Number(url.port));
    await proxy.accept();
    url.host = `127.0.0.1:${proxy.port}`;
    db = await openDatabase({ url: url.toString() });
    direct = await openDatabase({ url: serverDb.url });
    await migrate(direct);
  });
  after(async () => {
    await proxy.refuse();
    await db.close();
    await direct.close();
    await serverDb.drop();
  });
  beforeEach(() => direct.exec('TRUNCATE clips, streamers'));

  test('keeps the write pending, backing off, and stores every clip once when it is back', async () => {
    const clock = new ManualClock(0);
    const sink = postgresClipSink(db);
    const writer = await sink.open({ clock });
    await writer.write(clips(0, 20), []); // the pool now holds a live connection, which the outage cuts

    await proxy.refuse();
    const write = writer.write(clips(10, 40), []);
    const state = track(Promise.resolve(write));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      await until(() => clock.nextAt() !== undefined, `attempt ${attempt} failed`);
      assert.equal(sink.stats().retries, attempt);
      assert.equal(sink.stats().retrying, true);
      assert.equal(state.done(), false, 'the write stays pending while the database is unreachable');
      delays.push(clock.nextAt()! - clock.now());
      await clock.advanceTo(clock.nextAt()!);
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1_600, 3_200]);
    // Let the attempt under way fail too, so that it cannot race the proxy coming back.
    await until(() => clock.nextAt() !== undefined, 'attempt 7 failed');
    assert.match(sink.stats().lastError ?? '', /ECONNREFUSED|Connection terminated/);

    await proxy.accept();
    await clock.advanceTo(clock.nextAt()!);
    await write;
    assert.deepEqual(await storedClips(direct), byId(clips(0, 40)));
    const stats = sink.stats();
    assert.equal(stats.rowsWritten, 40);
    assert.equal(stats.duplicatesSkipped, 10);
    assert.equal(stats.retries, 7);
    assert.equal(stats.retrying, false);
    await writer.close();
  });

  test('caps the backoff at 10 s', async () => {
    const clock = new ManualClock(0);
    const sink = postgresClipSink(db);
    const writer = await sink.open({ clock });
    await proxy.refuse();
    const write = Promise.resolve(writer.write([clip(0)], []));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      await until(() => clock.nextAt() !== undefined, `attempt ${attempt} failed`);
      delays.push(clock.nextAt()! - clock.now());
      await clock.advanceTo(clock.nextAt()!);
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000]);
    await until(() => clock.nextAt() !== undefined, 'attempt 11 failed');
    assert.equal(clock.nextAt()! - clock.now(), 10_000);
    await proxy.accept();
    await clock.advanceTo(clock.nextAt()!);
    await write;
    assert.deepEqual(await storedClips(direct), [clip(0)]);
    await writer.close();
  });

  test('pauses the sources of a pipeline until the database is back', async () => {
    const clock = new ManualClock(BASE);
    const sink = postgresClipSink(db);
    const input = clips(0, 400);
    const source = fromPartitions({ '0': input });
    const p = pipeline('store-clips');
    p.from(source, { timestamp: (c) => c.detected_at }).to(sink);

    await proxy.refuse();
    const job = runJob(p.graph(), { clock, batchSize: 10, sinkCapacity: 30 });
    const running = track(job);
    await until(() => sink.stats().retries >= 1 && clock.nextAt() !== undefined, 'the first write failed');
    const polls = source.polls;
    for (let step = 0; step < 4; step++) {
      await clock.advanceTo(clock.nextAt()!);
      await until(() => sink.stats().retries >= step + 2 && clock.nextAt() !== undefined, 'a retry failed');
    }
    assert.equal(source.polls, polls, 'no polls while the sink is saturated');
    assert.ok(polls * 10 <= 50, `the source was paused early (after ${polls} polls)`);
    assert.equal(running.done(), false);
    assert.deepEqual(await storedClips(direct), []);

    await proxy.accept();
    await clock.advanceTo(clock.nextAt()!);
    const result = await job;
    assert.equal(result.outcome, 'end');
    assert.deepEqual(await storedClips(direct), byId(input));
    assert.equal(sink.stats().rowsWritten, 400);
  });

  test('a write waiting to retry gives up when the writer closes', async () => {
    const clock = new ManualClock(0);
    const sink = postgresClipSink(db);
    const writer = await sink.open({ clock });
    await proxy.refuse();
    const write = Promise.resolve(writer.write([clip(0), clip(1)], []));
    await until(() => clock.nextAt() !== undefined, 'the first attempt failed');
    // Even with the database back, a closed writer makes no further attempt.
    await proxy.accept();
    await writer.close();
    await assert.rejects(write, /^Error: postgres clips: closed with 2 clips unwritten \(.+\)$/);
    assert.deepEqual(await storedClips(direct), []);
    assert.equal(sink.stats().retries, 1);
    assert.equal(sink.stats().retrying, false);
  });
});
