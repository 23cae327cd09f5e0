/**
 * One cache node of a simulated Front Door edge site, built from an edge declaration the way the
 * local edge (`edge-config/local-edge/server.ts`) builds itself: the route by Front Door's matching,
 * the route's rule sets, caching only where the route declares it (otherwise every request goes
 * to the origin, conditional headers and all), and on cached routes the local edge's own cache
 * code: `EdgeCacheStore` with Front Door's purge semantics, the cache-fill tap with Front Door's
 * default lifetime and undici's RFC 9111 shared cache, over the declared origin group (its origin
 * choice and failover) and the simulated exports origin; `notModified` answers conditional GETs.
 */
import { interceptors, type Dispatcher } from 'undici';
import type { EdgeDeclaration, RouteDeclaration, RuleSetDeclaration } from '../../../edge-config/declaration';
import { cacheFillInterceptor, EdgeCacheStore, EPOCH_HEADER, notModified, restoreOriginHeaders } from '../../../edge-config/local-edge/cache';
import { originGroupInterceptor, OriginGroupRuntime, type EdgeDispatch } from '../../../edge-config/local-edge/origin-groups';
import { matchRoute } from '../../../edge-config/local-edge/routes';
import { applyHeaderEdits, evaluateRuleSets } from '../../../edge-config/local-edge/rules';
import { silentLogger } from '../../../platform/log';
import { MAX_EXPORT_FILE_BYTES } from '../../../proto/tek';
import type { SimOrigin } from './sim-origin';

type Headers = Record<string, string | string[] | undefined>;

export interface EdgeAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The request reached the origin (a cache miss, or a route without caching). */
  originRequest: boolean;
  /** The route caches (false: every request is an origin request). */
  cached: boolean;
  /** Front Door would compress this body for a client that accepts it (the route's content types). */
  compressible: boolean;
}

/** The declared origin groups, without probes: the simulation counts probes from the declaration instead of sending them. */
export function originGroupsOf(declaration: EdgeDeclaration): Map<string, OriginGroupRuntime> {
  return new Map(declaration.originGroups.map((group) => [group.name, new OriginGroupRuntime(group, { dispatcher: undefined as unknown as Dispatcher, frontDoorId: '', logger: silentLogger })]));
}

function contentTypeOf(headers: Headers): string {
  const value = headers['content-type'];
  return (Array.isArray(value) ? value[0] : (value ?? '')).split(';')[0].trim().toLowerCase();
}

export class EdgeNode {
  readonly store: EdgeCacheStore;
  private readonly cachingDispatcher: Dispatcher;
  private readonly directDispatcher: Dispatcher;
  private readonly ruleSets: Map<string, RuleSetDeclaration>;

  constructor(
    private readonly declaration: EdgeDeclaration,
    private readonly groups: Map<string, OriginGroupRuntime>,
    origin: SimOrigin,
    cacheMaxBytes: number,
  ) {
    this.store = new EdgeCacheStore({ maxSize: cacheMaxBytes, maxEntrySize: MAX_EXPORT_FILE_BYTES + 1 });
    const toOrigin = originGroupInterceptor({ onOriginRequest: () => undefined, onFailover: () => undefined });
    // Innermost first, as server.ts composes them: origin choice, the miss tap, then the cache.
    this.cachingDispatcher = origin.compose(toOrigin, cacheFillInterceptor(), interceptors.cache({ store: this.store, methods: ['GET'], type: 'shared' }));
    this.directDispatcher = origin.compose(toOrigin);
    this.ruleSets = new Map(declaration.ruleSets.map((ruleSet) => [ruleSet.name, ruleSet]));
  }

  /**
   * A phone's GET of `path` with its request headers (lower-case), as the edge's cache (or, on a
   * route without caching, the origin) answers it; on a cached route the edge then answers a
   * conditional GET itself (`notModifiedFor`).
   */
  get(path: string, clientHeaders: Headers): Promise<EdgeAnswer> {
    const route = matchRoute(this.declaration.routes, path);
    if (!route) return Promise.resolve({ status: 404, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"code":"route_not_found"}'), originRequest: false, cached: false, compressible: false });
    const rules = evaluateRuleSets(
      route.ruleSets.map((name) => this.ruleSets.get(name)).filter((ruleSet): ruleSet is RuleSetDeclaration => ruleSet !== undefined),
      { method: 'GET', path, headers: clientHeaders },
    );
    const cached = route.cache !== undefined;
    // On a cached route the edge answers conditional requests itself; otherwise they go on to the origin.
    const headers: Headers = cached ? {} : Object.fromEntries(Object.entries(clientHeaders).filter(([name]) => name === 'if-none-match' || name === 'if-modified-since'));
    applyHeaderEdits(headers, rules.requestHeaders);
    if (cached) headers[EPOCH_HEADER] = String(this.store.currentEpoch());
    const edge: EdgeDispatch = { route: route.name, group: this.groups.get(route.originGroup) as OriginGroupRuntime, originPath: route.originPath ?? '', originQuery: '', trace: { miss: false, collapsed: false, originRequests: 0, failovers: 0 } };
    const options = { origin: `http://${route.name.toLowerCase()}.route.edge.invalid`, path, method: 'GET', headers, edge } as Dispatcher.DispatchOptions;
    return new Promise((resolve, reject) => {
      let status = 0;
      let responseHeaders: Headers = {};
      const chunks: Buffer[] = [];
      // onRequestStart marks the handler as undici 7's interface (without it, undici takes it for the legacy one).
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode, originHeaders) => {
          status = statusCode;
          responseHeaders = { ...(originHeaders as Headers) };
        },
        onResponseData: (_controller, chunk) => void chunks.push(chunk),
        onResponseEnd: () => resolve(this.answer(route, cached, status, responseHeaders, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), edge, rules.responseHeaders)),
        onResponseError: (_controller, error) => reject(error),
      };
      (cached ? this.cachingDispatcher : this.directDispatcher).dispatch(options, handler);
    });
  }

  private answer(route: RouteDeclaration, cached: boolean, status: number, headers: Headers, body: Buffer, edge: EdgeDispatch, edits: ReturnType<typeof evaluateRuleSets>['responseHeaders']): EdgeAnswer {
    restoreOriginHeaders(headers);
    applyHeaderEdits(headers, edits);
    const originRequest = !cached || edge.trace.originRequests > 0;
    const compressible = status === 200 && (route.cache?.compressContentTypes ?? []).includes(contentTypeOf(headers));
    return { status, headers, body, originRequest, cached, compressible };
  }

  /** Whether the edge answers a client's conditional GET of a cached route with 304 (the local edge's own rule). */
  static notModifiedFor(answer: EdgeAnswer, clientHeaders: Headers): boolean {
    return answer.cached && notModified(clientHeaders, answer.status, answer.headers);
  }

  purge(contentPaths: readonly string[]): number {
    return this.store.purge(contentPaths);
  }
}
