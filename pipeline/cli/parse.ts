/** Parsers for option values; each throws a UsageError naming the option. */
import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `250ms`, `30s`, `5m`, `2h`, `1h30m`, or a plain number of ms. */
export function parseDuration(value: string, option: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|min|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new UsageError(`${option} takes a duration like 30s, 5m or 2h, got "${value}"`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
}

export function parsePositiveInt(value: string, option: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${option} takes a positive whole number, got "${value}"`);
  return n;
}

export function parseInteger(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${option} takes a whole number, got "${value}"`);
  return n;
}

export function parsePositive(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${option} takes a positive number, got "${value}"`);
  return n;
}

/** Collects repeated `--set key=value` into a record. */
export function collectSetting(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set takes key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** A TCP port: 0 (any free port) to 65535. */
export function parsePort(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535)
    throw new UsageError(`${option} takes a port number 0–65535, got "${value}"`);
  return n;
}

/** `--kafka host:port[,host:port…]`. */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const b of brokers) {
    if (!/^[^\s:]+:\d+$/.test(b)) throw new UsageError(`--kafka takes host:port[,host:port…], got "${b}"`);
  }
  if (brokers.length === 0) throw new UsageError('--kafka needs at least one host:port');
  return brokers;
}
