/**
 * Runs one recorded stream through the highlights series and a detector, in event time and as
 * fast as the CPU allows, keeping what `scout eval` and `scout plot` need: the detections, the
 * stream's span and, on request, every bucket with its baseline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { jsonlReplaySource } from '../../connectors/jsonl/replay-source.ts';
import type { Activity } from '../../operators/highlights/baseline.ts';
import { type Detector, detect, toDetection } from '../../operators/highlights/detector.ts';
import type { Label } from '../../schemas/chat-line.ts';
import type { Detection } from '../../schemas/detection.ts';
import { pipeline } from '../builder.ts';
import { chatSeries, OUT_OF_ORDERNESS_MS } from '../jobs/chat-series.ts';
import { JobRuntime } from '../runtime/runtime.ts';
import { collect } from '../testing/sources.ts';
import { SystemClock } from '../time/clock.ts';
import { UsageError } from './errors.ts';

export interface StreamRun {
  readonly file: string;
  readonly messages: number;
  readonly malformed: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly detections: readonly Detection[];
  /** Present when asked for with `keepActivity`. */
  readonly activity?: readonly Activity[];
  readonly seconds: number;
}

export async function detectStream(
  file: string,
  detector: Detector<unknown>,
  options: { keepActivity?: boolean; bots?: readonly string[] } = {},
): Promise<StreamRun> {
  const clock = new SystemClock();
  const source = jsonlReplaySource([file]);
  let firstTs = Number.POSITIVE_INFINITY;
  let lastTs = Number.NEGATIVE_INFINITY;
  const p = pipeline('detect-stream');
  const chat = p
    .from(source, { timestamp: (m) => m.ts, outOfOrdernessMs: OUT_OF_ORDERNESS_MS, id: 'chat' })
    .map((m) => {
      if (m.ts < firstTs) firstTs = m.ts;
      if (m.ts > lastTs) lastTs = m.ts;
      return m;
    }, 'span');
  const activity = chatSeries(chat, options.bots);
  const detections = collect<Detection>();
  const buckets = collect<Activity>();
  if (options.keepActivity) activity.to(buckets, 'activity');
  detect(activity, detector).map(toDetection, 'detection').to(detections, 'detections');
  const started = clock.now();
  await new JobRuntime(p.graph(), { clock }).run();
  const stats = source.stats();
  return {
    file,
    messages: stats.linesRead - stats.malformed,
    malformed: stats.malformed,
    firstTs: Number.isFinite(firstTs) ? firstTs : 0,
    lastTs: Number.isFinite(lastTs) ? lastTs : 0,
    detections: detections.records,
    ...(options.keepActivity ? { activity: buckets.records } : {}),
    seconds: (clock.now() - started) / 1000,
  };
}

/** `x.jsonl.gz` → `x.labels.json` beside it. */
export function labelsPath(file: string): string {
  return file.replace(/\.jsonl(\.gz)?$/, '.labels.json');
}

/** The labels beside a stream file, or undefined when it has none; a broken file is a usage error. */
export function readLabels(file: string): Label[] | undefined {
  const path = labelsPath(file);
  if (path === file || !existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.every(
      (l) =>
        typeof l === 'object' &&
        l !== null &&
        typeof (l as Label).start_ms === 'number' &&
        typeof (l as Label).end_ms === 'number',
    );
  if (!ok) throw new UsageError(`${path} must be a JSON array of {start_ms, end_ms, note}`);
  return parsed as Label[];
}
