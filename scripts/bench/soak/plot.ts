/**
 * A small SVG line-chart writer for the soak's plot (RSS and latency over time): charts stacked in
 * one document, each with its axes, ticks, a legend and optional vertical markers (the end of the
 * warm-up). Written here rather than pulled in: a few dozen lines, no browser or canvas needed.
 */

export interface Series {
  name: string;
  /** [x, y] pairs, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** A logarithmic y axis (latencies spread over decades). */
  logY?: boolean;
  /** The x axis's range (charts stacked over one time line share it); default: the data's. */
  xRange?: readonly [number, number];
  markers?: ReadonlyArray<{ x: number; label: string }>;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const WIDTH = 960;
const CHART_HEIGHT = 320;
const MARGIN = { left: 70, right: 230, top: 36, bottom: 44 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick positions covering [0, max]. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw)!;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => Math.round(i * step * 1e6) / 1e6);
}

function label(value: number): string {
  return Math.abs(value) >= 1000 ? `${Math.round(value / 100) / 10}k` : String(Math.round(value * 100) / 100);
}

function chartSvg(chart: Chart, top: number, colorOffset: number): string {
  const width = WIDTH - MARGIN.left - MARGIN.right;
  const height = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const points = chart.series.flatMap((series) => series.points);
  const [minX, maxX] = chart.xRange ?? [Math.min(0, ...points.map(([x]) => x)), Math.max(1, ...points.map(([x]) => x))];
  const ys = points.map(([, y]) => y).filter((y) => (chart.logY ? y > 0 : true));
  const maxY = Math.max(chart.logY ? 10 : 1, ...ys);
  const minLog = chart.logY ? Math.floor(Math.log10(Math.max(0.1, Math.min(...ys, maxY)))) : 0;
  const maxLog = chart.logY ? Math.ceil(Math.log10(maxY)) : 0;
  const yTop = chart.logY ? maxY : maxY * 1.1;
  const sx = (x: number) => MARGIN.left + ((x - minX) / (maxX - minX)) * width;
  const sy = chart.logY
    ? (y: number) => top + MARGIN.top + height - ((Math.log10(Math.max(y, 10 ** minLog)) - minLog) / Math.max(1, maxLog - minLog)) * height
    : (y: number) => top + MARGIN.top + height - (y / yTop) * height;
  const parts: string[] = [];
  parts.push(`<text x="${MARGIN.left}" y="${top + 22}" font-size="15" font-weight="bold">${escape(chart.title)}</text>`);
  // Axes and grid.
  const yTicks = chart.logY ? Array.from({ length: maxLog - minLog + 1 }, (_, i) => 10 ** (minLog + i)) : linearTicks(yTop);
  for (const tick of yTicks) {
    const y = sy(tick);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + width}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y + 4}" font-size="11" text-anchor="end">${label(tick)}</text>`);
  }
  for (const tick of linearTicks(maxX, 8).filter((tick) => tick >= minX)) {
    const x = sx(tick);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top + MARGIN.top}" y2="${top + MARGIN.top + height}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${top + MARGIN.top + height + 16}" font-size="11" text-anchor="middle">${label(tick)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${width}" height="${height}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${MARGIN.left + width / 2}" y="${top + CHART_HEIGHT - 8}" font-size="12" text-anchor="middle">${escape(chart.xLabel)}</text>`);
  parts.push(`<text x="16" y="${top + MARGIN.top + height / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${top + MARGIN.top + height / 2})">${escape(chart.yLabel)}</text>`);
  for (const marker of chart.markers ?? []) {
    const x = sx(marker.x);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top + MARGIN.top}" y2="${top + MARGIN.top + height}" stroke="#555" stroke-dasharray="4 3"/>`);
    // Labels of markers near the right edge go to the line's left, clear of the legend.
    const right = x > MARGIN.left + width * 0.8;
    parts.push(`<text x="${right ? x - 4 : x + 4}" y="${top + MARGIN.top + 12}" font-size="11" fill="#555" text-anchor="${right ? 'end' : 'start'}">${escape(marker.label)}</text>`);
  }
  // Lines and legend.
  chart.series.forEach((series, i) => {
    const color = PALETTE[(i + colorOffset) % PALETTE.length];
    const path = series.points
      .filter(([, y]) => !chart.logY || y > 0)
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    if (path !== '') parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="1.6"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    const ly = top + MARGIN.top + 6 + i * 18;
    const lx = MARGIN.left + width + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly + 4}" font-size="11">${escape(series.name)}</text>`);
  });
  return parts.join('\n');
}

/** One SVG document with the charts stacked, under `title`. */
export function svgDocument(title: string, charts: readonly Chart[]): string {
  const height = 30 + charts.length * CHART_HEIGHT;
  const body = charts.map((chart, i) => chartSvg(chart, 30 + i * CHART_HEIGHT, 0)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="13" fill="#333">${escape(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
