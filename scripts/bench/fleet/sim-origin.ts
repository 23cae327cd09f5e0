/**
 * The exports container as the simulated edge sees it: the blobs the real publisher wrote into
 * its `MemoryBlobWriter` (export files and both index files, with the Content-Type and
 * Cache-Control the publisher set), answered through an undici `Dispatcher` as Blob storage answers
 * a Get Blob: an ETag, Last-Modified (when the simulation first saw that version), a 304 to a
 * matching `If-None-Match` (reached only when the edge does not cache the route), a 404 for a blob
 * that does not exist. Every request is counted; each draws an origin latency (for request
 * collapsing at the edge) and, at `errorRate`, fails with a 503 as a throttled account does.
 */
import { Dispatcher } from 'undici';
import type { MemoryBlobWriter } from '../../../publisher/blob/memory-blob-writer';

export interface OriginCounters {
  requests: number;
  indexRequests: number;
  fileRequests: number;
  notModified: number;
  errors: number;
  bytes: number;
}

export interface SimOriginOptions {
  /** The container's path on the origin (the route's origin path, e.g. `/exports`). */
  containerPath: string;
  /** Share of requests answered 503 ServerBusy. */
  errorRate: number;
  /** Latency of one origin request in ms (drawn per request). */
  latencyInMs: () => number;
  random: () => number;
  /** Changes a blob's Cache-Control on the way out (tests: "as if the publisher wrote another s-maxage"). */
  cacheControlOf?: (blobName: string, written: string | undefined) => string | undefined;
}

const INDEX = /\/index\.(txt|json)$/;

export class SimOrigin extends Dispatcher {
  readonly counters: OriginCounters = { requests: 0, indexRequests: 0, fileRequests: 0, notModified: 0, errors: 0, bytes: 0 };
  /** The latency the last request drew: how long its fill kept the edge's other requests waiting. */
  lastLatencyInMs = 0;
  /** When each version of a blob (by ETag) was first seen: its Last-Modified. */
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly exports: MemoryBlobWriter,
    private readonly options: SimOriginOptions,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    void this.answer(options, handler);
    return true;
  }

  private async answer(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): Promise<void> {
    const controller = { abort: () => undefined, pause: () => undefined, resume: () => undefined, paused: false, aborted: false, reason: null } as unknown as Dispatcher.DispatchController;
    this.counters.requests += 1;
    this.lastLatencyInMs = this.options.latencyInMs();
    const path = options.path.split('?', 1)[0];
    const prefix = `${this.options.containerPath}/`;
    const name = path.startsWith(prefix) ? decodeURIComponent(path.slice(prefix.length)) : '';
    if (INDEX.test(name)) this.counters.indexRequests += 1;
    else this.counters.fileRequests += 1;
    const date = new Date(Date.now()).toUTCString();
    let status: number;
    let headers: Record<string, string>;
    let body: Buffer;
    const blob = name === '' ? undefined : await this.exports.read(name);
    if (this.options.random() < this.options.errorRate) {
      this.counters.errors += 1;
      status = 503;
      body = Buffer.from('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>');
      headers = { 'content-type': 'application/xml' };
    } else if (!blob) {
      status = 404;
      body = Buffer.from('<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>');
      headers = { 'content-type': 'application/xml' };
    } else {
      const seen = this.seenAt.get(`${name}\u0000${blob.etag}`) ?? Date.now();
      this.seenAt.set(`${name}\u0000${blob.etag}`, seen);
      const cacheControl = this.options.cacheControlOf ? this.options.cacheControlOf(name, blob.cacheControl) : blob.cacheControl;
      headers = { 'content-type': blob.contentType ?? 'application/octet-stream', etag: blob.etag, 'last-modified': new Date(seen).toUTCString(), ...(cacheControl ? { 'cache-control': cacheControl } : {}) };
      const ifNoneMatch = (options.headers as Record<string, string | undefined> | undefined)?.['if-none-match'];
      if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === blob.etag || tag.trim() === '*')) {
        this.counters.notModified += 1;
        status = 304;
        body = Buffer.alloc(0);
      } else {
        status = 200;
        body = blob.data;
      }
    }
    headers = { ...headers, date, ...(status === 304 ? {} : { 'content-length': String(body.length) }) };
    this.counters.bytes += body.length;
    handler.onRequestStart?.(controller, {});
    handler.onResponseStart?.(controller, status, headers, '');
    if (body.length > 0) handler.onResponseData?.(controller, body);
    handler.onResponseEnd?.(controller, {});
  }

  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}
