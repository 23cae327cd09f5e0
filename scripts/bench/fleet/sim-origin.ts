/**
 * The exports container as the simulated POPs see it: the region's index in each published version
 * and the export files, answered with the headers the publisher writes (Cache-Control of
 * `publisher/index-file.ts`, an ETag per version, Last-Modified) through an undici `Dispatcher`,
 * so the real edge cache code sits on top of it. Every request that reaches it is counted.
 */
import { Dispatcher } from 'undici';
import { EXPORT_CACHE_CONTROL, EXPORT_CONTENT_TYPE, INDEX_CACHE_CONTROL, INDEX_TXT_CONTENT_TYPE } from '../../../publisher/index-file';

export interface PublishedVersion {
  /** Index version: its ETag is `"v{version}"`. */
  version: number;
  /** Sequence numbers of the files it names: [first, end). */
  firstFile: number;
  endFile: number;
  publishedAtInMs: number;
  indexBytes: number;
}

export interface OriginCounters {
  requests: number;
  bytes: number;
  indexRequests: number;
  fileRequests: number;
}

/** The path of file `seq` (window `seq`, counted from the simulation's first window). */
export type FilePath = (seq: number) => string;

const INDEX_ETAG = /^"v(\d+)"$/;

/** The index version an ETag names, or -1. */
export function versionOfEtag(etag: unknown): number {
  const match = typeof etag === 'string' ? INDEX_ETAG.exec(etag) : null;
  return match ? Number(match[1]) : -1;
}

export class SimOrigin extends Dispatcher {
  readonly counters: OriginCounters = { requests: 0, bytes: 0, indexRequests: 0, fileRequests: 0 };
  private readonly versions: PublishedVersion[] = [];
  private readonly fileIndex = new Map<string, number>();

  constructor(
    readonly indexPath: string,
    private readonly fileBody: (seq: number) => Buffer,
    private readonly filePublishedAt: (seq: number) => number,
  ) {
    super();
  }

  /** A new index version; the files it names must have been added (`addFile`) before. */
  publishIndex(version: PublishedVersion): void {
    this.versions.push(version);
  }

  addFile(path: string, seq: number): void {
    this.fileIndex.set(path, seq);
  }

  current(): PublishedVersion {
    return this.versions[this.versions.length - 1];
  }

  version(n: number): PublishedVersion {
    return this.versions[n];
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const controller = { abort: () => undefined, pause: () => undefined, resume: () => undefined, paused: false, aborted: false, reason: null } as unknown as Dispatcher.DispatchController;
    this.counters.requests += 1;
    const date = new Date(Date.now()).toUTCString();
    let status = 200;
    let headers: Record<string, string>;
    let body: Buffer;
    if (options.path === this.indexPath) {
      const current = this.current();
      this.counters.indexRequests += 1;
      body = Buffer.alloc(current.indexBytes);
      headers = { 'content-type': INDEX_TXT_CONTENT_TYPE, 'cache-control': INDEX_CACHE_CONTROL, etag: `"v${current.version}"`, 'last-modified': new Date(current.publishedAtInMs).toUTCString() };
    } else if (this.fileIndex.has(options.path)) {
      const seq = this.fileIndex.get(options.path) as number;
      this.counters.fileRequests += 1;
      body = this.fileBody(seq);
      headers = { 'content-type': EXPORT_CONTENT_TYPE, 'cache-control': EXPORT_CACHE_CONTROL, etag: `"f${seq}"`, 'last-modified': new Date(this.filePublishedAt(seq)).toUTCString() };
    } else {
      status = 404;
      body = Buffer.from('<?xml version="1.0"?><Error><Code>BlobNotFound</Code></Error>');
      headers = { 'content-type': 'application/xml' };
    }
    headers = { ...headers, date, 'content-length': String(body.length) };
    this.counters.bytes += body.length;
    handler.onRequestStart?.(controller, {});
    handler.onResponseStart?.(controller, status, headers, status === 200 ? 'OK' : 'Not Found');
    handler.onResponseData?.(controller, body);
    handler.onResponseEnd?.(controller, {});
    return true;
  }

  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}
