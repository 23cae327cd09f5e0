import { dayOf, formatBytes, formatCount, formatInstant, formatWindow, formatWindowInDay, plural, shortName } from './format';

describe('how the page writes numbers, days and windows', () => {
  it.each([
    [1796524680, 1796524740, '2026-12-06 02:38–02:39', '02:38–02:39'],
    [1796515200 - 3600, 1796515200, '2026-12-05 23:00–00:00', '23:00–00:00'],
    [1796428800 - 3600, 1796428800 + 3600, '2026-12-04 23:00 – 2026-12-05 01:00', '23:00 – 12-05 01:00'],
  ])('window %i..%i is %s (UTC), %s within its day', (start, end, text, inDay) => {
    expect(formatWindow(start, end)).toBe(text);
    expect(formatWindowInDay(start, end)).toBe(inDay);
  });

  it('writes sizes, counts, plurals, days, instants and short names', () => {
    expect([formatBytes(661), formatBytes(18_944), formatBytes(3 * 1024 * 1024)]).toEqual(['661 B', '18.5 KB', '3.0 MB']);
    expect(formatCount(1234567)).toBe('1,234,567');
    expect([plural(1, 'file'), plural(1200, 'file'), plural(2, 'index', 'indexes')]).toEqual(['1 file', '1,200 files', '2 indexes']);
    expect([dayOf(1796515200 - 1), dayOf(1796515200)]).toEqual(['2026-12-05', '2026-12-06']);
    expect([formatInstant('2026-12-06T14:05:09.000Z'), formatInstant('not a date')]).toEqual(['2026-12-06 14:05 UTC', 'not a date']);
    expect(shortName('v1/440/1-2-00001.zip')).toBe('1-2-00001.zip');
  });
});
