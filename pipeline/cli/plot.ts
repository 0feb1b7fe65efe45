/**
 * `scout plot <stream> --out activity.svg`: one stream's 5 s bucket counts over time, the baseline
 * band (mean to mean + k·σ, the rule's threshold), the detections as red marks and, when the
 * stream has labels, the labelled spans shaded — to see at a glance why a detector fired or not.
 */
import { writeFileSync } from 'node:fs';
import { escapeXml } from '../../operators/clips/activity-svg.ts';
import type { Activity } from '../../operators/highlights/baseline.ts';
import { MIN_SPREAD } from '../../operators/highlights/spike-rule.ts';
import type { Label } from '../../schemas/chat-line.ts';
import type { Detection } from '../../schemas/detection.ts';
import { detectorFromOptions } from '../jobs/highlights.ts';
import { detectStream, readLabels } from './detect-stream.ts';
import { UsageError } from './errors.ts';

export interface PlotOptions {
  readonly out: string;
  readonly set: Readonly<Record<string, string>>;
  /** Pixels per hour of stream; the width follows. */
  readonly pxPerHour?: number;
}

export interface PlotSummary {
  readonly buckets: number;
  readonly detections: number;
  readonly labels: number;
  readonly out: string;
}

export async function plotCommand(file: string, options: PlotOptions): Promise<PlotSummary> {
  const detector = detectorFromOptions(options.set);
  const k = options.set.k === undefined ? 3 : Number(options.set.k);
  const labels = readLabels(file) ?? [];
  const run = await detectStream(file, detector, { keepActivity: true });
  if (run.messages === 0) throw new UsageError(`${file} holds no chat messages`);
  const svg = activityChart({
    title: `${file} — detector ${detector.name}, k = ${k}`,
    activity: run.activity ?? [],
    detections: run.detections,
    labels,
    k,
    pxPerHour: options.pxPerHour ?? 1200,
  });
  writeFileSync(options.out, svg);
  return {
    buckets: run.activity?.length ?? 0,
    detections: run.detections.length,
    labels: labels.length,
    out: options.out,
  };
}

export interface ChartInput {
  readonly title: string;
  readonly activity: readonly Activity[];
  readonly detections: readonly Detection[];
  readonly labels: readonly Label[];
  readonly k: number;
  readonly pxPerHour: number;
}

/** The chart as a standalone SVG document. Channels are drawn one under the other. */
export function activityChart(input: ChartInput): string {
  const channels = [...new Set(input.activity.map((a) => a.broadcaster_login))].sort();
  const laneHeight = 220;
  const left = 56;
  const top = 40;
  const t0 = Math.min(...input.activity.map((a) => a.bucket_start));
  const t1 = Math.max(...input.activity.map((a) => a.bucket_end));
  const plotWidth = Math.max(600, Math.round(((t1 - t0) / 3_600_000) * input.pxPerHour));
  const width = left + plotWidth + 16;
  const height = top + channels.length * (laneHeight + 30) + 10;
  const x = (t: number) => (left + ((t - t0) / (t1 - t0 || 1)) * plotWidth).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14">${escapeXml(input.title)}</text>`,
  ];
  channels.forEach((channel, lane) => {
    const series = input.activity.filter((a) => a.broadcaster_login === channel);
    const y0 = top + lane * (laneHeight + 30) + laneHeight;
    const threshold = (a: Activity) =>
      a.baseline_mean === null
        ? null
        : a.baseline_mean + input.k * Math.max(a.baseline_stddev ?? 0, MIN_SPREAD);
    const max = Math.max(1, ...series.map((a) => Math.max(a.count, threshold(a) ?? 0)));
    const y = (v: number) => (y0 - (v / max) * (laneHeight - 10)).toFixed(1);
    parts.push(`<text x="4" y="${y0 - laneHeight + 12}" font-weight="bold">${escapeXml(channel)}</text>`);
    for (const l of input.labels) {
      parts.push(
        `<rect x="${x(l.start_ms)}" y="${y0 - laneHeight}" width="${Math.max(1, Number(x(l.end_ms)) - Number(x(l.start_ms))).toFixed(1)}" height="${laneHeight}" fill="#ffd54f" fill-opacity="0.5"/>`,
      );
    }
    // The band from the baseline mean to the firing threshold, for warm buckets only.
    const warm = series.filter((a) => a.warm && a.baseline_mean !== null);
    if (warm.length > 1) {
      const upper = warm.map((a) => `${x(a.bucket_end)},${y(threshold(a)!)}`);
      const lower = warm.map((a) => `${x(a.bucket_end)},${y(a.baseline_mean!)}`).reverse();
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="#90caf9" fill-opacity="0.5"/>`);
    }
    parts.push(
      `<polyline points="${series.map((a) => `${x(a.bucket_end)},${y(a.count)}`).join(' ')}" fill="none" stroke="#37474f" stroke-width="1"/>`,
    );
    for (const d of input.detections.filter((d) => d.broadcaster_login === channel)) {
      parts.push(`<circle cx="${x(d.detected_at)}" cy="${y(d.count)}" r="3.5" fill="#e53935"/>`);
    }
    parts.push(
      `<line x1="${left}" y1="${y0}" x2="${left + plotWidth}" y2="${y0}" stroke="#999"/>`,
      `<text x="${left - 4}" y="${y(max)}" text-anchor="end">${max.toFixed(0)}</text>`,
      `<text x="${left - 4}" y="${y0}" text-anchor="end">0</text>`,
    );
    for (let h = Math.ceil(t0 / 3_600_000) * 3_600_000; h <= t1; h += 3_600_000) {
      parts.push(
        `<text x="${x(h)}" y="${y0 + 14}" text-anchor="middle">${new Date(h).toISOString().slice(11, 16)}</text>`,
      );
    }
  });
  parts.push(
    `<text x="${width - 16}" y="20" text-anchor="end" font-size="11">line: messages per 5 s · blue: mean…mean+kσ · red: detections · yellow: labels</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
