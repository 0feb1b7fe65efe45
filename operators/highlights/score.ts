/**
 * How a detector is scored against labelled highlights (`scout eval`): a label counts as found
 * when some detection falls within [start − 10 s, end + 30 s] — the clip a detection makes covers
 * the seconds before it, and chat reacts to a moment with a delay — and a detection is a true
 * positive when it falls in some label's span. Pure functions; the CLI does the reading.
 */
import type { Label } from '../../schemas/chat-line.ts';

/** A detection may come this much before a label starts and still find it. */
export const MATCH_BEFORE_MS = 10_000;
/** …and this much after the label ends (chat reacts late). */
export const MATCH_AFTER_MS = 30_000;

export interface StreamScore {
  readonly detections: number;
  readonly hours: number;
  readonly detectionsPerHour: number;
  /** Undefined when the stream has no labels. */
  readonly labels?: number;
  readonly found?: number;
  readonly truePositives?: number;
  readonly precision?: number;
  readonly recall?: number;
  readonly f1?: number;
}

function matches(at: number, label: Label): boolean {
  return at >= label.start_ms - MATCH_BEFORE_MS && at <= label.end_ms + MATCH_AFTER_MS;
}

/** Scores detection times against `labels` (undefined: the stream is not labelled). */
export function scoreStream(
  detectedAt: readonly number[],
  hours: number,
  labels: readonly Label[] | undefined,
): StreamScore {
  const base = {
    detections: detectedAt.length,
    hours,
    detectionsPerHour: hours > 0 ? detectedAt.length / hours : 0,
  };
  if (labels === undefined) return base;
  const found = labels.filter((l) => detectedAt.some((t) => matches(t, l))).length;
  const truePositives = detectedAt.filter((t) => labels.some((l) => matches(t, l))).length;
  return {
    ...base,
    labels: labels.length,
    found,
    truePositives,
    ...rates(truePositives, detectedAt.length, found, labels.length),
  };
}

function rates(truePositives: number, detections: number, found: number, labels: number) {
  // With no detections precision is undefined; 0 keeps a silent detector from looking perfect.
  const precision = detections > 0 ? truePositives / detections : 0;
  const recall = labels > 0 ? found / labels : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** Pools streams: rates over all labelled streams' counts (micro-averaged), detections per hour over all. */
export function scoreOverall(scores: readonly StreamScore[]): StreamScore {
  const detections = scores.reduce((s, x) => s + x.detections, 0);
  const hours = scores.reduce((s, x) => s + x.hours, 0);
  const base = { detections, hours, detectionsPerHour: hours > 0 ? detections / hours : 0 };
  const labelled = scores.filter((s) => s.labels !== undefined);
  if (labelled.length === 0) return base;
  const sum = (f: (s: StreamScore) => number | undefined) => labelled.reduce((a, s) => a + (f(s) ?? 0), 0);
  const labels = sum((s) => s.labels);
  const found = sum((s) => s.found);
  const truePositives = sum((s) => s.truePositives);
  const labelledDetections = sum((s) => s.detections);
  return {
    ...base,
    labels,
    found,
    truePositives,
    ...rates(truePositives, labelledDetections, found, labels),
  };
}
