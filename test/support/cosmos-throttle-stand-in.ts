/**
 * A Cosmos DB endpoint that throttles every request: HTTPS (with the emulator's own self-signed
 * certificate), status 429 and the documented `x-ms-retry-after-ms` header, as the service answers
 * when a container's provisioned throughput is exhausted. The emulator never throttles.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { LOOPBACK } from '../../scripts/local-stack/ports';

export interface ThrottlingCosmos {
  endpoint: string;
  /** Requests answered so far. */
  requests(): number;
  stop(): Promise<void>;
}

export async function startThrottlingCosmos(options: { retryAfterInMs: number }): Promise<ThrottlingCosmos> {
  const dir = path.dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
  let count = 0;
  const server = createServer({ cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) }, (request, response) => {
    count++;
    request.resume();
    response.writeHead(429, { 'content-type': 'application/json', 'x-ms-retry-after-ms': String(options.retryAfterInMs), 'x-ms-substatus': '3200' });
    response.end(JSON.stringify({ code: 'TooManyRequests', message: 'Request rate is large.' }));
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://${LOOPBACK}:${port}`,
    requests: () => count,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
