/**
 * The Cosmos DB stand-in: `@vercel/cosmosdb-server`, in-process, HTTPS with its self-signed
 * certificate, in memory only. The real `@azure/cosmos` client talks to it; clients must turn off
 * endpoint discovery (the emulator has no regions) and accept its certificate.
 */
import { Agent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import { LOOPBACK } from './ports';

/** The emulator accepts any key; this one is only a placeholder for the client. */
export const COSMOS_EMULATOR_KEY = 'bG9jYWwtY29zbW9zLWVtdWxhdG9yLWtleQ==';

export interface CosmosEmulator {
  endpoint: string;
  port: number;
  /** Client options for this emulator: endpoint, key, self-signed certificate, no endpoint discovery. */
  clientOptions(): CosmosClientOptions;
  client(): CosmosClient;
  stop(): Promise<void>;
}

/** Client options for an emulator endpoint (also used by processes that did not start it); `requestTimeoutInMs` per HTTP request (the SDK's default: 60 s). */
export function cosmosEmulatorClientOptions(endpoint: string, requestTimeoutInMs?: number): CosmosClientOptions {
  return {
    endpoint,
    key: COSMOS_EMULATOR_KEY,
    // The emulator's certificate is self-signed and for "localhost": trusted for this loopback client only.
    agent: new Agent({ rejectUnauthorized: false, keepAlive: true }),
    connectionPolicy: { enableEndpointDiscovery: false, ...(requestTimeoutInMs === undefined ? {} : { requestTimeout: requestTimeoutInMs }) },
  };
}

export async function startCosmosEmulator(options: { port?: number } = {}): Promise<CosmosEmulator> {
  // keepAlive: without it the emulator answers `Connection: close` and every request pays a new TLS handshake.
  const server: Server = createHttpsServer({ keepAlive: true });
  // Node closes an idle connection after 5 s, while the SDK's agent keeps its idle sockets without
  // limit: a request sent on a socket at the moment the server closes it fails with ECONNRESET
  // (a write is not retried). Cosmos DB keeps idle connections for minutes; so does its stand-in.
  server.keepAliveTimeout = 10 * 60 * 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `https://${LOOPBACK}:${port}`;
  const clients: CosmosClient[] = [];
  return {
    endpoint,
    port,
    clientOptions: () => cosmosEmulatorClientOptions(endpoint),
    client: () => {
      const client = new CosmosClient(cosmosEmulatorClientOptions(endpoint));
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const client of clients) client.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
