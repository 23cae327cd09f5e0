/**
 * A programmable HTTP origin for edge tests: records every request it gets (method, URL,
 * headers, body) and answers with whatever the test sets, so header semantics (Age, Expires,
 * private, Set-Cookie) and timing (a held answer, for request collapsing) can be controlled.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OriginRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type OriginHandler = (request: OriginRequest, res: ServerResponse) => void | Promise<void>;

export interface OriginStandIn {
  url: string;
  requests: OriginRequest[];
  /** Requests whose URL starts with `prefix`. */
  requestsTo(prefix: string): OriginRequest[];
  setHandler(handler: OriginHandler): void;
  stop(): Promise<void>;
}

/** Answers 200 with a JSON echo of what the origin received. */
export const echo: OriginHandler = (request, res) => {
  const body = JSON.stringify(request);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

export async function startOriginStandIn(handler: OriginHandler = echo): Promise<OriginStandIn> {
  let current = handler;
  const requests: OriginRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      Promise.resolve(current(request, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    requestsTo: (prefix) => requests.filter((r) => r.url.startsWith(prefix)),
    setHandler: (next) => {
      current = next;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
