/**
 * Test helpers for hostile HTTP: a raw client that sends a request target and headers byte for byte
 * (undici and node:http normalise or refuse some), and a recording proxy that sits between the
 * local edge and an origin and keeps what reached the origin.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export interface RawResponse {
  /** 0 when no status line arrived. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server reset the connection (Node 24's HTTP server does so, sometimes before its 431 arrives, to a client still sending a header past the limit). */
  reset: boolean;
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Sends one request on its own connection (`Connection: close`) and reads the whole answer. */
export function rawRequest(baseUrl: string, request: { method: string; target: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const { hostname, port, host } = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`, ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  if (body) lines.push(`Content-Length: ${body.length}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Written, not ended: a half-closed socket tells node:http the client left before its answer.
    const socket = connect(Number(port), hostname, () => socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)])));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${request.method} ${request.target}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    let reset = false;
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? (reset = true) : reject(error)));
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split === -1 ? all.length : split).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = split === -1 ? Buffer.alloc(0) : all.subarray(split + 4);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0), headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw, reset });
    });
  });
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface RecordingProxy {
  url: string;
  /** Requests that reached the origin, health probes left out. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** Forwards every request to `target` (scheme, host, port) unchanged and records it. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    if (req.headers['x-fd-healthprobe'] === undefined) requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
