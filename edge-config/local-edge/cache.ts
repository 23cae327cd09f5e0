/**
 * The local edge's cache: undici's cache interceptor (RFC 9111 shared cache: freshness from
 * `s-maxage` > `max-age` > `Expires`, never `private`, `no-store` or `Set-Cookie`, revalidation of
 * stale entries) over undici's memory store, plus the glue that makes it behave like Front Door:
 *
 * - `EdgeCacheStore` wraps the store: only GET answers with explicit freshness are kept, never a
 *   `no-cache` one (Front Door does not cache those at all), and purge works by path and `/*` prefix
 *   with Front Door's semantics. A response whose request began before a purge covering its path
 *   is never stored, so a purge cannot be undone by a fetch that was already under way.
 *   A stale entry is dropped when read, so the interceptor refills it with a full GET instead of
 *   revalidating: Azurite answers a conditional GET with a bare 304 (no ETag, no Cache-Control),
 *   which undici takes as "not refreshed", and the entry would stay stale for good.
 *   The wrapper also keeps the size limit itself, dropping the least recently used entries:
 *   undici 7's memory store evicts nothing from a path holding a single entry
 *   (nodejs/undici#5737), and it would not tell the wrapper what it evicted.
 * - `cacheFillInterceptor` sits below the cache: it notes that the cache missed (for `X-Cache`) and
 *   gives a 200 without any freshness information Front Door's default lifetime (1 to 3 days).
 * - `notModified` answers conditional client requests from whatever the cache returned.
 */
import type { Writable } from 'node:stream';
import { cacheStores, type Dispatcher } from 'undici';
import type CacheInterceptor from 'undici/types/cache-interceptor';
import { purgeCovers } from '../../platform/purge-paths';
import { INTERNAL_HEADER_PREFIX, type EdgeDispatch } from './origin-groups';

type CacheKey = CacheInterceptor.CacheKey;
type CacheValue = CacheInterceptor.CacheValue;
type Headers = Record<string, string | string[] | undefined>;

/** Request header carrying the purge epoch at the request's start (never sent to an origin). */
export const EPOCH_HEADER = `${INTERNAL_HEADER_PREFIX}epoch`;
/** Response header marking a default lifetime the edge added (never sent to a client). */
export const DEFAULT_TTL_HEADER = `${INTERNAL_HEADER_PREFIX}default-ttl`;
const ORIGINAL_CACHE_CONTROL_HEADER = `${INTERNAL_HEADER_PREFIX}origin-cache-control`;
const PURGE_LOG_LENGTH = 1000;

/** The directive names of a Cache-Control value, lower-cased (values are not needed here). */
export function cacheDirectives(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((part) => part.split('=')[0].trim().toLowerCase())
      .filter((name) => name !== ''),
  );
}

function hasExplicitFreshness(headers: Headers): boolean {
  const directives = cacheDirectives(headers['cache-control']);
  return directives.has('s-maxage') || directives.has('max-age') || headers.expires !== undefined;
}

/** Front Door never caches these (its documentation: private, no-cache, no-store; Set-Cookie). */
export function refusesSharedCaching(headers: Headers): boolean {
  const directives = cacheDirectives(headers['cache-control']);
  return directives.has('private') || directives.has('no-store') || directives.has('no-cache') || headers['set-cookie'] !== undefined;
}

export interface EdgeCacheStoreOptions {
  /** Bytes of bodies kept in memory. */
  maxSize: number;
  /** The largest body kept (an export file is at most 16 MB). */
  maxEntrySize: number;
}

function idOf(key: { origin: string; path: string }): string {
  return `${key.origin}\u0000${key.path}`;
}

export class EdgeCacheStore implements CacheInterceptor.CacheStore {
  private readonly inner: CacheInterceptor.CacheStore & { size: number };
  /** The paths the store holds, least recently used first: for purge by path and eviction (undici's store cannot list its entries). */
  private readonly keys = new Map<string, { origin: string; path: string }>();
  private readonly maxSize: number;
  private epoch = 0;
  private readonly purgeLog: { epoch: number; contentPaths: readonly string[] }[] = [];

  constructor(options: EdgeCacheStoreOptions) {
    this.maxSize = options.maxSize;
    // No size limit inside: this wrapper evicts (see above), so the store never drops entries behind its back.
    // `size` exists on the store (bytes held) but is missing from undici's type declarations.
    this.inner = new cacheStores.MemoryCacheStore({ maxSize: Number.MAX_SAFE_INTEGER, maxEntrySize: options.maxEntrySize, maxCount: Number.MAX_SAFE_INTEGER }) as CacheInterceptor.CacheStore & { size: number };
  }

  /** The purge epoch to stamp on a request as it starts (`EPOCH_HEADER`). */
  currentEpoch(): number {
    return this.epoch;
  }

  /** A fresh entry, or nothing: a stale (or expired) entry is dropped, so the edge fetches it again in full. */
  get(key: CacheKey): ReturnType<CacheInterceptor.CacheStore['get']> {
    const id = idOf(key);
    const entry = this.inner.get(key) as CacheInterceptor.GetResult | undefined;
    if (entry && Date.now() < entry.staleAt) {
      // Most recently used: move to the end.
      const held = this.keys.get(id);
      if (held) {
        this.keys.delete(id);
        this.keys.set(id, held);
      }
      return entry;
    }
    if (entry || this.keys.has(id)) this.delete(key);
    return undefined;
  }

