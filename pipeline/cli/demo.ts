/**
 * `scout demo`: the whole highlights path on the embedded default, no servers. Generated chat for
 * many channels at accelerated time → the highlights job → the local clipper → PGlite under
 * `./data` (or the Postgres server of `DATABASE_URL`) → the clip page at http://127.0.0.1:PORT.
 * A status line says what is happening; Ctrl-C stops everything cleanly.
 */
import type { Detection } from '../../schemas/detection.ts';
import { postgresClipSink } from '../../sinks/postgres/clip-sink.ts';
import { SystemClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';
import { startEmbedded } from './run.ts';
import { startClipServer } from './serve.ts';

export interface DemoOptions {
  readonly channels: number;
  readonly speed: number;
  readonly seed: number;
  readonly port: number;
  readonly forMs?: number;
  /** PGlite folder when no `DATABASE_URL` (default data/pglite). */
  readonly dataDir?: string;
}

/** How often the status line is written (wall time). */
export const STATUS_MS = 5_000;
/**
 * Generated chat starts this long before now. Event time runs `speed` times faster than the wall
 * clock, so starting in the past keeps clip times behind "now" (the page shows the past 7 days)
 * for days / speed of running: 7 h at the default 20×.
 */
export const START_BEFORE_NOW_MS = 6 * 24 * 3_600_000;

export async function demoCommand(options: DemoOptions, write: (s: string) => void): Promise<void> {
  const clock = new SystemClock();
  const { db, server } = await startClipServer({
    port: options.port,
    databaseUrl: process.env.DATABASE_URL,
    dataDir: options.dataDir,
    clock,
  });

  let detections = 0;
  const recent: Detection[] = [];
  const detectionSink: Sink<Detection> = {
    describe: () => 'demo status',
    open: () => ({
      write(records) {
        for (const d of records) {
          detections++;
          recent.push(d);
          if (recent.length > 3) recent.shift();
        }
      },
      close() {},
    }),
  };
  const clipSink = postgresClipSink(db);
  write(
    [
      `streamscout demo — ${options.channels} generated channels at ${options.speed}× real time → highlights job → clips in ${db.describe()}`,
      `  open ${server.url} — clips appear there within a minute (each channel needs 5 minutes of event time, ${Math.round(300 / options.speed)} s here, before anything fires)`,
      '  detector: count > 5-minute mean + 3σ, 30 s cooldown; clips are activity curves from the local clipper (no Twitch). Ctrl-C stops.',
      `  generated time starts 6 days ago, so that accelerated time stays in the past the page shows (for ${Math.round(START_BEFORE_NOW_MS / options.speed / 3_600_000)} h at ${options.speed}×)`,
      '',
    ].join('\n'),
  );
  const running = await startEmbedded(
    'highlights',
    { channels: options.channels, seed: options.seed, speed: options.speed, set: {} },
    clock,
    {
      output: detectionSink as Sink<unknown>,
      stores: new Map([['clips', clipSink as Sink<unknown>]]),
      startMs: clock.now() - START_BEFORE_NOW_MS,
    },
  );
  const stop = () => {
    write('stopping: chat stops now; clips already detected are finished and stored first\n');
    running.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = clock.now();
  const status = () => {
    const stats = clipSink.stats();
    const elapsed = Math.round((clock.now() - started) / 1000);
    const latest = recent.at(-1);
    const last = latest
      ? ` · latest: ${latest.broadcaster_login} (${latest.count} msgs/5s, z ${latest.z})`
      : '';
    write(`[${elapsed}s] ${detections} detections · ${stats.rowsWritten} clips stored${last}\n`);
  };
  let cancel = clock.schedule(clock.now() + STATUS_MS, function tick() {
    status();
    cancel = clock.schedule(clock.now() + STATUS_MS, tick);
  });
  if (options.forMs !== undefined) clock.schedule(clock.now() + options.forMs, stop);
  try {
    await running.done;
  } finally {
    cancel();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    status();
    await server.close();
    await db.close();
    write('stopped\n');
  }
}
