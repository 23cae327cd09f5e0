/**
 * Which day totals of keys from phones the page may show: only over a finished day whose files
 * are all in the index, whose records know their real counts, and only from the privacy floor on;
 * ranges of any length count to the day they start on.
 */
import type { Manifest, PublishedFile, RangeRecord } from './manifest';
import { realKeysPerDay } from './site-counts';

const DAY = 86400;
const day0 = 1796342400; // 2026-12-04 00:00 UTC
const HOUR = 3600;

function range(start: number, end: number, real: number, keys = Math.max(real, 1000), more: Partial<RangeRecord> = {}): RangeRecord {
  const file: PublishedFile = { name: `v1/440/${start}-${end}-00001.zip`, start, end, n: 1, keys, revisedKeys: 0, bytes: 20_000, sha256: 'a', binSha256: 'b', keyId: '440', keyVersion: 'v1' };
  return { start, end, files: [file], realKeys: real, realRevisedKeys: 0, paddingKeys: keys - real, publishedAt: end, settled: true, ...more };
}

/** A day of 24 hourly ranges with `real` keys from phones each. */
function day(start: number, real: number): RangeRecord[] {
  return Array.from({ length: 24 }, (_, h) => range(start + h * HOUR, start + (h + 1) * HOUR, real));
}

function manifestOf(ranges: RangeRecord[], publishedThrough: number | null = Math.max(...ranges.map((r) => r.end))): Manifest {
  return { version: 1, region: '440', publishedThrough, ranges, purgePending: false, updatedAt: 0 };
}

const listedOf = (ranges: RangeRecord[]) => ranges.filter((r) => r.unlistedAt === undefined).flatMap((r) => r.files.map((f) => ({ path: f.name, start: f.start })));

describe('the day totals of keys from phones the page may show', () => {
  it('shows the total of a finished day at or above the floor, and hides one below it', () => {
    const ranges = [...day(day0, 50), ...day(day0 + DAY, 10)];
    expect(realKeysPerDay(manifestOf(ranges, day0 + 2 * DAY), listedOf(ranges), 1000)).toEqual({ '2026-12-04': { shown: true, keys: 1200 }, '2026-12-05': { shown: false, why: 'below_floor' } });
  });

  it('shows no total of a day not over: the cursor short of its end, or a range that may still get late keys', () => {
    const ranges = day(day0, 100);
    expect(realKeysPerDay(manifestOf(ranges, day0 + DAY - HOUR), listedOf(ranges), 1000)).toEqual({ '2026-12-04': { shown: false, why: 'day_open' } });
    const unsettled = ranges.map((r, i) => (i === 23 ? { ...r, settled: false } : r));
    expect(realKeysPerDay(manifestOf(unsettled, day0 + DAY), listedOf(unsettled), 1000)).toEqual({ '2026-12-04': { shown: false, why: 'day_open' } });
  });

  it('shows no total once a file of the day left the index (the total of the rest would give it away), nor before a recorded file is listed', () => {
    const ranges = day(day0, 100);
    const leaving = ranges.map((r, i) => (i === 0 ? { ...r, unlistedAt: day0 + 15 * DAY } : r));
    expect(realKeysPerDay(manifestOf(leaving), listedOf(leaving), 1000)).toEqual({ '2026-12-04': { shown: false, why: 'left_index' } });
    // The newest file waits for geo-replication: recorded, not yet in the index.
    expect(realKeysPerDay(manifestOf(ranges), listedOf(ranges).slice(0, 23), 1000)).toEqual({ '2026-12-04': { shown: false, why: 'day_open' } });
  });

  it('shows no total the records cannot account for: a listed file without a record, or a record rebuilt from the files', () => {
    const ranges = day(day0, 100);
    const stray = { path: `v1/440/${day0 + 5 * HOUR}-${day0 + 6 * HOUR}-00002.zip`, start: day0 + 5 * HOUR };
    expect(realKeysPerDay(manifestOf(ranges), [...listedOf(ranges), stray], 1000)).toEqual({ '2026-12-04': { shown: false, why: 'not_recorded' } });
    const rebuilt = ranges.map((r, i) => (i === 3 ? { ...r, realKeys: 0, paddingKeys: 0 } : r));
    expect(realKeysPerDay(manifestOf(rebuilt), listedOf(rebuilt), 1000)).toEqual({ '2026-12-04': { shown: false, why: 'not_recorded' } });
  });

  it('counts ranges of any length to the day they start on (windows that close once enough keys arrived, held ranges across midnight)', () => {
    const ranges = [range(day0, day0 + 6 * HOUR, 1000), range(day0 + 6 * HOUR, day0 + 6 * HOUR + 600, 1004), range(day0 + 20 * HOUR, day0 + DAY + 5 * HOUR, 1100), range(day0 + DAY + 5 * HOUR, day0 + 2 * DAY, 1010)];
    expect(realKeysPerDay(manifestOf(ranges), listedOf(ranges), 1000)).toEqual({ '2026-12-04': { shown: true, keys: 3104 }, '2026-12-05': { shown: true, keys: 1010 } });
  });

  it('shows every finished total with no floor, zero included', () => {
    const ranges = day(day0, 0);
    expect(realKeysPerDay(manifestOf(ranges), listedOf(ranges), 0)).toEqual({ '2026-12-04': { shown: true, keys: 0 } });
  });
});
