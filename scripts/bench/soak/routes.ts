/**
 * What the soak's phones see, request by request: each request through the edge is timed (to its
 * answer's headers) under its route, and every answer that is neither a success nor expected (a
 * `304` to a conditional index read) is an error, as is a request that got no answer at all.
 */

export type PhoneFetch = (input: string, init?: RequestInit) => Promise<Response>;

export const ROUTES = ['POST /api/v1/register', 'POST /api/v1/publish', 'POST /api/v1/publish (chaff)', 'GET /v1/{region}/index.txt', 'GET /v1/{region}/*.zip', 'other'] as const;
export type RouteName = (typeof ROUTES)[number];

function headerOf(init: RequestInit | undefined, name: string): string | null {
  return init?.headers === undefined ? null : new Headers(init.headers).get(name);
}

/** The route of a request to the edge, by method and path (and `X-Chaff`). */
export function routeOf(input: string, init?: RequestInit): RouteName {
  const method = (init?.method ?? 'GET').toUpperCase();
  const path = new URL(input).pathname;
  if (method === 'POST' && path === '/api/v1/register') return 'POST /api/v1/register';
  if (method === 'POST' && path === '/api/v1/publish') return headerOf(init, 'x-chaff') === null ? 'POST /api/v1/publish' : 'POST /api/v1/publish (chaff)';
  if (method === 'GET' && /^\/v1\/[^/]+\/index\.txt$/.test(path)) return 'GET /v1/{region}/index.txt';
  if (method === 'GET' && /^\/v1\/[^/]+\/[^/]+\.zip$/.test(path)) return 'GET /v1/{region}/*.zip';
  return 'other';
}

/** The q-quantile (0..1) of values, nearest rank; `null` when there are none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values: readonly number[]): number | null {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export interface RouteError {
  /** Seconds since the soak began. */
  at: number;
  route: RouteName;
  /** 0: no answer (a network failure). */
  status: number;
  message?: string;
}

export interface RouteFigures {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Per-minute (or per-bucket) p50 and p99 of a route, for the plot. */
export interface LatencyPoint {
  /** Bucket start, seconds since the soak began. */
  at: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

export class RouteRecorder {
  private readonly samples = new Map<RouteName, { at: number[]; ms: number[] }>();
  readonly errors: RouteError[] = [];
  private readonly errorCounts = new Map<string, number>();

  /** `clock()`: ms, the same clock as `startedAt`. */
  constructor(
    private readonly startedAt: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** `fetch`, timed and judged. */
  wrap(fetch: PhoneFetch): PhoneFetch {
    return async (input, init) => {
      const route = routeOf(input, init);
      const started = this.clock();
      try {
        const response = await fetch(input, init);
        this.record(route, started, response.status);
        return response;
      } catch (error) {
        this.record(route, started, 0, (error as Error).message);
        throw error;
      }
    };
  }

  record(route: RouteName, started: number, status: number, message?: string): void {
    const samples = this.samples.get(route) ?? { at: [], ms: [] };
    this.samples.set(route, samples);
    const at = (started - this.startedAt) / 1000;
    samples.at.push(at);
    samples.ms.push(this.clock() - started);
    const expected = (status >= 200 && status < 300) || (status === 304 && route === 'GET /v1/{region}/index.txt');
    if (!expected) {
      const key = `${route} ${status}`;
      this.errorCounts.set(key, (this.errorCounts.get(key) ?? 0) + 1);
      // The first few of each kind, for the report.
      if ((this.errorCounts.get(key) ?? 0) <= 5) this.errors.push({ at, route, status, ...(message ? { message } : {}) });
    }
  }

  /** Errors by `route status`. */
  get errorsByKind(): Record<string, number> {
    return Object.fromEntries(this.errorCounts);
  }

  get errorCount(): number {
    let total = 0;
    for (const count of this.errorCounts.values()) total += count;
    return total;
  }

  /** Figures of each route with requests, from `from` seconds on (default: all). */
  figures(from = 0): Partial<Record<RouteName, RouteFigures>> {
    const out: Partial<Record<RouteName, RouteFigures>> = {};
    for (const route of ROUTES) {
      const samples = this.samples.get(route);
      if (!samples) continue;
      const ms = samples.ms.filter((_, i) => samples.at[i] >= from).sort((a, b) => a - b);
      const errors = [...this.errorCounts].filter(([key]) => key.startsWith(`${route} `)).reduce((sum, [, count]) => sum + count, 0);
      out[route] = { requests: ms.length, errors, p50Ms: round(quantile(ms, 0.5)), p99Ms: round(quantile(ms, 0.99)), maxMs: round(ms.at(-1) ?? null) };
    }
    return out;
  }

  /** p50 and p99 of each route per `bucketSeconds`, for the plot. */
  series(bucketSeconds: number): Partial<Record<RouteName, LatencyPoint[]>> {
    const out: Partial<Record<RouteName, LatencyPoint[]>> = {};
    for (const [route, samples] of this.samples) {
      const buckets = new Map<number, number[]>();
      samples.at.forEach((at, i) => {
        const bucket = Math.floor(at / bucketSeconds);
        const values = buckets.get(bucket) ?? [];
        values.push(samples.ms[i]);
        buckets.set(bucket, values);
      });
      out[route] = [...buckets.entries()]
        .sort(([a], [b]) => a - b)
        .map(([bucket, ms]) => {
          const sorted = ms.sort((a, b) => a - b);
          return { at: bucket * bucketSeconds, p50Ms: round(quantile(sorted, 0.5))!, p99Ms: round(quantile(sorted, 0.99))!, requests: sorted.length };
        });
    }
    return out;
  }
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}
