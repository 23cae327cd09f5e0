/**
 * A health authority's certificate keys published at an HTTPS JWKS URI: fetched at start, kept
 * as long as the response's cache headers say, refreshed in the background (conditionally, with
 * its ETag), refreshed early when a certificate names an unknown `kid` (a rotation), never more
 * often than `minRefreshInMs`. When refreshes fail, the last good keys keep working for
 * `maxStaleInMs` after they went stale; then `keyFor` throws `JwksUnavailableError`.
 *
 * Not jose's `createRemoteJWKSet`: it ignores Cache-Control, and once its `cacheMaxAge` passes a
 * failed fetch fails every verification at once, with no bounded use of the last good keys.
 * Keys are still imported by jose (`importJWK`).
 */
import type { KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { Logger } from '../../platform/log';

/** How a JWKS URI is read; in `ApiConfig.jwks`, from the `KEYFRONT_JWKS_*` settings. */
export interface JwksSettings {
  /** Shortest time between two fetches of one URI, whatever the cache headers or unknown kids ask. */
  minRefreshInMs: number;
  /** How long a document stays fresh when its response carries no cache headers. */
  defaultMaxAgeInMs: number;
  /** How long the last good keys keep working after they went stale while refreshes fail. */
  maxStaleInMs: number;
  /** Deadline of one fetch. */
  fetchTimeoutInMs: number;
}

/** A JWKS document above this is refused: a few keys take a few hundred bytes each. */
export const MAX_JWKS_BYTES = 64 * 1024;
/** The longest freshness taken from cache headers: a day, so a removed key goes within a day. */
export const MAX_JWKS_MAX_AGE_IN_MS = 86_400_000;

/** The keys of a JWKS URI are unknown or too old to use. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
}

/** Why a document was refused; logged with the URI, never with key material. */
class JwksDocumentError extends Error {}

export interface JwksDeps {
  /** `fetch` (tests pass one that trusts their loopback certificate). */
  fetch?: typeof fetch;
  /** Milliseconds, `Date.now` by default. */
  now?: () => number;
  logger?: Logger;
}

/** The seconds of `max-age`, `no-cache`/`no-store` as 0, or `Expires` minus `Date`; `undefined` without them. */
export function freshnessInMs(headers: Headers): number | undefined {
  const cacheControl = headers.get('cache-control')?.toLowerCase() ?? '';
  const age = Number(headers.get('age') ?? 0) * 1000 || 0;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/.test(cacheControl)) return 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(cacheControl)?.[1];
  if (maxAge !== undefined) return Math.max(0, Number(maxAge) * 1000 - age);
  const expires = Date.parse(headers.get('expires') ?? '');
  if (Number.isNaN(expires)) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  return Math.max(0, expires - (Number.isNaN(date) ? Date.now() : date));
}

/** The body, read up to `limit` bytes; a longer body is refused without reading the rest. */
async function boundedText(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new JwksDocumentError(`the document is ${declared} bytes, more than ${limit}`);
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.length;
    if (size > limit) {
      await reader.cancel();
      throw new JwksDocumentError(`the document is more than ${limit} bytes`);
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The ES256 keys of a document by kid. Keys of other types are skipped; none usable is an error. */
export async function keysOfDocument(text: string): Promise<Map<string, KeyObject>> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new JwksDocumentError('the document is not JSON');
  }
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new JwksDocumentError('the document has no "keys" array');
  const keys = new Map<string, KeyObject>();
  for (const item of list as JWK[]) {
    if (typeof item !== 'object' || item === null) continue;
    // Only public P-256 signing keys with a kid: certificates are ES256 and name their key.
    if (item.kty !== 'EC' || item.crv !== 'P-256' || typeof item.kid !== 'string' || item.kid === '' || 'd' in item) continue;
    if ((item.alg !== undefined && item.alg !== 'ES256') || (item.use !== undefined && item.use !== 'sig')) continue;
    if (keys.has(item.kid)) throw new JwksDocumentError(`kid ${JSON.stringify(item.kid.slice(0, 64))} is listed twice`);
    try {
      keys.set(item.kid, (await importJWK({ kty: item.kty, crv: item.crv, x: item.x, y: item.y }, 'ES256')) as KeyObject);
    } catch {
      throw new JwksDocumentError(`the key ${JSON.stringify(item.kid.slice(0, 64))} is not a valid P-256 public key`);
    }
  }
  if (keys.size === 0) throw new JwksDocumentError('the document holds no ES256 (EC P-256) public key with a kid');
  return keys;
}

