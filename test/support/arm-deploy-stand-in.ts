/**
 * An HTTP stand-in for the Azure endpoints `keyfront deploy apply|release` call, shaped as
 * documented (no emulator exists for them). Reuses the TLS certificate and ARM error helpers of
 * `arm-stand-in.ts`.
 *
 * ARM (bearer token, `api-version` checked):
 * - Resource Groups - Create Or Update: PUT resourcegroups/{rg} (2025-04-01)
 * - Deployments - Create Or Update: PUT .../Microsoft.Resources/deployments/{name} -> 201 +
 *   `Azure-AsyncOperation`, polled until `Succeeded`; GET the deployment for its outputs
 * - Deployments - What If: POST .../deployments/{name}/whatIf -> 202 + `Location` + `Retry-After`,
 *   polled until 200 with a WhatIfOperationResult (Create / Modify / NoChange per resource)
 * - Web Apps - Get / Get Slot, List Application Settings (Slot), List Functions / List Instance
 *   Functions Slot, Swap Slot (POST .../slots/{slot}/slotsswap -> 202 + `Location`) (2025-05-01)
 * App hosts, reached as `{endpoint}/__host/{hostName}/...`:
 * - the deployment service (Kudu): POST /api/zipdeploy?isAsync=true -> 202 + Location
 *   /api/deployments/latest, which answers `{status: 4, complete: true}` once done
 * - the app itself: GET /api/health, which needs the site's X-Azure-FDID, and answers as the
 *   package running in that slot makes it (a package whose bytes contain `BROKEN_HEALTH` answers 500).
 */
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { armError, makeCertificate, sendJson } from './arm-stand-in';

export const DEPLOY_API_VERSIONS = { resources: '2025-04-01', web: '2025-05-01' } as const;
/** A package containing these bytes answers 500 on /api/health once it runs. */
export const BROKEN_HEALTH_MARKER = 'BROKEN_HEALTH';

export interface SlotState {
  /** sha256 of the package this slot runs ('' before the first deployment). */
  packageDigest: string;
  packageBytes?: Buffer;
  settings: Record<string, string>;
  functions: string[];
}

export interface SiteState {
  name: string;
  app: 'api' | 'publisher';
  production: SlotState;
  staging: SlotState;
}

export interface DeployRequest {
  method: string;
  path: string;
  apiVersion: string | null;
}

export interface ArmDeployStandIn {
  endpoint: string;
  subscriptionId: string;
  credential: TokenCredential;
  clientOptions(): { endpoint: string; agent: Agent; retryOptions: { maxRetries: number } };
  /** fetch and host mapping for the release's calls to app hosts. */
  fetch: typeof fetch;
  hostUrl(hostName: string): string;
  sites: Map<string, SiteState>;
  deployments: Map<string, { template: Record<string, unknown>; parameters: Record<string, unknown> }>;
  resourceGroups: Set<string>;
  requests: DeployRequest[];
  violations: string[];
  /** After the next swap of this site, production answers 500 (a fault only production shows) until the swap after it. */
  breakProductionAfterSwap(site: string): void;
  /** Makes the deployment (PUT) end Failed with this error. */
  failDeployment(error: { code: string; message: string }): void;
  seedSite(name: string, app: 'api' | 'publisher', productionPackage: Buffer): SiteState;
  stop(): Promise<void>;
}

function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The functions a package registers, as the host would index them. */
function functionsOf(app: 'api' | 'publisher'): string[] {
  return app === 'api' ? ['register', 'publish', 'health'] : ['publishExports'];
}

