/**
 * The local stand-in for the Azure Functions host: node:http on loopback, serving the routes of
 * `api/routes.ts` under `/api`, each request handed to the same bound handler as in Azure as real
 * `HttpRequest`/`InvocationContext` objects of `@azure/functions`. Like the real host it caps the
 * body it buffers (Azure's default is 100 MB; 1 MB here) before any of our code runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext, type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { jsonResponse } from '../../api/http';
import { bindRoute, pathOf, ROUTES } from '../../api/routes';
import type { ApiRuntime } from '../../api/runtime';
import { readBody } from '../../edge-config/local-edge/http';
import { LOOPBACK } from './ports';

export const HOST_MAX_BODY_BYTES = 1024 * 1024;

export interface ApiHostOptions {
  runtime: ApiRuntime;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface ApiHost {
  name: string;
  url: string;
  port: number;
  server: Server;
  stop(): Promise<void>;
}

async function send(response: ServerResponse, init: HttpResponseInit): Promise<void> {
  const normalized = new HttpResponse(init);
  const body = Buffer.from(await normalized.arrayBuffer());
  const headers: Record<string, string> = {};
  normalized.headers.forEach((value, name) => {
    headers[name] = value;
  });
  response.writeHead(normalized.status, { ...headers, 'content-length': String(body.length) });
  response.end(body);
}

function requestHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export async function startApiHost(options: ApiHostOptions): Promise<ApiHost> {
  const handlers = new Map<string, { name: string; handle: HttpHandler }>(ROUTES.map((route) => [pathOf(route), { name: route.name, handle: bindRoute(route, options.runtime) }]));
  const logger = options.runtime.logger.child({ component: 'api-host' });
  let port = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', `http://${LOOPBACK}:${port}`);
      const target = handlers.get(url.pathname);
      if (!target) {
        request.resume();
        return send(response, jsonResponse(404, { error: 'no such route', code: 'not_found' }));
      }
      // Read to the end even when too large, so the client sees the answer rather than a reset.
      const body = await readBody(request, HOST_MAX_BODY_BYTES);
      if (body === undefined) {
        return send(response, jsonResponse(413, { error: `the host accepts bodies of at most ${HOST_MAX_BODY_BYTES} bytes`, code: 'payload_too_large' }));
      }
      const httpRequest = new HttpRequest({
        method: request.method ?? 'GET',
        url: url.toString(),
        headers: requestHeaders(request),
        query: Object.fromEntries(url.searchParams),
        ...(body.length > 0 ? { body: { bytes: body } } : {}),
      });
      const context = new InvocationContext({ invocationId: randomUUID(), functionName: target.name, logHandler: () => undefined });
      await send(response, await target.handle(httpRequest, context));
    })().catch((error: unknown) => {
      logger.error('local host failure', { error });
      if (!response.headersSent) void send(response, jsonResponse(500, { error: 'internal error', code: 'internal_error' }));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    name: 'api',
    url: `http://${LOOPBACK}:${port}`,
    port,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
