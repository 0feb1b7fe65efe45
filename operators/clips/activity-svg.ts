/**
 * A small SVG of a channel's chat activity around a spike: the bucket counts as an area, the
 * judged bucket marked, its count in the corner (the page shows the channel and time beside it;
 * the title is in `<title>` for screen readers). It is the local clipper's "clip" and thumbnail, so it must stand alone
 * (no fonts or styles from outside) and stay a few kilobytes.
 */

export interface ActivitySvgOptions {
  /** Counts oldest first; the last one is the spike unless `markIndex` says otherwise. */
  readonly counts: readonly number[];
  readonly markIndex?: number;
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
}

/** Text made safe inside SVG/XML elements and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the curve; deterministic for the same input. */
export function activitySvg(options: ActivitySvgOptions): string {
  const width = options.width ?? 320;
  const height = options.height ?? 180;
  const counts = options.counts.length > 0 ? options.counts : [0];
  const mark = options.markIndex ?? counts.length - 1;
  const top = 28;
  const bottom = height - 8;
  const max = Math.max(1, ...counts);
  const step = counts.length > 1 ? (width - 16) / (counts.length - 1) : 0;
  const x = (i: number) => (8 + i * step).toFixed(1);
  const y = (c: number) => (bottom - (c / max) * (bottom - top)).toFixed(1);
  const line = counts.map((c, i) => `${x(i)},${y(c)}`).join(' ');
  const area = `${x(0)},${bottom} ${line} ${x(counts.length - 1)},${bottom}`;
  const peak = counts[mark] ?? 0;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#18181b"/>`,
    `<polygon points="${area}" fill="#9147ff" fill-opacity="0.35"/>`,
    `<polyline points="${line}" fill="none" stroke="#bf94ff" stroke-width="2"/>`,
    `<circle cx="${x(mark)}" cy="${y(peak)}" r="4" fill="#ff4f4d"/>`,
    `<text x="${width - 8}" y="18" fill="#ff4f4d" font-family="sans-serif" font-size="13" text-anchor="end">${peak} msgs/5s</text>`,
    '</svg>',
  ].join('');
}

/** The SVG as a `data:` URL, usable as an `<img src>` and storable in a TEXT column. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}
