import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertClipRow } from '../../test/services.ts';
import { listClips } from './clips-query.ts';
import { type Database, openDatabase } from './database.ts';
import { migrate } from './migrate.ts';

const T0 = Date.parse('2026-11-20T10:00:00.123Z');

function insertClip(db: Database, clipId: string, broadcasterId: number, detectedAt: number) {
  return insertClipRow(db, {
    clip_id: clipId,
    broadcaster_id: broadcasterId,
    embed_url: `https://clips.twitch.tv/embed?clip=${clipId}`,
    thumbnail_url: `https://example.test/${clipId}.jpg`,
    detected_at: detectedAt,
    created_at: detectedAt + 25_000,
  });
}

describe('listClips', () => {
  let db: Database;
  before(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db);
    await db.query(`INSERT INTO streamers (broadcaster_id, streamer_login) VALUES (111, 'alpha')`);
    await insertClip(db, 'before-start', 111, T0 - 1);
    await insertClip(db, 'at-start', 111, T0);
    await insertClip(db, 'middle', 222, T0 + 60_000);
    await insertClip(db, 'last-inside', 111, T0 + 120_000 - 1);
    await insertClip(db, 'at-end', 111, T0 + 120_000);
  });
  after(() => db.close());

  test('returns [start, end) newest first, with exact millisecond bounds', async () => {
    const clips = await listClips(db, { start: T0, end: T0 + 120_000, limit: 10 });
    assert.deepEqual(
      clips.map((c) => c.clip_id),
      ['last-inside', 'middle', 'at-start'],
    );
  });

  test('maps a row to a Clip with epoch-ms times and the login from streamers', async () => {
    const [clip] = await listClips(db, { start: T0, end: T0 + 1, limit: 1 });
    assert.deepEqual(clip, {
      clip_id: 'at-start',
      broadcaster_id: 111,
      broadcaster_login: 'alpha',
      embed_url: 'https://clips.twitch.tv/embed?clip=at-start',
      thumbnail_url: 'https://example.test/at-start.jpg',
      detected_at: T0,
      created_at: T0 + 25_000,
    });
  });

  test('falls back to the broadcaster id when the streamer is unknown', async () => {
    const [clip] = await listClips(db, { start: T0 + 60_000, end: T0 + 60_001, limit: 1 });
    assert.equal(clip?.broadcaster_login, '222');
  });

  test('honours the limit, keeping the newest', async () => {
    const clips = await listClips(db, { start: 0, end: T0 + 10 * 60_000, limit: 2 });
    assert.deepEqual(
      clips.map((c) => c.clip_id),
      ['at-end', 'last-inside'],
    );
  });

  test('refuses a limit that is not a positive integer', async () => {
    await assert.rejects(listClips(db, { start: 0, end: 1, limit: 0 }), /limit must be a positive integer/);
    await assert.rejects(listClips(db, { start: 0, end: 1, limit: 1.5 }), /limit must be a positive integer/);
  });
});
