/**
 * `scout demo`: generated chat for many channels at accelerated time → the chat-activity job on
 * the embedded default → a live table of the busiest channels, marking buckets that jump above
 * their baseline mean + 3σ. No servers needed.
 */
import type { ChatActivity } from '../jobs/chat-activity.ts';
import { SystemClock } from '../time/clock.ts';
import type { Sink } from '../types.ts';
import { startEmbedded } from './run.ts';

export interface DemoOptions {
  readonly channels: number;
  readonly speed: number;
  readonly seed: number;
  readonly forMs?: number;
}

/** How often the table is redrawn (wall time). */
const REFRESH_MS = 2_000;
const ROWS = 12;

export async function demoCommand(options: DemoOptions, write: (s: string) => void): Promise<void> {
  const clock = new SystemClock();
  const latest = new Map<string, ChatActivity>();
  const spikes: ChatActivity[] = [];
  let buckets = 0;
  const sink: Sink<ChatActivity> = {
    describe: () => 'demo table',
    open: () => ({
      write(records) {
        for (const r of records) {
          buckets++;
          latest.set(r.broadcaster_login, r);
          if (
            r.baseline_mean !== null &&
            r.baseline_stddev !== null &&
            r.count > r.baseline_mean + 3 * r.baseline_stddev &&
            r.count >= 5
          ) {
            spikes.push(r);
            if (spikes.length > 200) spikes.shift();
          }
        }
      },
      close() {},
    }),
  };
  write(
    `streamscout demo: ${options.channels} generated channels at ${options.speed}× real time → job chat-activity (embedded default, no servers)\n` +
      'chat counts per channel in 5 s buckets; "spike" marks a bucket above its 5-minute mean + 3σ. Ctrl-C stops.\n',
  );
  const running = await startEmbedded(
    'chat-activity',
    { channels: options.channels, seed: options.seed, speed: options.speed, set: {} },
    clock,
    sink as Sink<unknown>,
  );
  const stop = () => running.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = process.stdout.isTTY;
  const draw = () => {
    const rows = [...latest.values()].sort((a, b) => b.count - a.count).slice(0, ROWS);
    const at = rows[0] ? new Date(rows[0].bucket_end).toISOString().slice(11, 19) : '--:--:--';
    const lines = [`event time ${at} UTC · ${buckets} buckets · ${spikes.length} spikes`];
    lines.push(`${'channel'.padEnd(24)} ${'msgs/5s'.padStart(8)} ${'mean'.padStart(7)} ${'σ'.padStart(6)}`);
    for (const r of rows) {
      const spike = spikes.includes(r) ? '  ◀ spike' : '';
      lines.push(
        `${r.broadcaster_login.padEnd(24)} ${String(r.count).padStart(8)} ${(r.baseline_mean ?? 0).toFixed(1).padStart(7)} ${(r.baseline_stddev ?? 0).toFixed(1).padStart(6)}${spike}`,
      );
    }
    const recent = spikes
      .slice(-5)
      .map(
        (s) => `${s.broadcaster_login} ${s.count} at ${new Date(s.bucket_start).toISOString().slice(11, 19)}`,
      );
    if (recent.length) lines.push(`recent spikes: ${recent.join(' · ')}`);
    write(`${tty ? '\x1b[2J\x1b[H' : '\n'}${lines.join('\n')}\n`);
  };
  let cancel = clock.schedule(clock.now() + REFRESH_MS, function tick() {
    draw();
    cancel = clock.schedule(clock.now() + REFRESH_MS, tick);
  });
  if (options.forMs !== undefined) clock.schedule(clock.now() + options.forMs, stop);
  try {
    await running.done;
  } finally {
    cancel();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    draw();
    write(`stopped: ${buckets} buckets, ${spikes.length} spikes\n`);
  }
}
