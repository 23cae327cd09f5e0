/**
 * Which real counts the transparency page may show. The public index gives each file's keys with
 * padding; the real counts stay in the private manifest, because a file's real count would undo
 * its padding. A day's total of keys from phones is published only when it cannot be turned back
 * into a file's count:
 *
 * - the day is over: the cursor is past its end and every range starting in it is settled, so the
 *   total never grows file by file (two successive pages would give the new file's count away);
 * - all its files are still in the index: a total over the files left would give away those that
 *   left (files leave the index one window at a time at the end of the retention);
 * - its records account for every key of its files (real + padding = keys in the files): a record
 *   rebuilt from the files after a lost manifest knows no real count;
 * - the total is at least the privacy floor (`KEYFRONT_MIN_KEYS_PER_FILE`), as a file is.
 *
 * Days are UTC days of a range's start, as the page groups files by their window's start (a
 * range's files carry the range's start and end). Only recorded fields are read (`publishedThrough`,
 * each range's `settled`, `unlistedAt`, `realKeys`, `paddingKeys`, files and their keys): nothing
 * assumes a window length or a file per hour.
 */
import type { RealKeysOfDay } from '../site/page-content';
import type { Manifest, RangeRecord } from './manifest';

const DAY_SECONDS = 86400;

function dayStartOf(seconds: number): number {
  return Math.floor(seconds / DAY_SECONDS) * DAY_SECONDS;
}

function isoDay(dayStart: number): string {
  return new Date(dayStart * 1000).toISOString().slice(0, 10);
}

function accountsForItsFiles(range: RangeRecord): boolean {
  const inFiles = range.files.reduce((total, file) => total + file.keys, 0);
  return range.realKeys >= 0 && range.realKeys + range.paddingKeys === inFiles;
}

/** Keys from phones per UTC day of the listed files (by window start), or why a day's total is not shown. */
export function realKeysPerDay(manifest: Manifest, listed: ReadonlyArray<{ path: string; start: number }>, privacyFloor: number): Record<string, RealKeysOfDay> {
  const listedNames = new Set(listed.map((file) => file.path));
  const days = new Set(listed.map((file) => dayStartOf(file.start)));
  const result: Record<string, RealKeysOfDay> = {};
  for (const dayStart of days) {
    const dayEnd = dayStart + DAY_SECONDS;
    const ranges = manifest.ranges.filter((range) => range.files.length > 0 && range.start >= dayStart && range.start < dayEnd);
    const namesOfRanges = new Set(ranges.flatMap((range) => range.files.map((file) => file.name)));
    const hide = (why: Exclude<RealKeysOfDay, { shown: true }>['why']): void => {
      result[isoDay(dayStart)] = { shown: false, why };
    };
    if (ranges.some((range) => range.unlistedAt !== undefined)) hide('left_index');
    else if (manifest.publishedThrough === null || manifest.publishedThrough < dayEnd || ranges.some((range) => !range.settled)) hide('day_open');
    // A recorded file the index does not name yet waits for geo-replication: the day is not complete for readers.
    else if (ranges.some((range) => range.files.some((file) => !listedNames.has(file.name)))) hide('day_open');
    else if (listed.some((file) => dayStartOf(file.start) === dayStart && !namesOfRanges.has(file.path)) || !ranges.every(accountsForItsFiles)) hide('not_recorded');
    else {
      const keys = ranges.reduce((total, range) => total + range.realKeys, 0);
      if (keys < privacyFloor) hide('below_floor');
      else result[isoDay(dayStart)] = { shown: true, keys };
    }
  }
  return result;
}
