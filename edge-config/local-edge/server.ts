/**
 * The local edge: the stand-in for Azure Front Door in development and tests, the way Azurite
 * stands in for Storage. It serves the same `EdgeDeclaration` that compiles to ARM: the WAF
 * (custom rules and rate limits), routes, rule sets, origin groups with probes and failover, and
 * the cache (see `cache.ts`). Clients talk to one port; purge and metrics live on a separate
 * loopback-only admin port (`admin.ts`), as purge is a control-plane operation in Azure too.
 *
 * Plain HTTP on loopback stands in for Front Door's TLS: routes that accept HTTPS only are served
 * here as if the local listener were the HTTPS one. Compression and managed WAF rules are Azure's
 * and not emulated.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, interceptors, type Dispatcher } from 'undici';
import { silentLogger, type Logger } from '../../platform/log';
import { MAX_EXPORT_FILE_BYTES } from '../../proto/tek';
import type { EdgeDeclaration, RouteDeclaration, RuleSetDeclaration } from '../declaration';
import { startAdminServer, type AdminServer } from './admin';
import { readBody, sendJson } from './http';
import { cacheFillInterceptor, EdgeCacheStore, EPOCH_HEADER, notModified, refusesSharedCaching, restoreOriginHeaders } from './cache';
import { FillCollapser } from './collapse';
import { EdgeMetrics, NO_ROUTE, type RouteCounters, type XCache } from './metrics';
import { INTERNAL_HEADER_PREFIX, originGroupInterceptor, OriginGroupRuntime, type EdgeDispatch, type EdgeTrace, type OriginHealth } from './origin-groups';
import { matchedPrefix, matchRoute } from './routes';
import { applyHeaderEdits, evaluateRuleSets, rewritePath, type HeaderEdit } from './rules';
import { WafEngine } from './waf';

export interface LocalEdgeOptions {
  /** Where clients connect; loopback by default. */
  host?: string;
  /** Client port; 0 (the default) picks a free one. */
  port?: number;
  /** Admin port (purge, metrics), always on loopback; 0 (the default) picks a free one. */
  adminPort?: number;
  /** The `X-Azure-FDID` the edge sets on every origin request. */
  frontDoorId: string;
  /** Overrides every origin group's declared probe interval. */
  probeIntervalInMs?: number;
  /** Bytes of response bodies the cache keeps; 256 MiB by default. */
  cacheMaxBytes?: number;
  /** Largest request body forwarded to an origin; 1 MiB by default. */
  maxRequestBodyBytes?: number;
  /** Front Door's lifetime for answers without freshness information (1-3 days at random by default). */
  defaultLifetimeInSeconds?: () => number;
  logger?: Logger;
}

export interface LocalEdgeMetrics {
  routes: Record<string, RouteCounters>;
  cache: { entries: number; bytes: number; purges: number; purgedEntries: number };
  originGroups: Record<string, OriginHealth[]>;
}

