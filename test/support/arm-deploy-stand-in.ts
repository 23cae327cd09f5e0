/**
 * An HTTP stand-in for the Azure endpoints `keyfront deploy apply|release` call, shaped as
 * documented (no emulator exists for them), behind which a deployment really happens: templates
 * are evaluated and provisioned by `arm-deployment.ts` (with its refusals), the sites, slots and
 * their hosts follow from what was provisioned (`app-service-stand-in.ts`), the packages live in
 * Azurite (HTTPS, Entra ID tokens), and the profile's Front Door forwards `/api/*` to the API.
 *
 * ARM (bearer token, `api-version` checked):
 * - Resource Groups - Create Or Update (PUT resourcegroups/{rg}, 2025-04-01)
 * - Deployments - Create Or Update (201 + Azure-AsyncOperation), Get, What If (202 + Location)
 * - Vaults - Get Deleted (Microsoft.KeyVault/locations/{l}/deletedVaults/{name}, 2023-07-01)
 * - Web Apps (2025-05-01): Get (Slot), List / Update Application Settings (Slot), List Functions /
 *   List Instance Functions Slot, Sync Function Triggers (Slot), Swap Slot (202 + Location)
 * - AFD Endpoints - Get (Microsoft.Cdn 2024-02-01)
 * Key Vault's data plane, per deployed vault (`startKeyVault`): key-vault-stand-in.ts, its keys
 * seeded from the deployed key resources and its callers authorized by the role assignments of the
 * world (data actions, e.g. keys/create/action that Key Vault Crypto User lacks); a new key version
 * becomes the key resource's `keyUriWithVersion` ("the URI to retrieve the current version of the
 * key", https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys).
 * Hosts, reached as `{endpoint}/__host/{hostName}/...`:
 * - `{account}.blob.core.windows.net` of an account Azurite holds: anonymous reads only, which
 *   Azurite answers for containers with public access (the exports container) and refuses otherwise;
 * - `{site}[-{slot}].azurewebsites.net` and their `.scm.` hosts: App Service, requests from outside
 *   (the operator's or a runner's address), access restrictions first;
 * - the Front Door endpoint's host: `/api/*` goes to the API origin group's first enabled origin by
 *   priority, from the `AzureFrontDoor.Backend` range with the profile's `X-Azure-FDID` (the stand-in
 *   does not model probe-based failover: the local edge and the drills do).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, BlockBlobClient, newPipeline, StorageSharedKeyCredential, type Pipeline } from '@azure/storage-blob';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import type { ArmTemplate } from '../../infra/arm';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { armError, makeCertificate, sendJson } from './arm-stand-in';
import { deleteResourceGroup, newWorld, roleGrants, runDeployment, type AzureWorld, type DeployedResource, type DeploymentProblem } from './arm-deployment';
import { FRONT_DOOR_SOURCE, OUTSIDE_SOURCE, startAppServiceStandIn, type AppServiceStandIn } from './app-service-stand-in';
import { resourceGroupResourceId, standInGuid } from './arm-template-eval';
import { isAuthorized } from './azure-roles';
import { startKeyVaultStandIn, type KeyVaultStandIn } from './key-vault-stand-in';

export const DEPLOY_API_VERSIONS = { resources: '2025-04-01', web: '2025-05-01', cdn: '2024-02-01', keyVault: '2023-07-01' } as const;
export { BROKEN_HEALTH_MARKER, BROKEN_START_MARKER } from './app-service-stand-in';

export interface DeployRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  /** For host requests: the host name. */
  host?: string;
}

export interface ArmDeployStandInOptions {
  /** Storage accounts Azurite holds (the packages accounts of the prefixes a test deploys). */
  blobAccounts: string[];
}

export interface StoredDeployment {
  template: ArmTemplate;
  parameters: Record<string, { value: unknown }>;
  problems: DeploymentProblem[];
  outputs: Record<string, { type: string; value: unknown }>;
}