export class RemoteJwks {
  private keys = new Map<string, KeyObject>();
  /** Whether keys were ever fetched. */
  private loaded = false;
  private freshUntil = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private etag: string | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(
    readonly uri: string,
    private readonly settings: JwksSettings,
    private readonly deps: JwksDeps = {},
  ) {
    this.fetch = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
  }

  /** Fetches the keys now and keeps them refreshed in the background until `stop()`. */
  start(): void {
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Whether the keys may be used: fetched, and not stale for longer than allowed. */
  usable(): boolean {
    return this.loaded && this.now() <= this.freshUntil + this.settings.maxStaleInMs;
  }

  /**
   * The key named `kid`, or `undefined` when the authority does not publish it (after one
   * refresh, when the refresh rate allows one: a certificate may carry a new key). Throws
   * `JwksUnavailableError` when no usable keys can be had.
   */
  async keyFor(kid: string): Promise<KeyObject | undefined> {
    if (!this.usable()) await this.refresh();
    if (!this.usable()) throw new JwksUnavailableError(`the keys of ${this.uri} could not be fetched${this.loaded ? ' for too long' : ''}`);
    const key = this.keys.get(kid);
    if (key !== undefined) return key;
    await this.refresh();
    return this.keys.get(kid);
  }

  /** One fetch at a time, and none sooner than `minRefreshInMs` after the last. */
  refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.stopped || this.now() - this.lastAttemptAt < this.settings.minRefreshInMs) return Promise.resolve();
    this.lastAttemptAt = this.now();
    this.inFlight = this.fetchOnce().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  private async fetchOnce(): Promise<void> {
    try {
      const response = await this.fetch(this.uri, {
        headers: { accept: 'application/json', ...(this.etag && this.loaded ? { 'if-none-match': this.etag } : {}) },
        redirect: 'error',
        signal: AbortSignal.timeout(this.settings.fetchTimeoutInMs),
      });
      if (response.status === 304 && this.loaded) {
        await response.body?.cancel();
        this.freshUntil = this.now() + this.freshness(response.headers);
        return;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new JwksDocumentError(`answered HTTP ${response.status}`);
      }
      const keys = await keysOfDocument(await boundedText(response, MAX_JWKS_BYTES));
      const added = [...keys.keys()].filter((kid) => !this.keys.has(kid)).length;
      const removed = [...this.keys.keys()].filter((kid) => !keys.has(kid)).length;
      this.keys = keys;
      this.loaded = true;
      this.etag = response.headers.get('etag') ?? undefined;
      this.freshUntil = this.now() + this.freshness(response.headers);
      if (added + removed > 0) this.deps.logger?.info('health authority keys changed', { jwksUri: this.uri, keys: keys.size, added, removed });
    } catch (error) {
      const reason = error instanceof JwksDocumentError ? error.message : ((error as Error).name === 'TimeoutError' ? 'no answer in time' : `cannot fetch: ${(error as Error).message}`);
      this.deps.logger?.warn('health authority keys not refreshed; the last good keys stay in use for a bounded time', { jwksUri: this.uri, reason, usable: this.usable() });
    }
  }

  private freshness(headers: Headers): number {
    const declared = freshnessInMs(headers) ?? this.settings.defaultMaxAgeInMs;
    return Math.min(MAX_JWKS_MAX_AGE_IN_MS, Math.max(this.settings.minRefreshInMs, declared));
  }

  /** The next background refresh: when the keys go stale, or after the minimum interval when the last try failed. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const wait = Math.max(this.settings.minRefreshInMs - (this.now() - this.lastAttemptAt), this.freshUntil - this.now(), 0);
    // Unref'd: a refresh never keeps a stopping host alive.
    this.timer = setTimeout(() => void this.refresh(), wait).unref();
  }
}
