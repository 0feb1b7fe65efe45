/**
 * `scout eval <dir|files…>`: replays each recorded stream through the highlights detectors and
 * scores them — detections per broadcaster-hour everywhere, and precision, recall and F1 where a
 * `<stream>.labels.json` exists (see operators/highlights/score.ts for the matching rule).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type StreamScore, scoreOverall, scoreStream } from '../../operators/highlights/score.ts';
import { detectorFromOptions } from '../jobs/highlights.ts';
import { detectStream, readLabels } from './detect-stream.ts';
import { UsageError } from './errors.ts';
import { progressBar } from './progress.ts';

export interface EvalOptions {
  /** Detector names, e.g. ['rule', 'robust']. */
  readonly detectors: readonly string[];
  /** Job options (k, cooldown, bots) applied to every detector. */
  readonly set: Readonly<Record<string, string>>;
}

export interface StreamResult extends StreamScore {
  readonly stream: string;
  readonly messages: number;
}

export interface DetectorResult {
  readonly detector: string;
  readonly streams: readonly StreamResult[];
  readonly overall: StreamScore;
}

export interface EvalReport {
  readonly results: readonly DetectorResult[];
  /** Messages replayed per second over all streams and detectors. */
  readonly messagesPerSecond: number;
}

const STREAM_FILE = /\.jsonl(\.gz)?$/;

/** The stream files named by `inputs`: files as given, folders searched recursively, sorted. */
export function findStreams(inputs: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (STREAM_FILE.test(entry.name)) found.push(path);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) throw new UsageError(`no such file or folder: ${input}`);
    if (statSync(input).isDirectory()) walk(input);
    else found.push(input);
  }
  if (found.length === 0) throw new UsageError(`no .jsonl or .jsonl.gz streams in ${inputs.join(', ')}`);
  return found;
}

export async function evalCommand(inputs: readonly string[], options: EvalOptions): Promise<EvalReport> {
  const files = findStreams(inputs);
  const detectors = options.detectors.map((name) => ({
    name,
    detector: detectorFromOptions({ ...options.set, detector: name }),
  }));
  const labels = new Map(files.map((f) => [f, readLabels(f)]));
  const base = commonBase(files);
  const bar = progressBar(files.length * detectors.length, 'eval', ' streams');
  let messages = 0;
  let seconds = 0;
  const results: DetectorResult[] = [];
  for (const { name, detector } of detectors) {
    const streams: StreamResult[] = [];
    for (const file of files) {
      const run = await detectStream(file, detector);
      messages += run.messages;
      seconds += run.seconds;
      const hours = Math.max(0, run.lastTs - run.firstTs) / 3_600_000;
      streams.push({
        stream: relative(base, file) || file,
        messages: run.messages,
        ...scoreStream(
          run.detections.map((d) => d.detected_at),
          hours,
          labels.get(file),
        ),
      });
      bar.update(results.length * files.length + streams.length);
    }
    results.push({ detector: name, streams, overall: scoreOverall(streams) });
  }
  bar.stop();
  return { results, messagesPerSecond: seconds > 0 ? messages / seconds : 0 };
}

function commonBase(files: readonly string[]): string {
  const dirs = files.map((f) => f.split('/').slice(0, -1));
  const first = dirs[0] ?? [];
  let n = first.length;
  for (const d of dirs) {
    let i = 0;
    while (i < n && d[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join('/') || '.';
}

const fixed = (x: number | undefined, digits: number) => (x === undefined ? '—' : x.toFixed(digits));

/** The report as aligned text tables, one per detector, then the overall rows side by side. */
export function formatEval(report: EvalReport): string {
  const header = [
    'stream',
    'messages',
    'hours',
    'det',
    'det/h',
    'labels',
    'found',
    'precision',
    'recall',
    'F1',
  ];
  const row = (name: string, s: StreamScore, messages?: number) => [
    name,
    messages === undefined ? '' : String(messages),
    s.hours.toFixed(1),
    String(s.detections),
    s.detectionsPerHour.toFixed(1),
    s.labels === undefined ? '—' : String(s.labels),
    s.found === undefined ? '—' : String(s.found),
    fixed(s.precision, 3),
    fixed(s.recall, 3),
    fixed(s.f1, 3),
  ];
  const lines: string[] = [];
  for (const r of report.results) {
    lines.push(`detector ${r.detector}`);
    const rows = [header, ...r.streams.map((s) => row(s.stream, s, s.messages)), row('overall', r.overall)];
    lines.push(...table(rows), '');
  }
  if (report.results.length > 1) {
    lines.push('overall');
    lines.push(
      ...table([
        ['detector', ...header.slice(2)],
        ...report.results.map((r) => [r.detector, ...row('', r.overall).slice(2)]),
      ]),
      '',
    );
  }
  lines.push(`replay throughput: ${Math.round(report.messagesPerSecond).toLocaleString('en')} messages/s`);
  return lines.join('\n');
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}