export async function startArmDeployStandIn(): Promise<ArmDeployStandIn> {
  const { cert, key } = makeCertificate();
  const token = `arm-deploy-stand-in-${randomBytes(12).toString('hex')}`;
  const subscriptionId = randomUUID();
  const sites = new Map<string, SiteState>();
  const deployments = new Map<string, { template: Record<string, unknown>; parameters: Record<string, unknown> }>();
  const resourceGroups = new Set<string>();
  /** ARM resources the deployments created, by lower-cased `group|scope|type/name`, for what-if. */
  const deployed = new Map<string, unknown>();
  const requests: DeployRequest[] = [];
  const violations: string[] = [];
  const operations = new Map<string, { pollsLeft: number; done: () => { status: number; body: unknown } }>();
  const brokenAfterSwap = new Map<string, 'armed' | 'broken'>();
  const kuduDeployments = new Map<string, { pollsLeft: number }>();
  let deploymentFailure: { code: string; message: string } | undefined;
  let endpoint = '';

  const reject = (res: ServerResponse, status: number, code: string, problem: string): void => {
    violations.push(problem);
    armError(res, status, code, problem);
  };

  const slotOf = (site: SiteState, slot: string): SlotState | undefined => (slot === 'production' ? site.production : slot === 'staging' ? site.staging : undefined);

  const siteResource = (site: SiteState, slot: string | undefined) => {
    const host = slot ? `${site.name}-${slot}` : site.name;
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Web/sites/${site.name}${slot ? `/slots/${slot}` : ''}`,
      name: slot ? `${site.name}/${slot}` : site.name,
      type: slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites',
      kind: 'functionapp',
      location: 'japaneast',
      properties: { state: 'Running', defaultHostName: `${host}.azurewebsites.net`, enabledHostNames: [`${host}.azurewebsites.net`, `${host}.scm.azurewebsites.net`] },
    };
  };

  const handleHost = async (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> => {
    const match = /^\/__host\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!match) return reject(res, 404, 'NotFound', `${url.pathname}: no such host path`);
    const [, hostName, rest] = match;
    const scm = /^(.+?)(?:-(staging))?\.scm\.azurewebsites\.net$/.exec(hostName);
    const app = /^(.+?)(?:-(staging))?\.azurewebsites\.net$/.exec(hostName);
    if (scm) {
      const site = sites.get(scm[1]);
      if (!site) return reject(res, 404, 'NotFound', `no site behind ${hostName}`);
      if (req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, { error: 'unauthorized' });
      const slot = slotOf(site, scm[2] ?? 'production')!;
      if (req.method === 'POST' && rest === '/api/zipdeploy') {
        if (url.searchParams.get('isAsync') !== 'true') return reject(res, 400, 'BadRequest', 'zipdeploy without isAsync=true');
        if (body.length < 22 || body.readUInt32LE(body.length - 22) !== 0x06054b50) return reject(res, 400, 'BadRequest', 'zipdeploy body is not a zip');
        slot.packageBytes = body;
        slot.packageDigest = digest(body);
        slot.functions = functionsOf(site.app);
        kuduDeployments.set(hostName, { pollsLeft: 1 });
        res.writeHead(202, { location: `https://${hostName}/api/deployments/latest` });
        return void res.end();
      }
      if (req.method === 'GET' && rest === '/api/deployments/latest') {
        const state = kuduDeployments.get(hostName);
        if (!state) return sendJson(res, 404, { error: 'no deployment' });
        if (state.pollsLeft > 0) {
          state.pollsLeft -= 1;
          return sendJson(res, 202, { status: 1, complete: false });
        }
        return sendJson(res, 200, { id: 'latest', status: 4, complete: true });
      }
      return reject(res, 404, 'NotFound', `${req.method} ${rest} on the deployment service`);
    }
    if (app && req.method === 'GET' && rest === '/api/health') {
      const site = sites.get(app[1]);
      if (!site) return sendJson(res, 404, { error: 'no such app' });
      const slotName = app[2] ?? 'production';
      const slot = slotOf(site, slotName)!;
      if (req.headers['x-azure-fdid'] !== slot.settings.KEYFRONT_FRONT_DOOR_ID) return sendJson(res, 403, { error: 'requests must come through the service front door', code: 'front_door_required' });
      const broken = slotName === 'production' && brokenAfterSwap.get(site.name) === 'broken';
      if (broken || slot.packageBytes?.includes(BROKEN_HEALTH_MARKER)) return sendJson(res, 500, { status: 'failing' });
      return sendJson(res, 200, { status: 'ok', version: slot.packageDigest.slice(0, 12), store: 'ok' });
    }
    return reject(res, 404, 'NotFound', `${req.method} ${url.pathname}`);
  };

  const startOperation = (kind: 'async' | 'location', done: () => { status: number; body: unknown }): Record<string, string> => {
    const id = randomUUID();
    operations.set(id, { pollsLeft: 1, done });
    const url = `${endpoint}/subscriptions/${subscriptionId}/providers/Microsoft.Resources/operationresults/${id}?api-version=${DEPLOY_API_VERSIONS.resources}`;
    return kind === 'async' ? { 'azure-asyncoperation': url } : { location: url, 'retry-after': '0' };
  };

  const deployedKey = (rg: string, resource: { type: string; name: string; scope?: string }): string => `${rg}|${resource.scope ?? ''}|${resource.type}/${resource.name}`.toLowerCase();
  const whatIfChanges = (template: { resources?: { type: string; name: string; scope?: string; properties?: unknown }[] }, rg: string) =>
    (template.resources ?? []).map((resource) => {
      const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/${resource.scope ? `${resource.scope}/providers/` : ''}${resource.type}/${resource.name}`;
      const before = deployed.get(deployedKey(rg, resource));
      if (before === undefined) return { resourceId, changeType: 'Create' };
      if (JSON.stringify(before) === JSON.stringify(resource.properties ?? null)) return { resourceId, changeType: 'NoChange' };
      return { resourceId, changeType: 'Modify', delta: [{ path: 'properties', propertyChangeType: 'Modify' }] };
    });

  const checkTemplate = (body: unknown, where: string): string[] => {
    const problems: string[] = [];
    const properties = (body as { properties?: { mode?: string; template?: { $schema?: string; resources?: unknown } } })?.properties;
    if (!properties) return [`${where}: no properties`];
    if (properties.mode !== 'Incremental' && properties.mode !== 'Complete') problems.push(`${where}: properties.mode must be Incremental or Complete`);
    if (!properties.template?.$schema?.includes('deploymentTemplate.json')) problems.push(`${where}: properties.template is not a deployment template`);
    if (!Array.isArray(properties.template?.resources)) problems.push(`${where}: template.resources must be an array`);
    return problems;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', endpoint);
    const method = (req.method ?? 'GET').toUpperCase();
    const bytes = await readBytes(req);
    const apiVersion = url.searchParams.get('api-version');
    requests.push({ method, path: decodeURIComponent(url.pathname), apiVersion });
    if (url.pathname.startsWith('/__host/')) return handleHost(req, res, url, bytes);
    if (req.headers.authorization !== `Bearer ${token}`) return armError(res, 401, 'AuthenticationFailed', 'missing or unknown bearer token');
    let body: unknown;
    if (bytes.length > 0) {
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        return reject(res, 400, 'InvalidRequestContent', `${method} ${url.pathname}: the body is not JSON`);
      }
    }

    const operation = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Resources\/operationresults\/([^/]+)$/.exec(url.pathname);
    if (operation && method === 'GET') {
      const state = operations.get(operation[1]);
      if (!state) return armError(res, 404, 'NotFound', 'no such operation');
      if (state.pollsLeft > 0) {
        state.pollsLeft -= 1;
        // Both patterns: Azure-AsyncOperation answers a status body; Location answers 202 until done.
        return state.done().status === 0 ? sendJson(res, 200, { status: 'InProgress' }) : sendJson(res, 202, undefined, { location: `${endpoint}${url.pathname}${url.search}`, 'retry-after': '0' });
      }
      const { status, body: answer } = state.done();
      return sendJson(res, status === 0 ? 200 : status, answer);
    }

    const rgOnly = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i.exec(url.pathname);
    if (rgOnly) {
      if (apiVersion !== DEPLOY_API_VERSIONS.resources) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      if (method !== 'PUT') return reject(res, 405, 'MethodNotAllowed', `${method} on a resource group`);
      if (typeof (body as { location?: unknown })?.location !== 'string') return reject(res, 400, 'LocationRequired', 'a resource group needs a location');
      const existed = resourceGroups.has(rgOnly[2].toLowerCase());
      resourceGroups.add(rgOnly[2].toLowerCase());
      return sendJson(res, existed ? 200 : 201, { id: url.pathname, name: rgOnly[2], location: (body as { location: string }).location, properties: { provisioningState: 'Succeeded' } });
    }

    const deployment = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/Microsoft\.Resources\/deployments\/([^/]+?)(\/whatIf)?$/i.exec(url.pathname);
    if (deployment) {
      const [, sub, rg, name, isWhatIf] = deployment;
      if (sub !== subscriptionId) return reject(res, 404, 'SubscriptionNotFound', `unknown subscription ${sub}`);
      if (apiVersion !== DEPLOY_API_VERSIONS.resources) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      if (!resourceGroups.has(rg.toLowerCase()) && !(isWhatIf && method === 'POST')) {
        if (method !== 'GET') return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
      }
      if (isWhatIf) {
        if (method !== 'POST') return reject(res, 405, 'MethodNotAllowed', `${method} on whatIf`);
        const problems = checkTemplate(body, 'whatIf');
        if (typeof (body as { location?: unknown })?.location !== 'string') problems.push('whatIf: location is required');
        if (problems.length) return reject(res, 400, 'InvalidTemplate', problems.join('; '));
        if (!resourceGroups.has(rg.toLowerCase())) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
        const template = (body as { properties: { template: { resources: { type: string; name: string }[] } } }).properties.template;
        return sendJson(res, 202, undefined, startOperation('location', () => ({ status: 200, body: { status: 'Succeeded', properties: { changes: whatIfChanges(template, rg) } } })));
      }
      if (method === 'PUT') {
        const problems = checkTemplate(body, 'deployment');
        if (problems.length) return reject(res, 400, 'InvalidTemplate', problems.join('; '));
        const properties = (body as { properties: { template: { resources: { type: string; name: string; properties?: unknown }[]; outputs?: Record<string, { type: string }> }; parameters?: Record<string, unknown> } }).properties;
        deployments.set(name, { template: properties.template as unknown as Record<string, unknown>, parameters: properties.parameters ?? {} });
        const failure = deploymentFailure;
        deploymentFailure = undefined;
        if (!failure) for (const resource of properties.template.resources) deployed.set(deployedKey(rg, resource), resource.properties ?? null);
        const headers = startOperation('async', () => ({ status: 0, body: failure ? { status: 'Failed', error: failure } : { status: 'Succeeded' } }));
        return sendJson(res, 201, { id: url.pathname, name, properties: { provisioningState: 'Accepted', mode: 'Incremental' } }, headers);
      }
      if (method === 'GET') {
        const stored = deployments.get(name);
        if (!stored) return armError(res, 404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);
        const outputs = Object.fromEntries(Object.entries((stored.template.outputs ?? {}) as Record<string, { type: string }>).map(([key, output]) => [key, { type: output.type, value: `${key}-value` }]));
        return sendJson(res, 200, { id: url.pathname, name, properties: { provisioningState: deploymentFailure ? 'Failed' : 'Succeeded', outputs } });
      }
      return reject(res, 405, 'MethodNotAllowed', `${method} on a deployment`);
    }

    const web = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)(?:\/slots\/([^/]+))?(\/.*)?$/i.exec(url.pathname);
    if (web) {
      const [, sub, , siteName, slotName, action = ''] = web;
      if (sub !== subscriptionId) return reject(res, 404, 'SubscriptionNotFound', `unknown subscription ${sub}`);
      if (apiVersion !== DEPLOY_API_VERSIONS.web) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion} (expected ${DEPLOY_API_VERSIONS.web})`);
      const site = sites.get(siteName);
      if (!site) return armError(res, 404, 'ResourceNotFound', `The Resource 'Microsoft.Web/sites/${siteName}' was not found.`);
      if (slotName && !slotOf(site, slotName)) return armError(res, 404, 'ResourceNotFound', `slot ${slotName} not found`);
      const slot = slotOf(site, slotName ?? 'production')!;
      if (method === 'GET' && action === '') return sendJson(res, 200, siteResource(site, slotName));
      if (method === 'POST' && action === '/config/appsettings/list') return sendJson(res, 200, { name: 'appsettings', properties: slot.settings });
      if (method === 'GET' && action === '/functions') {
        return sendJson(res, 200, { value: slot.functions.map((fn) => ({ id: `${url.pathname}/${fn}`, name: `${siteName}/${fn}`, type: 'Microsoft.Web/sites/functions', properties: { name: fn, isDisabled: false } })) });
      }
      if (method === 'POST' && action === '/slotsswap' && slotName) {
        const target = (body as { targetSlot?: unknown })?.targetSlot;
        if (target !== 'production') return reject(res, 400, 'BadRequest', `slotsswap: targetSlot ${JSON.stringify(target)}`);
        if (typeof (body as { preserveVnet?: unknown }).preserveVnet !== 'boolean') return reject(res, 400, 'BadRequest', 'slotsswap: preserveVnet is required');
        // Content swaps; slot-sticky settings and identities stay (the Front Door ID is the same in both here).
        const swap = (a: SlotState, b: SlotState): void => {
          [a.packageDigest, b.packageDigest] = [b.packageDigest, a.packageDigest];
          [a.packageBytes, b.packageBytes] = [b.packageBytes, a.packageBytes];
          [a.functions, b.functions] = [b.functions, a.functions];
        };
        swap(site.production, site.staging);
        if (brokenAfterSwap.get(site.name) === 'armed') brokenAfterSwap.set(site.name, 'broken');
        else brokenAfterSwap.delete(site.name);
        return sendJson(res, 202, undefined, startOperation('location', () => ({ status: 200, body: undefined })));
      }
      return reject(res, 404, 'NotFound', `${method} ${url.pathname}: not an App Service call keyfront makes`);
    }
    return reject(res, 404, 'InvalidResourceType', `${method} ${url.pathname}: not a path keyfront deploy should call`);
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((error: unknown) => armError(res, 500, 'InternalServerError', (error as Error).message));
  });
  await new Promise<void>((resolve, reject_) => {
    server.once('error', reject_);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: true });
  const dispatcher = new UndiciAgent({ connect: { ca: cert } });
  const standInFetch = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;

  return {
    endpoint,
    subscriptionId,
    credential: { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) },
    clientOptions: () => ({ endpoint, agent, retryOptions: { maxRetries: 0 } }),
    fetch: standInFetch,
    hostUrl: (hostName) => `${endpoint}/__host/${hostName}`,
    sites,
    deployments,
    resourceGroups,
    requests,
    violations,
    breakProductionAfterSwap: (site) => {
      brokenAfterSwap.set(site, 'armed');
    },
    failDeployment: (error) => {
      deploymentFailure = error;
    },
    seedSite: (name, app, productionPackage) => {
      const fdid = randomUUID();
      const settings: Record<string, string> = app === 'api' ? { KEYFRONT_FRONT_DOOR_ID: fdid } : { 'AzureWebJobs.publishExports.Disabled': 'false' };
      const site: SiteState = {
        name,
        app,
        production: { packageDigest: digest(productionPackage), packageBytes: productionPackage, settings: { ...settings }, functions: functionsOf(app) },
        staging: { packageDigest: '', settings: app === 'api' ? { ...settings } : { 'AzureWebJobs.publishExports.Disabled': 'true' }, functions: [] },
      };
      sites.set(name, site);
      return site;
    },
    stop: async () => {
      agent.destroy();
      await dispatcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