export interface ArmDeployStandIn {
  endpoint: string;
  subscriptionId: string;
  credential: TokenCredential;
  clientOptions(): { endpoint: string; agent: Agent; retryOptions: { maxRetries: number } };
  /** fetch and host mapping for requests to hosts (Front Door, apps). */
  fetch: typeof fetch;
  hostUrl(hostName: string): string;
  /** A packages blob by its Azure URL, reached in Azurite with `credential` (what the release uploads with). */
  blobClient(url: string, credential: TokenCredential): BlockBlobClient;
  world: AzureWorld;
  appService: AppServiceStandIn;
  deployments: Map<string, StoredDeployment>;
  requests: DeployRequest[];
  violations: string[];
  /** The Front Door ID of a deployed profile. */
  frontDoorId(profileName: string): string;
  /** The principal (object id) the stand-in's credential signs in as: the operator. */
  operatorId: string;
  /** A credential that signs in as another principal (a Function App's identity, another operator). */
  credentialFor(principalId: string): TokenCredential;
  /** `az role assignment create`: a built-in role (by GUID) for a principal at a scope (a resource id). */
  assignRole(resourceGroup: string, principalId: string, roleGuid: string, scope: string): void;
  /** Starts the data plane of a deployed vault (its keys as deployed); the same one on later calls. */
  startKeyVault(resourceGroup: string, vaultName: string): Promise<KeyVaultStandIn>;
  /** A Blob service client of an account Azurite holds, with the account key (to place blobs as the publisher would). */
  blobService(account: string): BlobServiceClient;
  deleteResourceGroup(name: string): void;
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

/** An Entra ID access token for Azure Storage, as Azurite's `--oauth basic` checks it (unsigned). */
function storageToken(tenantId: string, objectId: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: `https://sts.windows.net/${tenantId}/`, aud: 'https://storage.azure.com', iat: now, nbf: now - 60, exp: now + 3600, oid: objectId })}.`;
}

/** A storage pipeline whose requests trust the stand-in's certificate. */
function pipelineWith(credential: StorageSharedKeyCredential | TokenCredential, agent: Agent): Pipeline {
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 1 } });
  pipeline.factories.push({ create: (next) => ({ sendRequest: (request) => next.sendRequest(Object.assign(request, { agent })) }) });
  return pipeline;
}

export async function startArmDeployStandIn(options: ArmDeployStandInOptions): Promise<ArmDeployStandIn> {
  const { cert, key } = makeCertificate();
  const tlsDir = mkdtempSync(path.join(tmpdir(), 'kf-deploy-tls-'));
  writeFileSync(path.join(tlsDir, 'cert.pem'), cert);
  writeFileSync(path.join(tlsDir, 'key.pem'), key, { mode: 0o600 });
  const accountKeys = Object.fromEntries(options.blobAccounts.map((account) => [account, randomBytes(32).toString('base64')]));
  const azurite: Azurite = await startAzurite({ tls: { certFile: path.join(tlsDir, 'cert.pem'), keyFile: path.join(tlsDir, 'key.pem'), oauth: true }, accounts: accountKeys });
  const agent = new Agent({ ca: cert, keepAlive: true });
  const blobDispatcher = new UndiciAgent({ connect: { ca: cert } });
  const blobUrl = (account: string) => `https://127.0.0.1:${azurite.port}/${account}`;
  const accountClient = (account: string) => new BlobServiceClient(blobUrl(account), pipelineWith(new StorageSharedKeyCredential(account, accountKeys[account]), agent));

  const token = `arm-deploy-stand-in-${randomBytes(12).toString('hex')}`;
  const world = newWorld();
  const operatorId = randomUUID();
  /** Bearer tokens of Key Vault's data plane: one per principal, as an Entra ID token names its `oid`. */
  const vaultTokens = new Map<string, string>();
  const vaultTokenOf = (principalId: string) => {
    if (!vaultTokens.has(principalId)) vaultTokens.set(principalId, `kv-${randomBytes(12).toString('hex')}`);
    return vaultTokens.get(principalId)!;
  };
  const principalOfVaultToken = (token: string) => [...vaultTokens].find(([, value]) => value === token)?.[0];
  const vaults = new Map<string, Promise<KeyVaultStandIn>>();
  const appService = startAppServiceStandIn(world, async (account, container, blob) => {
    if (!(account in accountKeys)) return undefined;
    const client = accountClient(account).getContainerClient(container).getBlockBlobClient(blob);
    return (await client.exists()) ? client.downloadToBuffer() : undefined;
  });
  const deployments: ArmDeployStandIn['deployments'] = new Map();
  const requests: DeployRequest[] = [];
  const violations: string[] = [];
  const operations = new Map<string, { pollsLeft: number; done: () => { status: number; body: unknown } }>();
  let endpoint = '';

  const reject = (res: ServerResponse, status: number, code: string, problem: string): void => {
    violations.push(problem);
    armError(res, status, code, problem);
  };
  const startOperation = (kind: 'async' | 'location', done: () => { status: number; body: unknown }): Record<string, string> => {
    const id = randomUUID();
    operations.set(id, { pollsLeft: 1, done });
    const url = `${endpoint}/subscriptions/${world.subscriptionId}/providers/Microsoft.Resources/operationresults/${id}?api-version=${DEPLOY_API_VERSIONS.resources}`;
    return kind === 'async' ? { 'azure-asyncoperation': url } : { location: url, 'retry-after': '0' };
  };
  const resourcesOf = (rg: string) => [...(world.resourceGroups.get(rg.toLowerCase())?.resources.values() ?? [])];
  const allResources = () => [...world.resourceGroups.values()].flatMap((group) => [...group.resources.values()]);

  /** Follows the deployed resources into App Service and Azurite (containers of accounts it holds). */
  const provisioned: Promise<void>[] = [];
  const onProvisioned = (rg: string) => (resource: DeployedResource) => {
    provisioned.push(appService.onProvisioned(rg, resource));
    const [account, , container] = resource.name.split('/');
    if (resource.type.toLowerCase() === 'microsoft.storage/storageaccounts/blobservices/containers' && account in accountKeys) {
      const access = resource.properties.publicAccess === 'Blob' ? 'blob' : resource.properties.publicAccess === 'Container' ? 'container' : undefined;
      provisioned.push(accountClient(account).getContainerClient(container).createIfNotExists(access ? { access } : {}).then(() => undefined));
    }
  };

  /** The Front Door endpoint whose host this is: routes `/api/*` to its API origins. */
  async function frontDoor(hostName: string, req: { method: string; path: string; headers: Record<string, string> }): Promise<{ status: number; body: unknown } | undefined> {
    const resources = allResources();
    const endpointResource = resources.find((r) => r.type.toLowerCase() === 'microsoft.cdn/profiles/afdendpoints' && r.runtime.hostName === hostName);
    if (!endpointResource) return undefined;
    const [profileName, endpointName] = endpointResource.name.split('/');
    const profile = resources.find((r) => r.type.toLowerCase() === 'microsoft.cdn/profiles' && r.name === profileName)!;
    const routes = resources.filter((r) => r.type.toLowerCase() === 'microsoft.cdn/profiles/afdendpoints/routes' && r.name.startsWith(`${profileName}/${endpointName}/`));
    const route = routes.find((r) => ((r.properties.patternsToMatch as string[]) ?? []).some((pattern) => (pattern.endsWith('/*') ? req.path.startsWith(pattern.slice(0, -1)) : req.path === pattern)) && String((r.properties.originGroup as { id: string }).id).toLowerCase().endsWith('/api'));
    if (!route) return { status: 404, body: { error: 'the stand-in Front Door serves only the API route' } };
    const groupId = String((route.properties.originGroup as { id: string }).id).toLowerCase();
    const origins = resources
      .filter((r) => r.type.toLowerCase() === 'microsoft.cdn/profiles/origingroups/origins' && r.id.toLowerCase().startsWith(`${groupId}/origins/`) && r.properties.enabledState !== 'Disabled')
      .sort((a, b) => Number(a.properties.priority) - Number(b.properties.priority));
    if (origins.length === 0) return { status: 503, body: { error: 'no enabled origin' } };
    const origin = origins[0];
    // Front Door overwrites X-Azure-FDID with its profile's ID and sends from its backend range.
    const headers = { ...req.headers, 'x-azure-fdid': String(profile.runtime.frontDoorId), host: String(origin.properties.originHostHeader ?? origin.properties.hostName) };
    return appService.request(String(origin.properties.hostName), { method: req.method, path: req.path, headers, source: FRONT_DOOR_SOURCE });
  }

  const handleHost = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const match = /^\/__host\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!match) return reject(res, 404, 'NotFound', `${url.pathname}: no such host path`);
    const [, hostName, rest] = match;
    requests[requests.length - 1].host = hostName;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
    const blobAccount = /^([a-z0-9]+)\.blob\.core\.windows\.net$/.exec(hostName)?.[1];
    if (blobAccount && blobAccount in accountKeys) {
      // An anonymous read, as from anywhere on the internet: Azurite decides by the container's public access.
      const answer = await undiciFetch(`${blobUrl(blobAccount)}${rest}${url.search}`, { method: req.method ?? 'GET', dispatcher: blobDispatcher });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
      return void res.end(Buffer.from(await answer.arrayBuffer()));
    }
    const request = { method: req.method ?? 'GET', path: `${rest}${url.search}`, headers };
    const answer = (await frontDoor(hostName, request)) ?? (await appService.request(hostName, { ...request, source: OUTSIDE_SOURCE }));
    if (typeof answer.body === 'string') {
      res.writeHead(answer.status, { 'content-type': 'text/html' });
      return void res.end(answer.body);
    }
    return sendJson(res, answer.status, answer.body);
  };

  const deployedView = (resource: DeployedResource) => ({ id: resource.id, name: resource.name.split('/').pop(), type: resource.type, location: resource.location, sku: resource.sku, properties: { ...resource.properties, ...resource.runtime, provisioningState: 'Succeeded' } });

  const whatIfChanges = (rg: string, template: ArmTemplate, parameters: Record<string, { value: unknown }>) => {
    const result = runDeployment(world, rg, template, parameters, { dryRun: true, rules: [] });
    return result.resources.map((resource) => {
      const before = world.resourceGroups.get(rg.toLowerCase())?.resources.get(resource.id.toLowerCase());
      if (!before) return { resourceId: resource.id, changeType: 'Create' };
      if (JSON.stringify(before.properties) === JSON.stringify(resource.deployed?.properties)) return { resourceId: resource.id, changeType: 'NoChange' };
      const paths = Object.keys({ ...before.properties, ...resource.deployed?.properties }).filter((k) => JSON.stringify(before.properties[k]) !== JSON.stringify(resource.deployed?.properties[k]));
      return { resourceId: resource.id, changeType: 'Modify', delta: paths.map((p) => ({ path: `properties.${p}`, propertyChangeType: 'Modify' })) };
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', endpoint);
    const method = (req.method ?? 'GET').toUpperCase();
    const bytes = await readBytes(req);
    const apiVersion = url.searchParams.get('api-version');
    requests.push({ method, path: decodeURIComponent(url.pathname), apiVersion });
    if (url.pathname.startsWith('/__host/')) return handleHost(req, res, url);
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
        return state.done().status === 0 ? sendJson(res, 200, { status: 'InProgress' }) : sendJson(res, 202, undefined, { location: `${endpoint}${url.pathname}${url.search}`, 'retry-after': '0' });
      }
      const { status, body: answer } = state.done();
      return sendJson(res, status === 0 ? 200 : status, answer);
    }

    const deletedVault = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.KeyVault\/locations\/([^/]+)\/deletedVaults\/([^/]+)$/i.exec(url.pathname);
    if (deletedVault) {
      if (apiVersion !== DEPLOY_API_VERSIONS.keyVault) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      if (method !== 'GET') return reject(res, 405, 'MethodNotAllowed', `${method} on a deleted vault`);
      const [, , location, name] = deletedVault;
      if (!world.deletedVaults.has(name.toLowerCase())) return armError(res, 404, 'NotFound', `The deleted vault '${name}' was not found.`);
      return sendJson(res, 200, { id: url.pathname, name, type: 'Microsoft.KeyVault/deletedVaults', properties: { location, purgeProtectionEnabled: true } });
    }

    const rgOnly = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i.exec(url.pathname);
    if (rgOnly) {
      if (apiVersion !== DEPLOY_API_VERSIONS.resources) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      const name = rgOnly[2];
      const existing = world.resourceGroups.get(name.toLowerCase());
      if (method === 'GET' || method === 'HEAD') return existing ? sendJson(res, method === 'HEAD' ? 204 : 200, method === 'HEAD' ? undefined : { id: url.pathname, name: existing.name, location: existing.location }) : armError(res, 404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
      if (method !== 'PUT') return reject(res, 405, 'MethodNotAllowed', `${method} on a resource group`);
      const location = (body as { location?: unknown })?.location;
      if (typeof location !== 'string') return reject(res, 400, 'LocationRequired', 'a resource group needs a location');
      if (!existing) world.resourceGroups.set(name.toLowerCase(), { name, location, resources: new Map() });
      return sendJson(res, existing ? 200 : 201, { id: url.pathname, name, location, properties: { provisioningState: 'Succeeded' } });
    }

    const deployment = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/Microsoft\.Resources\/deployments\/([^/]+?)(\/whatIf)?$/i.exec(url.pathname);
    if (deployment) {
      const [, sub, rg, name, isWhatIf] = deployment;
      if (sub !== world.subscriptionId) return reject(res, 404, 'SubscriptionNotFound', `unknown subscription ${sub}`);
      if (apiVersion !== DEPLOY_API_VERSIONS.resources) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      const properties = (body as { properties?: { mode?: string; template?: ArmTemplate; parameters?: Record<string, { value: unknown }> } })?.properties;
      if (method !== 'GET') {
        const problems: string[] = [];
        if (!properties) problems.push('no properties');
        else {
          if (properties.mode !== 'Incremental' && properties.mode !== 'Complete') problems.push('properties.mode must be Incremental or Complete');
          if (!properties.template?.$schema?.includes('deploymentTemplate.json')) problems.push('properties.template is not a deployment template');
          if (!Array.isArray(properties.template?.resources)) problems.push('template.resources must be an array');
        }
        if (isWhatIf && typeof (body as { location?: unknown }).location !== 'string') problems.push('whatIf: location is required');
        if (problems.length) return reject(res, 400, 'InvalidTemplate', problems.join('; '));
      }
      // What-if and deployments both need the resource group (What If, Create Or Update: 404 ResourceGroupNotFound).
      if (!world.resourceGroups.has(rg.toLowerCase())) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
      if (isWhatIf) {
        if (method !== 'POST') return reject(res, 405, 'MethodNotAllowed', `${method} on whatIf`);
        const changes = whatIfChanges(rg, properties!.template!, properties!.parameters ?? {});
        return sendJson(res, 202, undefined, startOperation('location', () => ({ status: 200, body: { status: 'Succeeded', properties: { changes } } })));
      }
      if (method === 'PUT') {
        const result = runDeployment(world, rg, properties!.template!, properties!.parameters ?? {}, { onProvisioned: onProvisioned(rg) });
        await Promise.all(provisioned.splice(0));
        // A host that could not start (its role assignment came later in the deployment) tries again.
        for (const site of appService.sites.values()) if (site.resourceGroup.toLowerCase() === rg.toLowerCase()) for (const slot of site.slots.values()) if (!slot.host.started) await appService.restart(slot);
        deployments.set(name, { template: properties!.template!, parameters: properties!.parameters ?? {}, problems: result.problems, outputs: result.outputs });
        const invalid = result.problems.filter((p) => p.phase === 'validation');
        if (invalid.length) return armError(res, 400, 'InvalidTemplateDeployment', invalid.map((p) => `${p.code}: ${p.message}`).join('; '));
        const failed = result.problems.length > 0;
        const error = { code: 'DeploymentFailed', message: 'At least one resource deployment operation failed. Please list deployment operations for details.', details: result.problems.map((p) => ({ code: p.code, message: p.message, target: p.target })) };
        return sendJson(res, 201, { id: url.pathname, name, properties: { provisioningState: 'Accepted', mode: 'Incremental' } }, startOperation('async', () => ({ status: 0, body: failed ? { status: 'Failed', error } : { status: 'Succeeded' } })));
      }
      if (method === 'GET') {
        const stored = deployments.get(name);
        if (!stored) return armError(res, 404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);
        return sendJson(res, 200, { id: url.pathname, name, properties: { provisioningState: stored.problems.length ? 'Failed' : 'Succeeded', outputs: stored.outputs } });
      }
      return reject(res, 405, 'MethodNotAllowed', `${method} on a deployment`);
    }

    const cdnEndpoint = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Cdn\/profiles\/([^/]+)\/afdEndpoints\/([^/]+)$/i.exec(url.pathname);
    if (cdnEndpoint) {
      if (apiVersion !== DEPLOY_API_VERSIONS.cdn) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion}`);
      if (method !== 'GET') return reject(res, 405, 'MethodNotAllowed', `${method} ${url.pathname}: a release only reads the endpoint`);
      const found = resourcesOf(cdnEndpoint[2]).find((r) => r.id.toLowerCase() === url.pathname.toLowerCase());
      return found ? sendJson(res, 200, deployedView(found)) : armError(res, 404, 'NotFound', `${url.pathname} was not found`);
    }

    const web = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)(?:\/slots\/([^/]+))?(\/.*)?$/i.exec(url.pathname);
    if (web) {
      const [, sub, rg, siteName, slotName, action = ''] = web;
      if (sub !== world.subscriptionId) return reject(res, 404, 'SubscriptionNotFound', `unknown subscription ${sub}`);
      if (apiVersion !== DEPLOY_API_VERSIONS.web) return reject(res, 400, 'InvalidApiVersionParameter', `${url.pathname}: api-version ${apiVersion} (expected ${DEPLOY_API_VERSIONS.web})`);
      if (!world.resourceGroups.has(rg.toLowerCase())) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
      const site = appService.sites.get(siteName.toLowerCase());
      if (!site) return armError(res, 404, 'ResourceNotFound', `The Resource 'Microsoft.Web/sites/${siteName}' under resource group '${rg}' was not found.`);
      const slot = appService.slotOf(siteName, slotName ?? 'production');
      if (!slot) return armError(res, 404, 'ResourceNotFound', `The Resource 'Microsoft.Web/sites/${siteName}/slots/${slotName}' was not found.`);
      if (method === 'GET' && action === '') {
        const resource = resourcesOf(rg).find((r) => r.id.toLowerCase() === url.pathname.toLowerCase());
        return resource ? sendJson(res, 200, deployedView(resource)) : armError(res, 404, 'ResourceNotFound', url.pathname);
      }
      if (method === 'POST' && action === '/config/appsettings/list') return sendJson(res, 200, { name: 'appsettings', properties: slot.settings });
      if (method === 'PUT' && action === '/config/appsettings') {
        const settings = (body as { properties?: unknown })?.properties;
        if (!settings || typeof settings !== 'object' || !Object.values(settings).every((v) => typeof v === 'string')) return reject(res, 400, 'BadRequest', 'appsettings: properties must map names to strings');
        await appService.replaceSettings(slot, settings as Record<string, string>);
        return sendJson(res, 200, { name: 'appsettings', properties: slot.settings });
      }
      if (method === 'POST' && action === '/syncfunctiontriggers') {
        appService.syncTriggers(slot);
        res.writeHead(204);
        return void res.end();
      }
      if (method === 'GET' && action === '/functions') {
        return sendJson(res, 200, { value: appService.listFunctions(slot).map((fn) => ({ id: `${url.pathname}/${fn}`, name: `${siteName}/${fn}`, type: 'Microsoft.Web/sites/functions', properties: { name: fn, isDisabled: false } })) });
      }
      if (method === 'POST' && action === '/slotsswap' && slotName) {
        const target = (body as { targetSlot?: unknown })?.targetSlot;
        if (target !== 'production') return reject(res, 400, 'BadRequest', `slotsswap: targetSlot ${JSON.stringify(target)}`);
        if (typeof (body as { preserveVnet?: unknown }).preserveVnet !== 'boolean') return reject(res, 400, 'BadRequest', 'slotsswap: preserveVnet is required');
        let failure: string | undefined;
        try {
          await appService.swap(site, slotName);
        } catch (error) {
          failure = (error as Error).message;
        }
        // Swap Slot is long-running: its Location answers 200 once done, or the error that stopped it.
        return sendJson(res, 202, undefined, startOperation('location', () => (failure ? { status: 400, body: { error: { code: 'Conflict', message: failure } } } : { status: 200, body: undefined })));
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
  const dispatcher = new UndiciAgent({ connect: { ca: cert } });
  const standInFetch = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;

  /** ARM takes the stand-in's token (it checks no ARM roles); Azure Storage and Key Vault an Entra ID token of the principal. */
  function tokenFor(principalId: string, scopes: string | string[]): AccessToken {
    const scope = [scopes].flat();
    const value = scope.some((s) => s.startsWith('https://storage.azure.com')) ? storageToken(world.tenantId, principalId) : scope.some((s) => s.startsWith('https://vault.azure.net')) ? vaultTokenOf(principalId) : token;
    return { token: value, expiresOnTimestamp: Date.now() + 3600_000 };
  }

  /** The data plane of a deployed vault: its one signing key as deployed, callers checked against the world's role assignments. */
  async function startVault(resourceGroup: string, vaultName: string): Promise<KeyVaultStandIn> {
    const keyResource = resourcesOf(resourceGroup).find((r) => r.type.toLowerCase() === 'microsoft.keyvault/vaults/keys' && r.name.split('/')[0].toLowerCase() === vaultName.toLowerCase());
    if (!keyResource) throw new Error(`no deployed key in vault ${vaultName}`);
    const keyName = keyResource.name.split('/')[1];
    const keyIdOf = (name: string) => resourceGroupResourceId(world.subscriptionId, resourceGroup, 'Microsoft.KeyVault/vaults/keys', [vaultName, name]);
    return startKeyVaultStandIn({
      keyName,
      keyVersion: String(keyResource.runtime.keyUriWithVersion).split('/').pop()!,
      keyType: keyResource.properties.kty === 'EC-HSM' ? 'EC-HSM' : 'EC',
      authorize: (bearer, action, name) => {
        const principal = principalOfVaultToken(bearer);
        return principal === undefined ? undefined : isAuthorized(roleGrants(world, resourceGroup), principal, action, keyIdOf(name), { data: true });
      },
      resourceIdOf: keyIdOf,
      onVersionCreated: (name, version) => {
        if (name === keyName) keyResource.runtime.keyUriWithVersion = `https://${vaultName}.vault.azure.net/keys/${name}/${version}`;
      },
    });
  }

  return {
    endpoint,
    subscriptionId: world.subscriptionId,
    credential: {
      // ARM takes the stand-in's token; Azure Storage an Entra ID token of the operator.
      getToken: async (scopes): Promise<AccessToken> => tokenFor(operatorId, scopes),
    },
    operatorId,
    credentialFor: (principalId) => ({ getToken: async (scopes): Promise<AccessToken> => tokenFor(principalId, scopes) }),
    assignRole: (resourceGroup, principalId, roleGuid, scope) => {
      const group = world.resourceGroups.get(resourceGroup.toLowerCase());
      if (!group) throw new Error(`no resource group ${resourceGroup}`);
      const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${standInGuid(scope, principalId, roleGuid)}`;
      const roleDefinitionId = `/subscriptions/${world.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
      group.resources.set(id.toLowerCase(), { id, type: 'Microsoft.Authorization/roleAssignments', name: id.split('/').pop()!, properties: { principalId, roleDefinitionId, principalType: 'User' }, runtime: {} });
    },
    startKeyVault: (resourceGroup, vaultName) => {
      const key = `${resourceGroup}/${vaultName}`.toLowerCase();
      if (!vaults.has(key)) vaults.set(key, startVault(resourceGroup, vaultName));
      return vaults.get(key)!;
    },
    blobService: accountClient,
    clientOptions: () => ({ endpoint, agent, retryOptions: { maxRetries: 0 } }),
    fetch: standInFetch,
    hostUrl: (hostName) => `${endpoint}/__host/${hostName}`,
    blobClient: (url, credential) => {
      const match = /^https:\/\/([a-z0-9]+)\.blob\.core\.windows\.net\/(.+)$/.exec(url);
      if (!match) throw new Error(`not a blob URL: ${url}`);
      return new BlockBlobClient(`${blobUrl(match[1])}/${match[2]}`, pipelineWith(credential, agent));
    },
    world,
    appService,
    deployments,
    requests,
    violations,
    frontDoorId: (profileName) => String(allResources().find((r) => r.type.toLowerCase() === 'microsoft.cdn/profiles' && r.name === profileName)?.runtime.frontDoorId),
    deleteResourceGroup: (name) => {
      deleteResourceGroup(world, name);
      for (const [siteKey, site] of appService.sites) if (site.resourceGroup.toLowerCase() === name.toLowerCase()) appService.sites.delete(siteKey);
    },
    stop: async () => {
      await Promise.all([...vaults.values()].map(async (vault) => (await vault).stop()));
      await blobDispatcher.close();
      agent.destroy();
      await dispatcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await azurite.stop();
      rmSync(tlsDir, { recursive: true, force: true });
    },
  };
}
