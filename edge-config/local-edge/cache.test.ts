import type CacheInterceptor from 'undici/types/cache-interceptor';
import { cacheDirectives, EdgeCacheStore, EPOCH_HEADER, frontDoorDefaultLifetimeInSeconds, notModified, refusesSharedCaching } from './cache';

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

describe('EdgeCacheStore', () => {
  const key = (path: string): CacheInterceptor.CacheKey => ({ origin: 'http://exports.route.edge.invalid', path, method: 'GET', headers: { [EPOCH_HEADER]: '0' } });
  const value = (lifetimeInMs: number): CacheInterceptor.CacheValue => {
    const now = Date.now();
    return { statusCode: 200, statusMessage: 'OK', headers: { 'cache-control': 'public, max-age=600' }, cacheControlDirectives: { public: true, 'max-age': 600 }, cachedAt: now, staleAt: now + lifetimeInMs, deleteAt: now + 2 * lifetimeInMs };
  };
  async function put(store: EdgeCacheStore, path: string, bytes: number, lifetimeInMs = 600_000): Promise<boolean> {
    const stream = store.createWriteStream(key(path), value(lifetimeInMs));
    if (!stream) return false;
    await new Promise<void>((resolve) => stream.end(Buffer.alloc(bytes), () => resolve()));
    return true;
  }
  afterEach(() => jest.restoreAllMocks());

  it('stays within maxSize by dropping the least recently used entries, and counts only what it holds', async () => {
    const store = new EdgeCacheStore({ maxSize: 100, maxEntrySize: 90 });
    await put(store, '/v1/a', 40);
    await put(store, '/v1/b', 40);
    expect(store.get(key('/v1/a'))).toBeDefined();
    await put(store, '/v1/c', 40);
    expect(store.stats()).toEqual({ entries: 2, bytes: 80 });
    expect([store.get(key('/v1/a')), store.get(key('/v1/b')), store.get(key('/v1/c'))].map((entry) => entry !== undefined)).toEqual([true, false, true]);
    expect(store.purge(['/v1/*'])).toBe(2);
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it('drops a stale entry when it is read, so the edge fetches it again in full', async () => {
    const store = new EdgeCacheStore({ maxSize: 1000, maxEntrySize: 900 });
    const now = Date.now();
    await put(store, '/v1/index.txt', 10, 1_000);
    expect(store.get(key('/v1/index.txt'))).toBeDefined();
    jest.spyOn(Date, 'now').mockReturnValue(now + 1_500);
    expect(store.get(key('/v1/index.txt'))).toBeUndefined();
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it('does not take an answer that is stale on arrival', async () => {
    const store = new EdgeCacheStore({ maxSize: 1000, maxEntrySize: 900 });
    expect(await put(store, '/v1/index.txt', 10, 0)).toBe(false);
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
  });
});
