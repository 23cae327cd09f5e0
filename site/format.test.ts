import { formatBytes, formatCount, formatWindow, shortName } from './format';

describe('how the page writes numbers and windows', () => {
  it.each([
    [1796524680, 1796524740, '2026-12-06 02:38–02:39'],
    [1796515200 - 3600, 1796515200, '2026-12-05 23:00–00:00'],
    [1796428800 - 3600, 1796428800 + 3600, '2026-12-04 23:00 – 2026-12-05 01:00'],
  ])('window %i..%i is %s (UTC)', (start, end, text) => {
    expect(formatWindow(start, end)).toBe(text);
  });

  it('writes sizes, counts and short names', () => {
    expect([formatBytes(661), formatBytes(18_944), formatBytes(3 * 1024 * 1024)]).toEqual(['661 B', '18.5 KB', '3.0 MB']);
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(shortName('v1/440/1-2-00001.zip')).toBe('1-2-00001.zip');
  });
});
