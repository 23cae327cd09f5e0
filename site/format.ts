/** How the page writes numbers, sizes, days and windows: UTC always, as the files and the index count time. */

const integer = new Intl.NumberFormat('en');

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `1 file`, `24 files`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function parts(seconds: number): { day: string; time: string } {
  const iso = new Date(seconds * 1000).toISOString();
  return { day: iso.slice(0, 10), time: iso.slice(11, 16) };
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(seconds: number): string {
  return parts(seconds).day;
}

/** `2026-12-06 01:00–02:00`, or both days when the window crosses midnight (UTC). */
export function formatWindow(start: number, end: number): string {
  const from = parts(start);
  const to = parts(end);
  if (from.day === to.day || (to.time === '00:00' && end - start <= 86400)) return `${from.day} ${from.time}–${to.time}`;
  return `${from.day} ${from.time} – ${to.day} ${to.time}`;
}

/** A window inside the day it starts on: `01:00–02:00`; the end's day when it is a later one (`23:00 – 12-07 01:00`). */
export function formatWindowInDay(start: number, end: number): string {
  const from = parts(start);
  const to = parts(end);
  if (from.day === to.day || (to.time === '00:00' && end - start <= 86400)) return `${from.time}–${to.time}`;
  return `${from.time} – ${to.day.slice(5)} ${to.time}`;
}

/** `2026-12-05 14:05 UTC` from an ISO instant; the text as given when it is not one. */
export function formatInstant(iso: string): string {
  const seconds = Date.parse(iso) / 1000;
  if (!Number.isFinite(seconds)) return iso;
  const { day, time } = parts(seconds);
  return `${day} ${time} UTC`;
}

/** The file's own name, without the `v1/{region}/` every row repeats. */
export function shortName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