  createWriteStream(key: CacheKey, value: CacheValue): Writable | undefined {
    if (key.method !== 'GET' || refusesSharedCaching(value.headers) || !hasExplicitFreshness(value.headers) || value.staleAt <= Date.now()) return undefined;
    const started = Number(key.headers?.[EPOCH_HEADER]);
    if (this.purgedSince(started, key.path)) return undefined;
    const stream = this.inner.createWriteStream(key, value);
    if (!stream) return undefined;
    const id = idOf(key);
    stream.once('finish', () => {
      // A purge may have come while the body was streaming in.
      if (this.purgedSince(started, key.path)) {
        this.delete(key);
        return;
      }
      this.keys.delete(id);
      this.keys.set(id, { origin: key.origin, path: key.path });
      for (const [oldest, entry] of this.keys) {
        if (this.inner.size <= this.maxSize) break;
        this.keys.delete(oldest);
        void this.inner.delete({ ...entry, method: 'GET', headers: {} });
      }
    });
    return stream;
  }

  delete(key: CacheKey): void {
    this.keys.delete(idOf(key));
    void this.inner.delete(key);
  }

  /** Drops every entry covered by the paths (Front Door semantics); returns how many there were. */
  purge(contentPaths: readonly string[]): number {
    this.epoch += 1;
    this.purgeLog.push({ epoch: this.epoch, contentPaths: [...contentPaths] });
    if (this.purgeLog.length > PURGE_LOG_LENGTH) this.purgeLog.shift();
    let purged = 0;
    for (const [id, entry] of this.keys) {
      if (!contentPaths.some((contentPath) => purgeCovers(contentPath, entry.path))) continue;
      const key = { origin: entry.origin, path: entry.path, method: 'GET', headers: {} };
      if (this.inner.get(key)) purged += 1;
      void this.inner.delete(key);
      this.keys.delete(id);
    }
    return purged;
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.keys.size, bytes: this.inner.size };
  }

  /** True when a purge covering `path` came after the epoch `started` (or we cannot tell). */
  private purgedSince(started: number, path: string): boolean {
    if (!Number.isInteger(started)) return true;
    if (started >= this.epoch) return false;
    if (this.purgeLog.length === 0 || this.purgeLog[0].epoch > started + 1) return true;
    return this.purgeLog.some((entry) => entry.epoch > started && entry.contentPaths.some((contentPath) => purgeCovers(contentPath, path)));
  }
}

/** Gives a 200 without freshness information Front Door's default lifetime, marked so the client never sees it. */
class DefaultLifetimeHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly lifetimeInSeconds: () => number,
  ) {}
  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    let seen = headers;
    if (statusCode === 200 && !hasExplicitFreshness(headers) && !refusesSharedCaching(headers)) {
      const original = headers['cache-control'];
      const lifetime = `s-maxage=${this.lifetimeInSeconds()}`;
      seen = { ...headers, 'cache-control': original ? `${Array.isArray(original) ? original.join(', ') : original}, ${lifetime}` : lifetime, [DEFAULT_TTL_HEADER]: '1', ...(original ? { [ORIGINAL_CACHE_CONTROL_HEADER]: original } : {}) };
    }
    this.inner.onResponseStart?.(controller, statusCode, seen as Record<string, string | string[]>, statusMessage);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }
  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.inner.onResponseEnd?.(controller, trailers as Record<string, string | string[]>);
  }
  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.inner.onResponseError?.(controller, error);
  }
}

/** Front Door caches an answer without directives "anywhere from 1 to 3 days". */
export function frontDoorDefaultLifetimeInSeconds(random: () => number = Math.random): number {
  return 86_400 + Math.floor(random() * 2 * 86_400);
}

/** Below the cache: reached only when the cache has no fresh answer. */
export function cacheFillInterceptor(lifetimeInSeconds: () => number = frontDoorDefaultLifetimeInSeconds): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const edge = (opts as { edge?: EdgeDispatch }).edge;
    if (edge) edge.trace.miss = true;
    return dispatch(opts, new DefaultLifetimeHandler(handler, lifetimeInSeconds));
  };
}

/** Undoes what the edge added for its own cache before headers go to a client. */
export function restoreOriginHeaders(headers: Headers): void {
  if (headers[DEFAULT_TTL_HEADER] !== undefined) {
    const original = headers[ORIGINAL_CACHE_CONTROL_HEADER];
    if (original === undefined) delete headers['cache-control'];
    else headers['cache-control'] = original;
  }
  delete headers[DEFAULT_TTL_HEADER];
  delete headers[ORIGINAL_CACHE_CONTROL_HEADER];
}

function opaqueTag(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** RFC 9110 §13.1: If-None-Match (weak comparison) first, else If-Modified-Since against Last-Modified. */
export function notModified(requestHeaders: Headers, statusCode: number, responseHeaders: Headers): boolean {
  if (statusCode !== 200) return false;
  const ifNoneMatch = requestHeaders['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = responseHeaders.etag;
    if (typeof etag !== 'string') return false;
    const tags = (Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch).split(',');
    return tags.some((tag) => tag.trim() === '*' || opaqueTag(tag) === opaqueTag(etag));
  }
  const since = requestHeaders['if-modified-since'];
  const lastModified = responseHeaders['last-modified'];
  if (typeof since !== 'string' || typeof lastModified !== 'string') return false;
  const sinceMs = Date.parse(since);
  const modifiedMs = Date.parse(lastModified);
  return !Number.isNaN(sinceMs) && !Number.isNaN(modifiedMs) && modifiedMs <= sinceMs;
}
