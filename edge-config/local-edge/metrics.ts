/**
 * Counters of the local edge, per route, served as JSON by the admin server (`GET /metrics`) for
 * tests, the fleet simulation and the benchmark: how many requests the edge answered itself and
 * how many reached an origin.
 */

export type XCache = 'TCP_HIT' | 'TCP_MISS' | 'PRIVATE_NOSTORE' | 'CONFIG_NOCACHE';

export interface RouteCounters {
  requests: number;
  /** Answered from the cache (`TCP_HIT`). */
  hits: number;
  /** Not in the cache or stale (`TCP_MISS`). */
  misses: number;
  /** Requests that waited for another request's cache fill instead of going to the origin (request collapsing). */
  collapsed: number;
  /** The origin said private, no-store, no-cache or Set-Cookie (`PRIVATE_NOSTORE`). */
  uncacheable: number;
  /** Routes without caching (`CONFIG_NOCACHE`). */
  notCached: number;
  /** Conditional requests answered 304 by the edge. */
  notModified: number;
  /** Requests sent to an origin (a failover counts twice). */
  originRequests: number;
  /** Requests retried on the next origin after a connection failure. */
  failovers: number;
  /** Requests that got no origin answer at all (the client got 502). */
  originFailures: number;
  /** Refused by the WAF. */
  wafBlocked: number;
  /** Clients that closed the connection before their answer was complete. */
  clientDisconnects: number;
  /** Responses by status class. */
  status: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>;
}

function emptyCounters(): RouteCounters {
  return { requests: 0, hits: 0, misses: 0, collapsed: 0, uncacheable: 0, notCached: 0, notModified: 0, originRequests: 0, failovers: 0, originFailures: 0, wafBlocked: 0, clientDisconnects: 0, status: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 } };
}

/** Route name for requests no route matched. */
export const NO_ROUTE = '(none)';

export class EdgeMetrics {
  private readonly routes = new Map<string, RouteCounters>();
  purges = 0;
  purgedEntries = 0;

  constructor(routeNames: readonly string[]) {
    for (const name of [...routeNames, NO_ROUTE]) this.routes.set(name, emptyCounters());
  }

  route(name: string): RouteCounters {
    let counters = this.routes.get(name);
    if (!counters) {
      counters = emptyCounters();
      this.routes.set(name, counters);
    }
    return counters;
  }

  recordCache(route: string, xCache: XCache, collapsed: boolean): void {
    const counters = this.route(route);
    if (xCache === 'TCP_HIT') counters.hits += 1;
    else if (xCache === 'TCP_MISS') counters.misses += 1;
    else if (xCache === 'PRIVATE_NOSTORE') counters.uncacheable += 1;
    else counters.notCached += 1;
    if (collapsed) counters.collapsed += 1;
  }

  recordStatus(route: string, statusCode: number): void {
    const key = `${Math.min(5, Math.max(1, Math.floor(statusCode / 100)))}xx` as keyof RouteCounters['status'];
    this.route(route).status[key] += 1;
  }

  snapshot(): Record<string, RouteCounters> {
    return Object.fromEntries([...this.routes].map(([name, counters]) => [name, { ...counters, status: { ...counters.status } }]));
  }
}
