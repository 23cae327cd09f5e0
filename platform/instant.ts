/**
 * ISO 8601 instants as operators write them (command lines, settings): a date, a time and a zone
 * (`Z` or an offset). A time without a zone is refused (it would mean someone's local time), and so
 * are dates and times that do not exist (2026-02-30, 24:00), which `Date` would silently roll over.
 */

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** The instant, or `undefined` when `value` is not one. `dateOnly` also allows a bare date, meaning its UTC midnight. */
export function parseIsoInstant(value: string, options: { dateOnly?: boolean } = {}): Date | undefined {
  const match = ISO_INSTANT.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  const fields = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second));
  const exists = fields.getUTCFullYear() === year && fields.getUTCMonth() === month! - 1 && fields.getUTCDate() === day && fields.getUTCHours() === hour && fields.getUTCMinutes() === minute && fields.getUTCSeconds() === second;
  const zoned = match[7] !== undefined || (options.dateOnly === true && match[4] === undefined);
  const date = new Date(match[4] === undefined ? `${value}T00:00:00Z` : value);
  return exists && zoned && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** UTC seconds as an ISO 8601 instant without milliseconds (`2026-05-04T00:00:00Z`). */
export function isoOfSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
