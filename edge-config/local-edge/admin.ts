/**
 * The local edge's admin server, on its own loopback port: `POST /purge` with Front Door's body
 * (`{"contentPaths": [...]}`) answered `202 {"purged": n}`, and `GET /metrics` (JSON counters).
 * Errors are `{"error", "code"}` JSON like every keyfront endpoint.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readBody, sendJson as send } from './http';
import type { AddressInfo } from 'node:net';
import { checkContentPaths, PurgePathError } from '../../platform/purge-paths';

export interface AdminServer {
  url: string;
  stop(): Promise<void>;
}

export interface AdminServerOptions {
  port: number;
  purge(contentPaths: readonly string[]): number;
  metrics(): unknown;
}

const MAX_PURGE_BODY_BYTES = 64 * 1024;

async function handlePurge(req: IncomingMessage, res: ServerResponse, purge: AdminServerOptions['purge']): Promise<void> {
  if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    req.resume();
    return send(res, 415, { error: 'send the purge request as application/json', code: 'unsupported_media_type' });
  }
  const raw = await readBody(req, MAX_PURGE_BODY_BYTES);
  if (raw === undefined) return send(res, 413, { error: `purge requests are limited to ${MAX_PURGE_BODY_BYTES} bytes`, code: 'payload_too_large' });
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return send(res, 400, { error: 'the body is not JSON', code: 'invalid_json' });
  }
  const contentPaths = body !== null && typeof body === 'object' ? (body as { contentPaths?: unknown }).contentPaths : undefined;
  try {
    checkContentPaths(contentPaths);
  } catch (error) {
    if (error instanceof PurgePathError) return send(res, 400, { error: error.message, code: 'invalid_content_paths' });
    throw error;
  }
  send(res, 202, { purged: purge(contentPaths) });
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const routes: Record<string, { method: string; run: () => Promise<void> | void }> = {
      '/purge': { method: 'POST', run: () => handlePurge(req, res, options.purge) },
      '/metrics': { method: 'GET', run: () => send(res, 200, options.metrics()) },
    };
    const route = routes[path];
    if (!route) {
      req.resume();
      return send(res, 404, { error: 'the admin server serves POST /purge and GET /metrics', code: 'not_found' });
    }
    if (req.method !== route.method) {
      req.resume();
      return send(res, 405, { error: `${path} takes ${route.method}`, code: 'method_not_allowed' }, { allow: route.method });
    }
    Promise.resolve(route.run()).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'the admin request failed', code: 'internal' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: purge and metrics are the operator's, never the internet's.
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
