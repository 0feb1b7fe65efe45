/**
 * A progress bar on stderr, drawn only when stderr is a terminal (never into logs or pipes).
 * Built on cli-progress.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

export function progressBar(total: number, label: string, unit = ''): Progress {
  if (!process.stderr.isTTY || total <= 0) return NONE;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total}${unit} | {rate} | eta {eta_formatted}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? human(v) : String(v)),
  });
  bar.start(total, 0, { rate: '' });
  return {
    update: (done, payload) => bar.update(Math.min(done, total), payload ?? {}),
    stop: () => bar.stop(),
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
