/** How the page writes numbers, sizes and windows: UTC always, as the files and the index count time. */

const integer = new Intl.NumberFormat('en');

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function parts(seconds: number): { day: string; time: string } {
  const iso = new Date(seconds * 1000).toISOString();
  return { day: iso.slice(0, 10), time: iso.slice(11, 16) };
}

/** `2026-12-06 01:00–02:00`, or both days when the window crosses midnight (UTC). */
export function formatWindow(start: number, end: number): string {
  const from = parts(start);
  const to = parts(end);
  if (from.day === to.day || (to.time === '00:00' && end - start <= 86400)) return `${from.day} ${from.time}–${to.time}`;
  return `${from.day} ${from.time} – ${to.day} ${to.time}`;
}

/** The file's own name, without the `v1/{region}/` every row repeats. */
export function shortName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
