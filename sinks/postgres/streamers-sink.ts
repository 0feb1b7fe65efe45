/**
 * Keeps the `streamers` table (DESIGN: the highlights spec's table) up to date: the monitor job
 * writes every stream a poll sees (`first_seen_at`, `last_seen_at`, the login), and the highlights
 * job marks a channel whose Create Clip answered 403 as `allows_clipping = false`. Upserts, so
 * writing the same records again changes nothing; `allows_clipping` only ever goes from true to
 * false here (Twitch gives no signal that clipping was turned back on; an operator resets it).
 */
import type { Database, Queryable } from '../../connectors/postgres/database.ts';
import type { StreamerUpdate } from '../../schemas/streamer.ts';
import {
  type PostgresTableSink,
  type PostgresTableSinkOptions,
  placeholders,
  postgresTableSink,
} from './table-sink.ts';

export type { StreamerUpdate };

/**
 * @example
 * snapshots.map((s) => ({ broadcaster_id: s.broadcaster_id, broadcaster_login: s.broadcaster_login,
 *   seen_at: s.collected_at })).to(postgresStreamersSink(db));
 */
export function postgresStreamersSink(
  db: Database | (() => Promise<Database>),
  options: PostgresTableSinkOptions = {},
): PostgresTableSink<StreamerUpdate> {
  return postgresTableSink(
    { table: 'streamers', rows: 'streamer updates', writeBatch: writeStreamers },
    db,
    options,
  );
}

/** Broadcaster ids whose clipping is known to be disabled. */
export async function clippingDisabled(db: Queryable): Promise<number[]> {
  const rows = await db.query<{ broadcaster_id: string | number }>(
    'SELECT broadcaster_id FROM streamers WHERE allows_clipping = false ORDER BY broadcaster_id',
  );
  return rows.map((r) => Number(r.broadcaster_id));
}

interface Merged {
  id: number;
  login: string;
  firstSeen: number | null;
  lastSeen: number | null;
  allowsClipping: boolean | null;
}

async function writeStreamers(
  tx: Queryable,
  updates: readonly StreamerUpdate[],
  size: number,
): Promise<{ inserted: number }> {
  // One row per broadcaster per statement (ON CONFLICT DO UPDATE touches a row once), in id
  // order so that concurrent writers lock rows in the same order and never deadlock.
  const merged = new Map<number, Merged>();
  for (const u of updates) {
    const m = merged.get(u.broadcaster_id);
    const seen = u.seen_at ?? null;
    const allows = u.allows_clipping ?? null;
    if (m === undefined) {
      merged.set(u.broadcaster_id, {
        id: u.broadcaster_id,
        login: u.broadcaster_login,
        firstSeen: seen,
        lastSeen: seen,
        allowsClipping: allows,
      });
      continue;
    }
    m.login = u.broadcaster_login;
    if (seen !== null) {
      m.firstSeen = m.firstSeen === null ? seen : Math.min(m.firstSeen, seen);
      m.lastSeen = m.lastSeen === null ? seen : Math.max(m.lastSeen, seen);
    }
    if (allows === false) m.allowsClipping = false;
  }
  const rows = [...merged.values()].sort((a, b) => a.id - b.id);
  // Sightings set the seen times; other updates (a 403 from Create Clip) leave them alone, and a
  // streamer first known through one gets the columns' defaults.
  const sightings = rows.filter((r) => r.lastSeen !== null);
  const others = rows.filter((r) => r.lastSeen === null);
  const utc = (param: string) => `to_timestamp(${param}::bigint / 1000.0) AT TIME ZONE 'UTC'`;
  const allows = (param: string) => `COALESCE(${param}::boolean, TRUE)`;
  const sticky = 'allows_clipping = COALESCE(streamers.allows_clipping, TRUE) AND EXCLUDED.allows_clipping';
  for (let i = 0; i < sightings.length; i += size) {
    const chunk = sightings.slice(i, i + size);
    await tx.query(
      `INSERT INTO streamers (broadcaster_id, streamer_login, first_seen_at, last_seen_at, allows_clipping)
       VALUES ${placeholders(chunk.length, 5, (column, param) =>
         column === 2 || column === 3 ? utc(param) : column === 4 ? allows(param) : param,
       )}
       ON CONFLICT (broadcaster_id) DO UPDATE SET
         streamer_login = EXCLUDED.streamer_login,
         first_seen_at = LEAST(streamers.first_seen_at, EXCLUDED.first_seen_at),
         last_seen_at = GREATEST(streamers.last_seen_at, EXCLUDED.last_seen_at),
         ${sticky}`,
      chunk.flatMap((r) => [r.id, r.login, r.firstSeen, r.lastSeen, r.allowsClipping]),
    );
  }
  for (let i = 0; i < others.length; i += size) {
    const chunk = others.slice(i, i + size);
    await tx.query(
      `INSERT INTO streamers (broadcaster_id, streamer_login, allows_clipping)
       VALUES ${placeholders(chunk.length, 3, (column, param) => (column === 2 ? allows(param) : param))}
       ON CONFLICT (broadcaster_id) DO UPDATE SET streamer_login = EXCLUDED.streamer_login, ${sticky}`,
      chunk.flatMap((r) => [r.id, r.login, r.allowsClipping]),
    );
  }
  return { inserted: rows.length };
}
