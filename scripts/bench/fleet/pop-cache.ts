/**
 * One Front Door POP of the simulation: the local edge's own cache code (EdgeCacheStore, the
 * cache-fill tap with Front Door's default lifetime, undici's RFC 9111 cache interceptor) composed
 * over the simulated origin exactly as `edge-config/local-edge/server.ts` composes it over the
 * real origins, and the edge's `notModified` for conditional requests.
 */
import { interceptors, type Dispatcher } from 'undici';
import { cacheFillInterceptor, EdgeCacheStore, EPOCH_HEADER, notModified } from '../../../edge-config/local-edge/cache';
import type { EdgeDispatch } from '../../../edge-config/local-edge/origin-groups';
import { MAX_EXPORT_FILE_BYTES } from '../../../proto/tek';
import type { SimOrigin } from './sim-origin';

export interface EdgeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  /** The cache had no fresh answer: the request went to the origin. */
  miss: boolean;
}

export class PopCache {
  readonly store: EdgeCacheStore;
  private readonly dispatcher: Dispatcher;

  constructor(origin: SimOrigin, cacheMaxBytes = 256 * 1024 * 1024) {
    this.store = new EdgeCacheStore({ maxSize: cacheMaxBytes, maxEntrySize: MAX_EXPORT_FILE_BYTES + 1 });
    this.dispatcher = origin.compose(cacheFillInterceptor(), interceptors.cache({ store: this.store, methods: ['GET'], type: 'shared' }));
  }

  /** A GET of `path` as the edge sends it to its cache (client headers are not passed on). */
  get(path: string): Promise<EdgeAnswer> {
    const edge = { trace: { miss: false, collapsed: false, originRequests: 0, failovers: 0 } } as unknown as EdgeDispatch;
    return new Promise((resolve, reject) => {
      let status = 0;
      let headers: EdgeAnswer['headers'] = {};
      let bodyBytes = 0;
      // onRequestStart marks the handler as undici 7's interface (without it, undici takes it for the legacy one).
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode, responseHeaders) => {
          status = statusCode;
          headers = responseHeaders as EdgeAnswer['headers'];
        },
        onResponseData: (_controller, chunk) => {
          bodyBytes += chunk.length;
        },
        onResponseEnd: () => resolve({ status, headers, bodyBytes, miss: edge.trace.miss }),
        onResponseError: (_controller, error) => reject(error),
      };
      const options = { origin: 'http://exports.sim', path, method: 'GET', headers: { [EPOCH_HEADER]: String(this.store.currentEpoch()) }, edge } as Dispatcher.DispatchOptions;
      this.dispatcher.dispatch(options, handler);
    });
  }

  /** Whether the edge answers a client holding `etag` with 304 (the edge's own rule). */
  static notModified(etag: string, answer: EdgeAnswer): boolean {
    return notModified({ 'if-none-match': etag }, answer.status, answer.headers);
  }

  purge(paths: readonly string[]): number {
    return this.store.purge(paths);
  }
}