export interface LocalEdge {
  /** `http://host:port`: the URL phones use. */
  url: string;
  /** `http://127.0.0.1:adminPort`: purge and metrics. */
  adminUrl: string;
  metrics(): LocalEdgeMetrics;
  /** Front Door purge semantics; returns how many cache entries were dropped. */
  purge(contentPaths: readonly string[]): number;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Headers a 304 carries over from the response it stands for (RFC 9110 §15.4.5), besides the edge's own. */
const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age'];

type HeaderRecord = Record<string, string | string[] | undefined>;

/** A Host header value: a name or address, IPv6 in brackets, with an optional port; no "/", "@", "?", "#" or spaces. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

/**
 * The request target as a URL of its path and query, or `undefined` unless it is a path (origin
 * form): `//host/...` and `/\host/...` would parse as another authority with a path that routes.
 */
function pathTarget(rawUrl: string): URL | undefined {
  if (!/^\/(?![/\\])/.test(rawUrl)) return undefined;
  try {
    return new URL(rawUrl, 'http://edge.invalid');
  } catch {
    return undefined;
  }
}

/** A Front Door-like request reference: a UTC timestamp and random characters. */
function azureRef(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

function socketAddressOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Headers Front Door sends to an origin about the client, replacing any a client sent itself. */
function edgeRequestHeaders(req: IncomingMessage, ref: string, frontDoorId: string, host: string): HeaderRecord {
  const socket = socketAddressOf(req);
  const supplied = req.headers['x-forwarded-for'];
  const forwarded = Array.isArray(supplied) ? supplied.join(', ') : supplied;
  const firstForwarded = forwarded?.split(',')[0]?.trim();
  return {
    'x-azure-fdid': frontDoorId,
    'x-azure-ref': ref,
    'x-azure-socketip': socket,
    'x-azure-clientip': firstForwarded || socket,
    'x-forwarded-for': forwarded ? `${forwarded}, ${socket}` : socket,
    'x-forwarded-host': host,
    'x-forwarded-proto': 'https',
  };
}

/**
 * What a cached route's edge answers itself and never passes on: conditional and cache directives
 * and ranges (the cache answers them; Front Door reserves these headers and fetches ranges in
 * chunks of its own; this edge answers a range with the whole file, as HTTP allows) and the
 * framing of a body it does not forward on a read.
 */
const ANSWERED_BY_CACHE = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'range', 'if-range', 'cache-control', 'pragma', 'content-length', 'expect']);

/**
 * The client's own headers that go on to the origin, as Front Door passes them: no hop-by-hop, no
 * spoofed edge headers; on cached routes also none of `ANSWERED_BY_CACHE`. Whatever else a client
 * sends reaches the origin unless a rule set of the route deletes it (see BLOB_REQUEST_HEADERS).
 */
function clientHeaders(req: IncomingMessage, cached: boolean): HeaderRecord {
  const out: HeaderRecord = {};
  const connectionTokens = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((token) => token.trim()));
  for (const [name, value] of Object.entries(req.headers)) {
    if (HOP_BY_HOP.has(name) || connectionTokens.has(name) || name === 'host' || name === 'x-forwarded-for' || name.startsWith('x-azure-') || name.startsWith('x-fd-') || name.startsWith(INTERNAL_HEADER_PREFIX)) continue;
    if (cached && ANSWERED_BY_CACHE.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function responseHeaders(headers: HeaderRecord): HeaderRecord {
  const out: HeaderRecord = {};
  const connectionTokens = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((token) => token.trim()));
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !connectionTokens.has(lower) && value !== undefined) out[lower] = value;
  }
  return out;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  route: RouteDeclaration;
  ref: string;
  cached: boolean;
  trace: EdgeTrace;
  responseEdits: HeaderEdit[];
  /** Called once, when the answer is complete or failed; `cacheable` when it was a complete 200 the cache may keep. */
  onFinished(cacheable: boolean): void;
}

