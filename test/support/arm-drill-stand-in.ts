/**
 * An HTTP-level stand-in for the ARM operations of the Azure drills, shaped as the REST reference
 * documents them (no emulator exists for ARM):
 * - Storage: `GET storageAccounts/{a}?$expand=geoReplicationStats`, `POST .../failover?failoverType=Planned`
 *   (202 + Location, polled until 200);
 * - Cosmos DB: `GET databaseAccounts/{a}`, `POST .../failoverPriorityChange` (202 + Azure-AsyncOperation);
 * - Front Door: `GET/PATCH profiles/{p}/originGroups/{g}/origins/{o}`, `GET .../origins` (list).
 * It checks bearer tokens, api-version and bodies, records violations (tests assert none), and
 * changes its resources as the real operations do. HTTPS with the loopback test certificate.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';

const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');
const TOKEN = `arm-drill-stand-in-${randomUUID()}`;

export interface StorageAccountState {
  sku: string;
  primaryLocation: string;
  secondaryLocation: string;
  status: 'Live' | 'Bootstrap' | 'Unavailable';
  canFailover: boolean;
  canPlannedFailover: boolean;
  lastSyncTime: string;
}

export interface CosmosAccountState {
  /** Region names by failover priority (index 0 writes). */
  regions: string[];
}

export interface OriginState {
  enabledState: 'Enabled' | 'Disabled';
  hostName: string;
  priority: number;
}

