/**
 * Origin groups of the local edge, as Front Door runs them: health probes on an interval, an
 * origin healthy while enough of its last `sampleSize` probes succeeded (HTTP 200), traffic to
 * the healthy origins of the lowest priority number (shared by weight), and every origin tried in
 * priority order when none is healthy. On top of Front Door's probes, a connection failure marks
 * the origin down at once and the request is retried once on the next origin, so stopping the
 * primary costs clients no failed request.
 */
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../../platform/log';
import type { OriginDeclaration, OriginGroupDeclaration } from '../declaration';

export interface OriginRuntime {
  readonly name: string;
  /** The origin for undici: scheme, host and port. */
  readonly origin: string;
  /** The origin URL's path (Azurite's account), prefixed to every request path. */
  readonly basePath: string;
  readonly hostHeader?: string;
  readonly priority: number;
  readonly weight: number;
  readonly enabled: boolean;
}

export interface OriginHealth {
  name: string;
  priority: number;
  enabled: boolean;
  healthy: boolean;
  /** Probe results, oldest first. */
  samples: boolean[];
  /** Requests the edge sent to this origin, and those that got no answer. */
  requests: number;
  failures: number;
}

export interface OriginGroupOptions {
  /** Where probes go (the edge's own agent, without interceptors). */
  dispatcher: Dispatcher;
  /** `X-Azure-FDID` on probes, as Front Door sends it (the API's gate admits probes too). */
  frontDoorId: string;
  logger: Logger;
  /** Overrides the declared probe interval (tests, the local stack). */
  probeIntervalInMs?: number;
  random?: () => number;
}

export function originRuntime(origin: OriginDeclaration): OriginRuntime {
  const url = new URL(origin.url);
  return {
    name: origin.name,
    origin: url.origin,
    basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
    hostHeader: origin.hostHeader,
    priority: origin.priority,
    weight: origin.weight,
    enabled: origin.enabled,
  };
}

export class OriginGroupRuntime {
  readonly name: string;
  readonly origins: OriginRuntime[];
  private readonly samples = new Map<string, boolean[]>();
  private readonly healthy = new Map<string, boolean>();
  private readonly counts = new Map<string, { requests: number; failures: number }>();
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly declaration: OriginGroupDeclaration,
    private readonly options: OriginGroupOptions,
  ) {
    this.name = declaration.name;
    this.origins = declaration.origins.map(originRuntime);
    this.random = options.random ?? Math.random;
    for (const origin of this.origins) {
      this.samples.set(origin.name, []);
      this.healthy.set(origin.name, true);
      this.counts.set(origin.name, { requests: 0, failures: 0 });
    }
  }

  noteRequest(origin: OriginRuntime): void {
    (this.counts.get(origin.name) as { requests: number }).requests += 1;
  }

  /** Healthy origins by priority (weighted order within one priority), then the unhealthy ones: fail open. */
  candidates(): OriginRuntime[] {
    const enabled = this.origins.filter((origin) => origin.enabled);
    const order = (list: OriginRuntime[]) => {
      const byPriority = new Map<number, OriginRuntime[]>();
      for (const origin of list) byPriority.set(origin.priority, [...(byPriority.get(origin.priority) ?? []), origin]);
      return [...byPriority.keys()].sort((a, b) => a - b).flatMap((priority) => this.weightedOrder(byPriority.get(priority) ?? []));
    };
    return [...order(enabled.filter((o) => this.healthy.get(o.name))), ...order(enabled.filter((o) => !this.healthy.get(o.name)))];
  }

  private weightedOrder(list: OriginRuntime[]): OriginRuntime[] {
    const pool = [...list];
    const out: OriginRuntime[] = [];
    while (pool.length > 0) {
      const total = pool.reduce((sum, origin) => sum + origin.weight, 0);
      let pick = this.random() * total;
      const index = pool.findIndex((origin) => (pick -= origin.weight) < 0);
      out.push(...pool.splice(index === -1 ? pool.length - 1 : index, 1));
    }
    return out;
  }

  /** A request to the origin failed before any answer: down until probes see it healthy again. */
  markFailed(origin: OriginRuntime, reason: string): void {
    (this.counts.get(origin.name) as { failures: number }).failures += 1;
    const { sampleSize } = this.declaration.loadBalancing;
    this.samples.set(origin.name, Array.from({ length: sampleSize }, () => false));
    this.setHealthy(origin, false, reason);
  }

  private record(origin: OriginRuntime, ok: boolean, reason: string): void {
    const { sampleSize, successfulSamplesRequired } = this.declaration.loadBalancing;
    const samples = [...(this.samples.get(origin.name) ?? []), ok].slice(-sampleSize);
    this.samples.set(origin.name, samples);
    // Slots not yet probed count as successes: an origin starts healthy, as in Front Door.
    const successes = samples.filter(Boolean).length + (sampleSize - samples.length);
    this.setHealthy(origin, successes >= successfulSamplesRequired, reason);
  }

  private setHealthy(origin: OriginRuntime, healthy: boolean, reason: string): void {
    if (this.healthy.get(origin.name) === healthy) return;
    this.healthy.set(origin.name, healthy);
    this.options.logger.info(healthy ? 'origin healthy' : 'origin unhealthy', { originGroup: this.name, origin: origin.name, reason });
  }

  health(): OriginHealth[] {
    return this.origins.map((origin) => ({
      name: origin.name,
      priority: origin.priority,
      enabled: origin.enabled,
      healthy: this.healthy.get(origin.name) ?? false,
      samples: [...(this.samples.get(origin.name) ?? [])],
      ...(this.counts.get(origin.name) as { requests: number; failures: number }),
    }));
  }

  /** Probes every enabled origin once. */
  probe(): Promise<void> {
    const probe = this.declaration.healthProbe;
    if (!probe) return Promise.resolve();
    this.probing ??= Promise.all(
      this.origins
        .filter((origin) => origin.enabled)
        .map(async (origin) => {
          const intervalInMs = this.options.probeIntervalInMs ?? probe.intervalInSeconds * 1000;
          try {
            const response = await request(`${origin.origin}${origin.basePath}${probe.path}`, {
              method: probe.method,
              headers: { ...(origin.hostHeader ? { host: origin.hostHeader } : {}), 'x-azure-fdid': this.options.frontDoorId, 'x-fd-healthprobe': '1' },
              dispatcher: this.options.dispatcher,
              signal: AbortSignal.timeout(Math.max(250, Math.min(intervalInMs, 10_000))),
            });
            await response.body.dump();
            this.record(origin, response.statusCode === 200, `probe answered ${response.statusCode}`);
          } catch (error) {
            this.record(origin, false, `probe failed: ${(error as { code?: string }).code ?? (error as Error).name}`);
          }
        }),
    ).then(
      () => {
        this.probing = undefined;
      },
      () => {
        this.probing = undefined;
      },
    );
    return this.probing;
  }

  start(): void {
    const probe = this.declaration.healthProbe;
    if (!probe || this.timer) return;
    const intervalInMs = this.options.probeIntervalInMs ?? probe.intervalInSeconds * 1000;
    this.timer = setInterval(() => void this.probe(), intervalInMs);
    this.timer.unref();
    void this.probe();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.probing;
  }
}