/** Streams the answer from the dispatcher chain to the client; answers conditional requests of cached routes with 304. */
class ClientResponseHandler implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private discard = false;
  private finished = false;
  private answered = false;
  private cacheable = false;

  constructor(
    private readonly exchange: Exchange,
    private readonly metrics: EdgeMetrics,
  ) {
    // An answer sent in full (a 304 while the origin's body still flows into the cache) is no early leave.
    exchange.res.once('close', () => {
      if (this.finished || exchange.res.writableFinished) return;
      metrics.route(exchange.route.name).clientDisconnects += 1;
      this.clientLeft();
    });
  }

  /**
   * A client that leaves early stops its transfer, unless it is a cache fill: other clients may be
   * waiting for that. Once the answer is one the cache will not keep, nobody needs the rest.
   */
  private clientLeft(): void {
    if (this.exchange.trace.miss && (!this.answered || this.cacheable)) {
      this.discard = true;
      this.controller?.resume();
      return;
    }
    this.controller?.abort(new Error('client closed the connection'));
  }

  private xCache(statusCode: number, headers: HeaderRecord): XCache {
    const { cached, trace, req } = this.exchange;
    if (!cached) return 'CONFIG_NOCACHE';
    if (req.method !== 'GET') return 'TCP_MISS';
    if (!trace.miss) return 'TCP_HIT';
    return statusCode === 200 && refusesSharedCaching(headers) ? 'PRIVATE_NOSTORE' : 'TCP_MISS';
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.exchange.res.destroyed) this.clientLeft();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, originHeaders: HeaderRecord): void {
    this.controller = controller;
    const { req, res, route, ref, trace, responseEdits, cached } = this.exchange;
    const xCache = this.xCache(statusCode, originHeaders);
    this.metrics.recordCache(route.name, xCache, trace.collapsed);
    this.answered = true;
    this.cacheable = xCache === 'TCP_MISS' && statusCode === 200 && req.method === 'GET';
    if (res.destroyed) {
      this.discard = true;
      this.clientLeft();
      return;
    }
    const headers = responseHeaders(originHeaders);
    restoreOriginHeaders(headers);
    applyHeaderEdits(headers, responseEdits);
    headers['x-cache'] = xCache;
    headers['x-azure-ref'] = ref;
    if (cached && notModified(req.headers, statusCode, headers)) {
      this.discard = true;
      const kept: HeaderRecord = {};
      for (const name of [...NOT_MODIFIED_HEADERS, ...responseEdits.map((edit) => edit.header), 'x-cache', 'x-azure-ref']) if (headers[name] !== undefined) kept[name] = headers[name];
      this.metrics.route(route.name).notModified += 1;
      this.metrics.recordStatus(route.name, 304);
      res.writeHead(304, kept as Record<string, string | string[]>);
      res.end();
      return;
    }
    this.metrics.recordStatus(route.name, statusCode);
    if (req.method === 'HEAD') this.discard = true;
    res.writeHead(statusCode, headers as Record<string, string | string[]>);
    if (this.discard) res.end();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A 304 already went out: the rest still flows into the cache.
    if (this.discard || this.exchange.res.destroyed) return;
    if (!this.exchange.res.write(chunk)) {
      controller.pause();
      this.exchange.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.finish(this.cacheable);
    if (!this.exchange.res.writableEnded) this.exchange.res.end();
  }

  private finish(cacheable: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.exchange.onFinished(cacheable);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish(false);
    const { res, route, ref } = this.exchange;
    if (res.headersSent) {
      res.destroy(error);
      return;
    }
    if (res.destroyed) return;
    this.metrics.route(route.name).originFailures += 1;
    this.metrics.recordStatus(route.name, 502);
    sendJson(res, 502, { error: 'no origin of this route answered', code: 'origin_unreachable' }, { 'x-azure-ref': ref });
  }
}