export interface ArmDrillStandIn {
  endpoint: string;
  subscriptionId: string;
  credential: TokenCredential;
  clientOptions(): Record<string, unknown>;
  storage: Map<string, StorageAccountState>;
  cosmos: Map<string, CosmosAccountState>;
  /** Origins by `profile/group/origin`. */
  origins: Map<string, OriginState>;
  requests: Array<{ method: string; path: string; apiVersion: string | null; query: string }>;
  violations: string[];
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

const armError = (res: ServerResponse, status: number, code: string, message: string) => send(res, status, { error: { code, message } });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

export async function startArmDrillStandIn(): Promise<ArmDrillStandIn> {
  const subscriptionId = randomUUID();
  const cert = readFileSync(path.join(TLS_DIR, 'loopback-cert.pem'));
  const storage = new Map<string, StorageAccountState>();
  const cosmos = new Map<string, CosmosAccountState>();
  const origins = new Map<string, OriginState>();
  const requests: ArmDrillStandIn['requests'] = [];
  const violations: string[] = [];
  /** Long-running operations: polls left, then the change they make. */
  const operations = new Map<string, { pollsLeft: number; done: () => void }>();
  let endpoint = '';

  const startOperation = (provider: string, apply: () => void): Record<string, string> => {
    const id = randomUUID();
    operations.set(id, { pollsLeft: 1, done: apply });
    const url = `${endpoint}/subscriptions/${subscriptionId}/providers/${provider}/operations/${id}?api-version=stand-in`;
    return { location: url, 'azure-asyncoperation': `${url}&kind=async`, 'retry-after': '0' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', endpoint);
    const method = req.method ?? 'GET';
    const apiVersion = url.searchParams.get('api-version');
    requests.push({ method, path: url.pathname, apiVersion, query: url.search });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return armError(res, 401, 'AuthenticationFailed', 'missing or unknown bearer token');
    if (!apiVersion) {
      violations.push(`${method} ${url.pathname}: no api-version`);
      return armError(res, 400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    }
    const body = await readJson(req);
    const segments = url.pathname.split('/').filter(Boolean);
    const lower = segments.map((s) => s.toLowerCase());

    // Operation polls: 202 while running; then the change is made, Location answers 200, the async URL Succeeded.
    if (lower[2] === 'providers' && lower[4] === 'operations') {
      const operation = operations.get(segments[5]);
      if (!operation) return armError(res, 404, 'NotFound', 'no such operation');
      const async = url.searchParams.get('kind') === 'async';
      if (operation.pollsLeft > 0) {
        operation.pollsLeft--;
        return async ? send(res, 200, { status: 'InProgress' }) : send(res, 202, undefined, { location: url.toString(), 'retry-after': '0' });
      }
      operation.done();
      operation.done = () => undefined;
      return async ? send(res, 200, { status: 'Succeeded' }) : send(res, 200, {});
    }
    if (lower[0] !== 'subscriptions' || segments[1] !== subscriptionId || lower[2] !== 'resourcegroups' || lower[4] !== 'providers') return armError(res, 404, 'NotFound', `no route for ${url.pathname}`);
    const group = segments[3];
    const provider = lower[5];
    const id = `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/${segments.slice(5).join('/')}`;

    if (provider === 'microsoft.storage' && lower[6] === 'storageaccounts') {
      const name = segments[7];
      const account = storage.get(name);
      if (!account) return armError(res, 404, 'ResourceNotFound', `The Resource 'Microsoft.Storage/storageAccounts/${name}' under resource group '${group}' was not found.`);
      if (method === 'GET' && segments.length === 8) {
        const expand = url.searchParams.get('$expand');
        return send(res, 200, {
          id: id.split('/failover')[0],
          name,
          type: 'Microsoft.Storage/storageAccounts',
          location: account.primaryLocation,
          kind: 'StorageV2',
          sku: { name: account.sku, tier: 'Standard' },
          properties: {
            provisioningState: 'Succeeded',
            primaryLocation: account.primaryLocation,
            statusOfPrimary: 'available',
            ...(account.sku.includes('GRS') || account.sku.includes('GZRS') ? { secondaryLocation: account.secondaryLocation, statusOfSecondary: 'available' } : {}),
            ...(expand === 'geoReplicationStats' ? { geoReplicationStats: { status: account.status, lastSyncTime: account.lastSyncTime, canFailover: account.canFailover, canPlannedFailover: account.canPlannedFailover } } : {}),
          },
        });
      }
      if (method === 'POST' && lower[8] === 'failover') {
        const type = url.searchParams.get('failoverType');
        if (type !== null && type !== 'Planned') violations.push(`failover: failoverType ${type} is not documented`);
        if (type === 'Planned' && !account.canPlannedFailover) return armError(res, 400, 'FailoverNotAllowed', 'Planned failover is not supported for this account.');
        return send(res, 202, undefined, startOperation('Microsoft.Storage', () => {
          // A planned failover swaps the regions and keeps geo-redundancy; an unplanned one leaves LRS.
          [account.primaryLocation, account.secondaryLocation] = [account.secondaryLocation, account.primaryLocation];
          if (type !== 'Planned') account.sku = 'Standard_LRS';
        }));
      }
    }

    if (provider === 'microsoft.documentdb' && lower[6] === 'databaseaccounts') {
      const name = segments[7];
      const account = cosmos.get(name);
      if (!account) return armError(res, 404, 'ResourceNotFound', `Database account ${name} not found`);
      const location = (region: string, priority: number) => ({ id: `${name}-${region.replace(/\s/g, '').toLowerCase()}`, locationName: region, failoverPriority: priority, isZoneRedundant: false });
      if (method === 'GET' && segments.length === 8) {
        return send(res, 200, {
          id,
          name,
          type: 'Microsoft.DocumentDB/databaseAccounts',
          location: account.regions[0],
          kind: 'GlobalDocumentDB',
          properties: {
            provisioningState: 'Succeeded',
            databaseAccountOfferType: 'Standard',
            enableAutomaticFailover: true,
            writeLocations: [location(account.regions[0], 0)],
            readLocations: account.regions.map(location),
            locations: account.regions.map(location),
            failoverPolicies: account.regions.map((region, priority) => ({ id: location(region, priority).id, locationName: region, failoverPriority: priority })),
          },
        });
      }
      if (method === 'POST' && lower[8] === 'failoverprioritychange') {
        const policies = (body as { failoverPolicies?: Array<{ locationName?: string; failoverPriority?: number }> } | undefined)?.failoverPolicies;
        const problem = !Array.isArray(policies)
          ? 'failoverPolicies must be an array'
          : policies.length !== account.regions.length || !account.regions.every((region) => policies.some((p) => p.locationName === region))
            ? 'failoverPolicies must name every region of the account once'
            : new Set(policies.map((p) => p.failoverPriority)).size !== policies.length || !policies.some((p) => p.failoverPriority === 0)
              ? 'failover priorities must be unique and include 0'
              : undefined;
        if (problem) {
          violations.push(`failoverPriorityChange: ${problem}`);
          return armError(res, 400, 'BadRequest', problem);
        }
        return send(res, 202, undefined, startOperation('Microsoft.DocumentDB', () => {
          account.regions = [...policies!].sort((a, b) => a.failoverPriority! - b.failoverPriority!).map((p) => p.locationName!);
        }));
      }
    }

    if (provider === 'microsoft.cdn' && lower[6] === 'profiles' && lower[8] === 'origingroups' && lower[10] === 'origins') {
      const key = `${segments[7]}/${segments[9]}`;
      const view = (name: string, origin: OriginState) => ({ id: `${id.split('/origins')[0]}/origins/${name}`, name, type: 'Microsoft.Cdn/profiles/origingroups/origins', properties: { hostName: origin.hostName, httpPort: 80, httpsPort: 443, priority: origin.priority, weight: 1000, enabledState: origin.enabledState, provisioningState: 'Succeeded', deploymentStatus: 'NotStarted' } });
      if (method === 'GET' && segments.length === 11) {
        return send(res, 200, { value: [...origins.entries()].filter(([k]) => k.startsWith(`${key}/`)).map(([k, origin]) => view(k.split('/')[2], origin)) });
      }
      const origin = origins.get(`${key}/${segments[11]}`);
      if (!origin) return armError(res, 404, 'NotFound', `origin ${segments[11]} not found`);
      if (method === 'GET') return send(res, 200, view(segments[11], origin));
      if (method === 'PATCH') {
        const state = (body as { properties?: { enabledState?: string } } | undefined)?.properties?.enabledState;
        if (state !== 'Enabled' && state !== 'Disabled') {
          violations.push(`PATCH origin: properties.enabledState ${JSON.stringify(state)}`);
          return armError(res, 400, 'BadRequest', 'properties.enabledState must be Enabled or Disabled');
        }
        const headers = startOperation('Microsoft.Cdn', () => (origin.enabledState = state));
        return send(res, 202, undefined, { ...headers, location: `${url.origin}${url.pathname}?api-version=${apiVersion}` });
      }
    }
    violations.push(`${method} ${url.pathname}: not an operation the drills use`);
    return armError(res, 405, 'MethodNotAllowed', `${method} ${url.pathname} is not served by the stand-in`);
  };

  const server: Server = createServer({ key: readFileSync(path.join(TLS_DIR, 'loopback-key.pem')), cert }, (req, res) => {
    handle(req, res).catch((error: Error) => armError(res, 500, 'InternalServerError', error.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert });
  const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }) };
  return {
    endpoint,
    subscriptionId,
    credential,
    clientOptions: () => ({ endpoint, agent, retryOptions: { maxRetries: 0 } }),
    storage,
    cosmos,
    origins,
    requests,
    violations,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
