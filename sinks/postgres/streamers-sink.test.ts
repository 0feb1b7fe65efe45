import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Database } from '../../connectors/postgres/database.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pipeline } from '../../pipeline/builder.ts';
import { runJob } from '../../pipeline/runtime/runtime.ts';
import { fromArray } from '../../pipeline/testing/sources.ts';
import { ManualClock } from '../../pipeline/time/clock.ts';
import { DATABASE_TARGETS } from '../../test/services.ts';
import { clippingDisabled, postgresStreamersSink, type StreamerUpdate } from './streamers-sink.ts';

const T = Date.UTC(2026, 10, 21, 12, 0, 0);

async function write(db: Database, updates: StreamerUpdate[]) {
  const p = pipeline('streamers');
  p.from(fromArray(updates), { timestamp: () => 0 }).to(postgresStreamersSink(db));
  await runJob(p.graph(), { clock: new ManualClock(0) });
}

async function rows(db: Database) {
  return db.query<{
    broadcaster_id: string;
    streamer_login: string;
    allows_clipping: boolean;
    first: string;
    last: string;
  }>(
    `SELECT broadcaster_id::text, streamer_login, allows_clipping,
            to_char(first_seen_at, 'HH24:MI') AS first, to_char(last_seen_at, 'HH24:MI') AS last
       FROM streamers ORDER BY broadcaster_id`,
  );
}

for (const [name, open] of DATABASE_TARGETS) {
  describe(`postgresStreamersSink on ${name}`, () => {
    test('keeps the first and last sighting, the latest login, and a sticky allows_clipping = false', async () => {
      const { db, dispose } = await open();
      try {
        await migrate(db);
        await write(db, [
          { broadcaster_id: 1, broadcaster_login: 'a', seen_at: T + 60_000 },
          { broadcaster_id: 2, broadcaster_login: 'b', seen_at: T },
          { broadcaster_id: 1, broadcaster_login: 'a', seen_at: T },
        ]);
        await write(db, [
          { broadcaster_id: 1, broadcaster_login: 'a_renamed', seen_at: T + 120_000 },
          { broadcaster_id: 2, broadcaster_login: 'b', allows_clipping: false },
        ]);
        // A later sighting does not turn clipping back on.
        await write(db, [{ broadcaster_id: 2, broadcaster_login: 'b', seen_at: T + 180_000 }]);
        assert.deepEqual(
          (await rows(db)).map((r) => ({ ...r })),
          [
            {
              broadcaster_id: '1',
              streamer_login: 'a_renamed',
              allows_clipping: true,
              first: '12:00',
              last: '12:02',
            },
            {
              broadcaster_id: '2',
              streamer_login: 'b',
              allows_clipping: false,
              first: '12:00',
              last: '12:03',
            },
          ],
        );
        assert.deepEqual(await clippingDisabled(db), [2]);
      } finally {
        await dispose();
      }
    });
  });
}