export async function startLocalEdge(declaration: EdgeDeclaration, options: LocalEdgeOptions): Promise<LocalEdge> {
  const logger = options.logger ?? silentLogger;
  const metrics = new EdgeMetrics(declaration.routes.map((route) => route.name));
  const timeoutInMs = declaration.profile.originResponseTimeoutSeconds * 1000;
  const agent = new Agent({ connections: 128, keepAliveTimeout: 4_000, headersTimeout: timeoutInMs, bodyTimeout: timeoutInMs, connect: { timeout: 5_000 } });
  const groups = new Map(
    declaration.originGroups.map((group) => [
      group.name,
      new OriginGroupRuntime(group, { dispatcher: agent, frontDoorId: options.frontDoorId, logger: logger.child({ originGroup: group.name }), probeIntervalInMs: options.probeIntervalInMs }),
    ]),
  );
  const ruleSets = new Map<string, RuleSetDeclaration>(declaration.ruleSets.map((ruleSet) => [ruleSet.name, ruleSet]));
  const waf = new WafEngine(declaration.waf);
  const store = new EdgeCacheStore({ maxSize: options.cacheMaxBytes ?? 256 * 1024 * 1024, maxEntrySize: MAX_EXPORT_FILE_BYTES + 1 });
  const maxRequestBodyBytes = options.maxRequestBodyBytes ?? 1024 * 1024;

  const toOrigin = originGroupInterceptor({
    onOriginRequest: (route) => {
      metrics.route(route).originRequests += 1;
    },
    onFailover: (route, from, error) => {
      metrics.route(route).failovers += 1;
      logger.warn('origin failed, retrying on the next origin', { route, origin: from.name, reason: (error as { code?: string }).code ?? error.name });
    },
  });
  // Innermost first: origin choice and failover, the miss tap, then the cache.
  const cachingDispatcher = agent.compose(toOrigin, cacheFillInterceptor(options.defaultLifetimeInSeconds), interceptors.cache({ store, methods: ['GET'], type: 'shared' }));
  const collapser = new FillCollapser();
  const directDispatcher = agent.compose(toOrigin);

  const blockBody = JSON.stringify(declaration.waf.blockResponse.body);
  const listenerHost = options.host ?? '127.0.0.1';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const ref = azureRef();
    const method = (req.method ?? 'GET').toUpperCase();
    const target = pathTarget(req.url ?? '/');
    // An empty Host counts as absent; a malformed one (a "/" in it, say) would change the URL the WAF reads.
    const host = req.headers.host || listenerHost;
    if (!target || !HOST.test(host)) {
      metrics.route(NO_ROUTE).requests += 1;
      metrics.recordStatus(NO_ROUTE, 400);
      return sendJson(res, 400, { error: target ? 'the Host header must be a host name or address with an optional port' : 'the request target must be a path', code: 'bad_request' }, { 'x-azure-ref': ref });
    }
    const route = matchRoute(declaration.routes, target.pathname);
    const counters = metrics.route(route?.name ?? NO_ROUTE);
    counters.requests += 1;

    // The WAF's security policy covers every path of the endpoint, before routing and caching. It
    // reads the request URI as the client sent it (not normalised), so a second spelling of a path
    // is seen as such and refused by the declaration's rules.
    const verdict = waf.evaluate({ method, url: `https://${host}${req.url ?? '/'}`, headers: req.headers, socketAddress: socketAddressOf(req) });
    if (verdict.action === 'block') {
      counters.wafBlocked += 1;
      metrics.recordStatus(route?.name ?? NO_ROUTE, declaration.waf.blockResponse.statusCode);
      logger.info('waf blocked a request', { rule: verdict.rule, route: route?.name ?? NO_ROUTE });
      res.writeHead(declaration.waf.blockResponse.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(blockBody), 'x-azure-ref': ref, 'cache-control': 'no-store' });
      res.end(blockBody);
      return;
    }
    if (!route) {
      metrics.recordStatus(NO_ROUTE, 404);
      return sendJson(res, 404, { error: 'no route of the edge serves this path', code: 'route_not_found' }, { 'x-azure-ref': ref });
    }

    const rules = evaluateRuleSets(
      route.ruleSets.map((name) => ruleSets.get(name)).filter((ruleSet): ruleSet is RuleSetDeclaration => ruleSet !== undefined),
      { method, path: target.pathname, headers: req.headers },
    );
    const cached = route.cache !== undefined;
    const fromCache = cached && method === 'GET';
    const trace: EdgeTrace = { miss: false, collapsed: false, originRequests: 0, failovers: 0 };
    const ignoreQuery = route.cache?.queryStringCachingBehavior === 'IgnoreQueryString';
    const headers: HeaderRecord = { ...clientHeaders(req, cached), ...edgeRequestHeaders(req, ref, options.frontDoorId, host) };
    applyHeaderEdits(headers, rules.requestHeaders);

    let body: Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const read = await readBody(req, maxRequestBodyBytes);
      if (read === undefined) {
        metrics.recordStatus(route.name, 413);
        return sendJson(res, 413, { error: `request bodies are limited to ${maxRequestBodyBytes} bytes at the edge`, code: 'payload_too_large' }, { 'x-azure-ref': ref });
      }
      body = read;
    }

    const edge: EdgeDispatch = {
      route: route.name,
      group: groups.get(route.originGroup) as OriginGroupRuntime,
      originPath: route.originPath ?? '',
      originQuery: cached && ignoreQuery ? target.search : '',
      rewrittenPath: rules.rewrite ? `${rewritePath(target.pathname, matchedPrefix(route, target.pathname), rules.rewrite)}${cached && ignoreQuery ? '' : target.search}` : undefined,
      trace,
    };
    const dispatchOptions = {
      origin: `http://${route.name.toLowerCase()}.route.edge.invalid`,
      path: cached && ignoreQuery ? target.pathname : `${target.pathname}${target.search}`,
      method: method as Dispatcher.HttpMethod,
      headers: headers as Record<string, string | string[]>,
      body,
      edge,
    };
    if (!fromCache) {
      directDispatcher.dispatch(dispatchOptions, new ClientResponseHandler({ req, res, route, ref, cached, trace, responseEdits: rules.responseHeaders, onFinished: () => undefined }, metrics));
      return;
    }
    // Wait while a fill of this key is under way: its answer is then in the cache. When a fill ends
    // with nothing fresh kept though its answer was cacheable (a purge came meanwhile), the first
    // waiter to go on starts the next fill and the others wait for that one. An answer the cache
    // may not keep (private, a 404) or a failed fill sends every waiter on at once instead:
    // waiting in turn would only queue them.
    const fillKey = () => `${dispatchOptions.origin}${dispatchOptions.path}\u0000${store.currentEpoch()}`;
    for (let fill = collapser.fillOf(fillKey()); fill; fill = collapser.fillOf(fillKey())) {
      trace.collapsed = true;
      if (!(await fill)) break;
    }
    if (res.destroyed) {
      counters.clientDisconnects += 1;
      return;
    }
    headers[EPOCH_HEADER] = String(store.currentEpoch());
    let settle: (cacheable: boolean) => void = () => undefined;
    // The store commits a body a tick after the response ends: release the waiters after that.
    const filled = new Promise<boolean>((resolve) => (settle = (cacheable) => setImmediate(resolve, cacheable)));
    const key = fillKey();
    cachingDispatcher.dispatch(dispatchOptions, new ClientResponseHandler({ req, res, route, ref, cached, trace, responseEdits: rules.responseHeaders, onFinished: settle }, metrics));
    // The cache decides synchronously (an in-memory store): a miss is now on its way to the origin.
    if (trace.miss) collapser.track(key, filled);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('edge request failed', { error });
      if (!res.headersSent) sendJson(res, 500, { error: 'the edge failed to handle the request', code: 'internal' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const snapshot = (): LocalEdgeMetrics => ({
    routes: metrics.snapshot(),
    cache: { ...store.stats(), purges: metrics.purges, purgedEntries: metrics.purgedEntries },
    originGroups: Object.fromEntries([...groups].map(([name, group]) => [name, group.health()])),
  });
  const purge = (contentPaths: readonly string[]): number => {
    const purged = store.purge(contentPaths);
    metrics.purges += 1;
    metrics.purgedEntries += purged;
    logger.info('purged', { contentPaths, purged });
    return purged;
  };

  let admin: AdminServer;
  try {
    admin = await startAdminServer({ port: options.adminPort ?? 0, purge, metrics: snapshot });
  } catch (error) {
    server.close();
    await agent.close();
    throw error;
  }
  for (const group of groups.values()) group.start();
  logger.info('local edge listening', { url, adminUrl: admin.url, routes: declaration.routes.map((route) => `${route.patterns.join(',')} -> ${route.originGroup}`) });

  return {
    url,
    adminUrl: admin.url,
    metrics: snapshot,
    purge,
    stop: async () => {
      await Promise.all([...groups.values()].map((group) => group.stop()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await admin.stop();
      await agent.close();
    },
  };
}
