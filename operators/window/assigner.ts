/**
 * Window assigners as plain, serialisable data. The window step of the runtime reads them; a
 * window is `[start, end)` in event time and fires once the watermark reaches `end - 1`.
 */
export type WindowAssigner =
  | { readonly kind: 'tumbling'; readonly sizeMs: number; readonly offsetMs: number }
  | { readonly kind: 'sliding'; readonly sizeMs: number; readonly slideMs: number; readonly offsetMs: number }
  | { readonly kind: 'session'; readonly gapMs: number };

export function describeAssigner(assigner: WindowAssigner): string {
  switch (assigner.kind) {
    case 'tumbling':
      return `tumbling ${formatMs(assigner.sizeMs)}`;
    case 'sliding':
      return `sliding ${formatMs(assigner.sizeMs)} every ${formatMs(assigner.slideMs)}`;
    case 'session':
      return `session gap ${formatMs(assigner.gapMs)}`;
  }
}

/** Start of the fixed window of length `step` (aligned to `offset`) that holds `timestamp`. */
export function windowStart(timestamp: number, step: number, offset: number): number {
  const r = (timestamp - offset) % step;
  return timestamp - (r < 0 ? r + step : r);
}

export function positiveMs(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
  return value;
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
