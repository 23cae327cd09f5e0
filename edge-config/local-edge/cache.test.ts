import { cacheDirectives, frontDoorDefaultLifetimeInSeconds, notModified, refusesSharedCaching } from './cache';

describe('conditional requests (RFC 9110 §13.1)', () => {
  const response = { etag: '"0x8DC1"', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' };
  it.each([
    [{ 'if-none-match': '"0x8DC1"' }, true],
    [{ 'if-none-match': 'W/"0x8DC1"' }, true],
    [{ 'if-none-match': '"other", "0x8DC1"' }, true],
    [{ 'if-none-match': '*' }, true],
    [{ 'if-none-match': '"other"' }, false],
    // If-None-Match wins over If-Modified-Since.
    [{ 'if-none-match': '"other"', 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' }, false],
    [{ 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' }, true],
    [{ 'if-modified-since': 'Sun, 31 Dec 2023 23:59:59 GMT' }, false],
    [{ 'if-modified-since': 'not a date' }, false],
    [{}, false],
  ])('%j -> 304: %s', (request, expected) => {
    expect(notModified(request, 200, response)).toBe(expected);
  });
  it('never turns a non-200 into a 304', () => {
    expect(notModified({ 'if-none-match': '*' }, 404, response)).toBe(false);
  });
});

describe('Front Door storage rules', () => {
  it.each([
    [{ 'cache-control': 'public, max-age=60' }, false],
    [{ 'cache-control': 'Private' }, true],
    [{ 'cache-control': 'no-cache="set-cookie", max-age=60' }, true],
    [{ 'cache-control': ['public', 'no-store'] }, true],
    [{ 'cache-control': 'max-age=60', 'set-cookie': 'a=1' }, true],
  ])('%j refuses shared caching: %s', (headers, expected) => {
    expect(refusesSharedCaching(headers)).toBe(expected);
  });
  it('parses directive names', () => {
    expect([...cacheDirectives('public, max-age=60, S-MAXAGE="30"')]).toEqual(['public', 'max-age', 's-maxage']);
  });
  it('keeps answers without directives 1 to 3 days', () => {
    expect(frontDoorDefaultLifetimeInSeconds(() => 0)).toBe(86_400);
    expect(frontDoorDefaultLifetimeInSeconds(() => 0.999999)).toBeLessThanOrEqual(3 * 86_400);
  });
});