/** What the edge attaches to a dispatch (as `opts.edge`) for the interceptors below the cache. */
export interface EdgeDispatch {
  route: string;
  group: OriginGroupRuntime;
  /** The route's origin path (`/exports`), prefixed to the request path. */
  originPath: string;
  /** A query kept out of the cache key but still sent to the origin (`IgnoreQueryString`), as Front Door does. */
  originQuery: string;
  /** The path a URL rewrite sends to the origin instead of the request's (which stays the cache key). */
  rewrittenPath?: string;
  trace: EdgeTrace;
}

export interface EdgeTrace {
  /** The cache had no fresh answer (set by the cache's miss tap). */
  miss: boolean;
  /** The request waited for another request's cache fill. */
  collapsed: boolean;
  originRequests: number;
  failovers: number;
}

export interface OriginEvents {
  onOriginRequest(route: string, origin: OriginRuntime): void;
  onFailover(route: string, from: OriginRuntime, error: Error): void;
}

/** Headers the edge uses between its own layers (`x-keyfront-edge-*`); never sent to an origin. */
export const INTERNAL_HEADER_PREFIX = 'x-keyfront-edge-';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_ATTEMPTS = 2;

/** Forwards to the handler below, except a failure before any response, which it offers for a retry. */
class FailoverHandler implements Dispatcher.DispatchHandler {
  private answered = false;
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly retry: (error: Error) => boolean,
  ) {}
  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }
  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, socket: import('node:stream').Duplex): void {
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    this.answered = true;
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }
  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.inner.onResponseEnd?.(controller, trailers);
  }
  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.answered && this.retry(error)) return;
    this.inner.onResponseError?.(controller, error);
  }
}

/**
 * The innermost interceptor: picks the origin for a dispatch that carries `opts.edge`, rewrites
 * origin, path and Host, and fails over once to the next candidate when the origin cannot be reached.
 */
export function originGroupInterceptor(events: OriginEvents): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const edge = (opts as { edge?: EdgeDispatch }).edge;
    if (!edge) return dispatch(opts, handler);
    const candidates = edge.group.candidates().slice(0, MAX_ATTEMPTS);
    const method = (opts.method ?? 'GET').toUpperCase();
    const attempt = (index: number): boolean => {
      const origin = candidates[index];
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(opts.headers as Record<string, string | string[]>)) if (!name.startsWith(INTERNAL_HEADER_PREFIX)) headers[name] = value;
      if (origin.hostHeader) headers.host = origin.hostHeader;
      else delete headers.host;
      edge.trace.originRequests += 1;
      edge.group.noteRequest(origin);
      events.onOriginRequest(edge.route, origin);
      return dispatch(
        { ...opts, origin: origin.origin, path: `${origin.basePath}${edge.originPath}${edge.rewrittenPath ?? opts.path}${edge.originQuery}`, headers },
        new FailoverHandler(handler, (error) => {
          const code = (error as { code?: string }).code ?? '';
          // The client went away: nothing is wrong with the origin.
          if (code === 'UND_ERR_ABORTED' || error.name === 'AbortError') return false;
          const unsent = CONNECT_ERRORS.has(code);
          if (unsent || IDEMPOTENT.has(method)) edge.group.markFailed(origin, `request failed: ${code || error.name}`);
          if (index + 1 >= candidates.length || !(unsent || IDEMPOTENT.has(method))) return false;
          edge.trace.failovers += 1;
          events.onFailover(edge.route, origin, error);
          attempt(index + 1);
          return true;
        }),
      );
    };
    return attempt(0);
  };
}
