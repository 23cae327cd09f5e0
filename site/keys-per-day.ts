/**
 * The plot of keys per day, as data: verified files' keys summed by the UTC day their window
 * starts, every day between the first and the last shown (a day without files is a zero, not a
 * gap), and the bars' geometry in a fixed SVG view box. Hand-drawn SVG: a charting library would
 * outweigh the rest of the page.
 */
import type { FileCheck } from './check-files';

const DAY = 86400;
/** The index holds 14 days of files; a 15th covers a window that spans midnight. */
export const MAX_DAYS = 15;

export interface DayCount {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  keys: number;
  files: number;
}

function isoDay(dayNumber: number): string {
  return new Date(dayNumber * DAY * 1000).toISOString().slice(0, 10);
}

/** Keys (with padding, as the files carry them) per UTC day of the verified files; the last `MAX_DAYS` days at most. */
export function keysPerDay(files: readonly FileCheck[]): DayCount[] {
  const byDay = new Map<number, DayCount>();
  for (const file of files) {
    if (file.status !== 'verified' || !file.verified) continue;
    const dayNumber = Math.floor(file.verified.startTimestamp / DAY);
    const entry = byDay.get(dayNumber) ?? { day: isoDay(dayNumber), keys: 0, files: 0 };
    entry.keys += file.verified.keyCount;
    entry.files += 1;
    byDay.set(dayNumber, entry);
  }
  if (byDay.size === 0) return [];
  const last = Math.max(...byDay.keys());
  const first = Math.max(Math.min(...byDay.keys()), last - MAX_DAYS + 1);
  const days: DayCount[] = [];
  for (let d = first; d <= last; d++) days.push(byDay.get(d) ?? { day: isoDay(d), keys: 0, files: 0 });
  return days;
}

export interface Bar {
  day: DayCount;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartLayout {
  width: number;
  height: number;
  /** Baseline of the bars. */
  baseline: number;
  /** Top of the tallest possible bar, and the value it stands for (a round number). */
  top: number;
  scaleMax: number;
  bars: Bar[];
}

/** A round upper bound for the axis, at most a quarter above the value past the first steps: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((step) => Math.round(step * power * 10) / 10).find((candidate) => candidate >= value)!;
}

/**
 * Bars in a `width` x `height` view box, with room below for day labels and above for the scale.
 * Always `MAX_DAYS` slots, the newest day at the right edge: a bar is as wide on the first day of
 * a server as after two weeks.
 */
export function layoutChart(days: readonly DayCount[], width = 480, height = 220): ChartLayout {
  const top = 24;
  const baseline = height - 30;
  const side = 8;
  const scaleMax = niceCeiling(Math.max(0, ...days.map((d) => d.keys)));
  const slot = (width - side * 2) / Math.max(MAX_DAYS, days.length);
  const first = width - side - slot * days.length;
  const bars = days.map((day, i) => {
    const barHeight = Math.round(((baseline - top) * day.keys) / scaleMax);
    return { day, x: Math.round(first + i * slot + slot * 0.15), y: baseline - barHeight, width: Math.max(1, Math.round(slot * 0.7)), height: barHeight };
  });
  return { width, height, baseline, top, scaleMax, bars };
}
