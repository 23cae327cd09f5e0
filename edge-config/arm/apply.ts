/**
 * `keyfront edge apply`: converges Azure to the declaration with `@azure/arm-cdn` (Front Door
 * Standard/Premium) and `@azure/arm-frontdoor` (its WAF policy), then sets the API Function Apps'
 * access restriction to the profile's Front Door ID. It first reads what exists and computes a
 * plan (create / update / delete / unchanged, with the fields that differ); only then does it
 * change anything, parents before children. Running it twice changes nothing the second time.
 */
import { CdnManagementClient, type CdnManagementClientOptionalParams } from '@azure/arm-cdn';
import { FrontDoorManagementClient, type FrontDoorManagementClientOptionalParams } from '@azure/arm-frontdoor';
import type { TokenCredential } from '@azure/core-auth';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import type { EdgeDeclaration } from '../declaration';
import { concreteIds, edgeResources, isSiteConfig, WEB_API_VERSION, type EdgeResource, type ResourceType } from './resources';

export interface ResourceGroupRef {
  subscriptionId: string;
  resourceGroupName: string;
}

export interface EdgeClients {
  cdn: CdnManagementClient;
  waf: FrontDoorManagementClient;
}

export interface EdgeClientOptions {
  /** Defaults to `new DefaultAzureCredential()`. */
  credential?: TokenCredential;
  /** Passed to both clients (tests point `endpoint` at the ARM stand-in). */
  clientOptions?: CdnManagementClientOptionalParams & FrontDoorManagementClientOptionalParams;
  /** Poll interval of long-running operations when ARM sends no Retry-After. */
  pollIntervalInMs?: number;
}

export function createEdgeClients(subscriptionId: string, options: EdgeClientOptions = {}): EdgeClients {
  const credential = options.credential ?? new DefaultAzureCredential();
  return { cdn: new CdnManagementClient(credential, subscriptionId, options.clientOptions), waf: new FrontDoorManagementClient(credential, subscriptionId, options.clientOptions) };
}

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface PlanItem {
  action: PlanAction;
  type: ResourceType;
  names: string[];
  /** Fields that differ (update), or why the item is as it is. */
  details: string[];
  resource?: EdgeResource;
}

export interface EdgePlan {
  target: ResourceGroupRef & { profileName: string };
  items: PlanItem[];
  /** The profile's Front Door ID, when the profile exists already. */
  frontDoorId?: string;
}

export class EdgeApplyError extends Error {
  override readonly name = 'EdgeApplyError';
}

type Model = Record<string, unknown>;

interface Operations {
  get(names: string[]): Promise<Model | undefined>;
  put(names: string[], model: Model): Promise<void>;
  remove(names: string[]): Promise<void>;
}

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

async function namesOf(pages: AsyncIterable<{ name?: string }>): Promise<string[]> {
  const names: string[] = [];
  for await (const item of pages) if (item.name) names.push(item.name);
  return names;
}

function operationsFor(clients: EdgeClients, target: ResourceGroupRef, options: EdgeClientOptions): Record<ResourceType, Operations> {
  const rg = target.resourceGroupName;
  const lro = { updateIntervalInMs: options.pollIntervalInMs };
  const { cdn, waf } = clients;
  // A site's config/web is sites/{site}/config/web, a slot's sites/{site}/slots/{slot}/config/web.
  const siteConfigUrl = (names: string[]) =>
    `${options.clientOptions?.endpoint ?? cdn.$host}/subscriptions/${target.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${names[0]}${names.length === 3 ? `/slots/${names[1]}` : ''}/config/web?api-version=${WEB_API_VERSION}`;
  // No SDK of ours covers App Service; its REST call goes through the CDN client's authenticated pipeline.
  const siteRequest = async (method: 'GET' | 'PATCH', names: string[], body?: unknown): Promise<Model | undefined> => {
    const request = createPipelineRequest({ url: siteConfigUrl(names), method, body: body === undefined ? undefined : JSON.stringify(body) });
    request.headers.set('content-type', 'application/json');
    const response = await cdn.sendRequest(request);
    if (response.status === 404) return undefined;
    const parsed = response.bodyAsText ? (JSON.parse(response.bodyAsText) as Model) : {};
    if (response.status >= 300) {
      const error = (parsed.error ?? {}) as { code?: string; message?: string };
      throw Object.assign(new Error(`${error.code ?? `HTTP ${response.status}`}: ${error.message ?? 'request failed'}`), { statusCode: response.status, code: error.code });
    }
    return { ...((parsed.properties as Model) ?? {}) };
  };
  const siteConfig: Operations = {
    get: async (names) => withoutImplicitRestrictions(await siteRequest('GET', names)),
    // PATCH: only the restriction settings change, the rest of the site's configuration stays.
    put: async (names, model) => void (await siteRequest('PATCH', names, { properties: model })),
    remove: async () => undefined,
  };
  return {
    'Microsoft.Cdn/profiles': {
      get: ([p]) => orUndefined(cdn.profiles.get(rg, p)) as Promise<Model | undefined>,
      put: async ([p], model) => void (await cdn.profiles.beginCreateAndWait(rg, p, model as never, lro)),
      remove: async ([p]) => cdn.profiles.beginDeleteAndWait(rg, p, lro),
    },
    'Microsoft.Cdn/profiles/afdEndpoints': {
      get: ([p, e]) => orUndefined(cdn.afdEndpoints.get(rg, p, e)) as Promise<Model | undefined>,
      put: async ([p, e], model) => void (await cdn.afdEndpoints.beginCreateAndWait(rg, p, e, model as never, lro)),
      remove: async ([p, e]) => cdn.afdEndpoints.beginDeleteAndWait(rg, p, e, lro),
    },
    'Microsoft.Cdn/profiles/customDomains': {
      get: ([p, d]) => orUndefined(cdn.afdCustomDomains.get(rg, p, d)) as Promise<Model | undefined>,
      put: async ([p, d], model) => void (await cdn.afdCustomDomains.beginCreateAndWait(rg, p, d, model as never, lro)),
      remove: async ([p, d]) => cdn.afdCustomDomains.beginDeleteAndWait(rg, p, d, lro),
    },
    'Microsoft.Cdn/profiles/originGroups': {
      get: ([p, g]) => orUndefined(cdn.afdOriginGroups.get(rg, p, g)) as Promise<Model | undefined>,
      put: async ([p, g], model) => void (await cdn.afdOriginGroups.beginCreateAndWait(rg, p, g, model as never, lro)),
      remove: async ([p, g]) => cdn.afdOriginGroups.beginDeleteAndWait(rg, p, g, lro),
    },
    'Microsoft.Cdn/profiles/originGroups/origins': {
      get: ([p, g, o]) => orUndefined(cdn.afdOrigins.get(rg, p, g, o)) as Promise<Model | undefined>,
      put: async ([p, g, o], model) => void (await cdn.afdOrigins.beginCreateAndWait(rg, p, g, o, model as never, lro)),
      remove: async ([p, g, o]) => cdn.afdOrigins.beginDeleteAndWait(rg, p, g, o, lro),
    },
    'Microsoft.Cdn/profiles/ruleSets': {
      get: ([p, s]) => orUndefined(cdn.ruleSets.get(rg, p, s)) as Promise<Model | undefined>,
      put: async ([p, s]) => void (await cdn.ruleSets.create(rg, p, s)),
      remove: async ([p, s]) => cdn.ruleSets.beginDeleteAndWait(rg, p, s, lro),
    },
    'Microsoft.Cdn/profiles/ruleSets/rules': {
      get: ([p, s, r]) => orUndefined(cdn.rules.get(rg, p, s, r)) as Promise<Model | undefined>,
      put: async ([p, s, r], model) => void (await cdn.rules.beginCreateAndWait(rg, p, s, r, model as never, lro)),
      remove: async ([p, s, r]) => cdn.rules.beginDeleteAndWait(rg, p, s, r, lro),
    },
    'Microsoft.Cdn/profiles/afdEndpoints/routes': {
      get: ([p, e, r]) => orUndefined(cdn.routes.get(rg, p, e, r)) as Promise<Model | undefined>,
      put: async ([p, e, r], model) => void (await cdn.routes.beginCreateAndWait(rg, p, e, r, model as never, lro)),
      remove: async ([p, e, r]) => cdn.routes.beginDeleteAndWait(rg, p, e, r, lro),
    },
    'Microsoft.Cdn/profiles/securityPolicies': {
      get: ([p, s]) => orUndefined(cdn.securityPolicies.get(rg, p, s)) as Promise<Model | undefined>,
      put: async ([p, s], model) => void (await cdn.securityPolicies.beginCreateAndWait(rg, p, s, model as never, lro)),
      remove: async ([p, s]) => cdn.securityPolicies.beginDeleteAndWait(rg, p, s, lro),
    },
    'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies': {
      get: ([w]) => orUndefined(waf.policies.get(rg, w)) as Promise<Model | undefined>,
      put: async ([w], model) => void (await waf.policies.beginCreateOrUpdateAndWait(rg, w, model as never, lro)),
      remove: async ([w]) => waf.policies.beginDeleteAndWait(rg, w, lro),
    },
    'Microsoft.Web/sites/config': siteConfig,
    'Microsoft.Web/sites/slots/config': siteConfig,
  };
}

/** Priority of App Service's implicit rule for requests no access restriction matched. */
const IMPLICIT_RESTRICTION_PRIORITY = 2147483647;

/**
 * A site's configuration without the implicit "Allow all" / "Deny all" rule App Service appends
 * when it reads restrictions back (it follows `ipSecurityRestrictionsDefaultAction`); nobody writes
 * it, so comparing with it would plan an update on every apply.
 */
function withoutImplicitRestrictions(config: Model | undefined): Model | undefined {
  if (!config) return config;
  const out = { ...config };
  for (const field of ['ipSecurityRestrictions', 'scmIpSecurityRestrictions']) {
    const rules = out[field];
    if (Array.isArray(rules)) out[field] = rules.filter((rule: Model | null) => !(rule?.priority === IMPLICIT_RESTRICTION_PRIORITY && String(rule.ipAddress).toLowerCase() === 'any'));
  }
  return out;
}

/**
 * The SDK's model of a resource: ARM's `properties` flattened beside `location` and `sku`, and
 * the one nested flattening of the models we use (the WAF's `policySettings.logScrubbing`).
 */
function modelOf(resource: EdgeResource): Model {
  const properties = { ...(resource.properties ?? {}) };
  const settings = properties.policySettings as Model | undefined;
  if (resource.type === 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies' && settings?.logScrubbing) {
    const { logScrubbing, ...rest } = settings;
    properties.policySettings = { ...rest, ...(logScrubbing as Model) };
  }
  return { ...(resource.location ? { location: resource.location } : {}), ...(resource.sku ? { sku: resource.sku } : {}), ...properties };
}

/** Paths where `actual` differs from `desired`, comparing only what the declaration sets. */
function differences(desired: unknown, actual: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) out.push(path);
    else desired.forEach((item, index) => differences(item, actual[index], `${path}[${index}]`, out));
  } else if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object') out.push(path);
    else for (const [key, value] of Object.entries(desired)) differences(value, (actual as Model)[key], path ? `${path}.${key}` : key, out);
  } else if (typeof desired === 'string' && typeof actual === 'string' && (desired.startsWith('/subscriptions/') || path === 'location')) {
    // Azure returns resource ids and locations in its own casing.
    if (desired.toLowerCase() !== actual.toLowerCase()) out.push(path);
  } else if (desired !== actual) {
    out.push(path);
  }
  return out;
}

const CREATE_ORDER: ResourceType[] = [
  'Microsoft.Cdn/profiles',
  'Microsoft.Cdn/profiles/afdEndpoints',
  'Microsoft.Cdn/profiles/customDomains',
  'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies',
  'Microsoft.Cdn/profiles/originGroups',
  'Microsoft.Cdn/profiles/originGroups/origins',
  'Microsoft.Cdn/profiles/ruleSets',
  'Microsoft.Cdn/profiles/ruleSets/rules',
  'Microsoft.Cdn/profiles/afdEndpoints/routes',
  'Microsoft.Cdn/profiles/securityPolicies',
  'Microsoft.Web/sites/config',
  'Microsoft.Web/sites/slots/config',
];

function describe(error: unknown): string {
  const failure = error as { code?: string; statusCode?: number; message?: string };
  return `${failure.statusCode ? `HTTP ${failure.statusCode} ` : ''}${failure.code ? `${failure.code}: ` : ''}${failure.message ?? String(error)}`;
}

/** Reads what exists and compares it with the declaration. Changes nothing. */
export async function planEdge(declaration: EdgeDeclaration, clients: EdgeClients, target: ResourceGroupRef, options: EdgeClientOptions = {}): Promise<EdgePlan> {
  const ops = operationsFor(clients, target, options);
  const profileName = declaration.profile.name;
  const rg = target.resourceGroupName;
  let frontDoorId: string | undefined;
  try {
    const profile = await ops['Microsoft.Cdn/profiles'].get([profileName]);
    frontDoorId = typeof profile?.frontDoorId === 'string' ? profile.frontDoorId : undefined;
    const desired = edgeResources(declaration, concreteIds(target.subscriptionId, rg, frontDoorId ?? ''));
    const items: PlanItem[] = [];
    for (const resource of desired) {
      if (isSiteConfig(resource.type) && frontDoorId === undefined) {
        items.push({ action: 'update', type: resource.type, names: resource.names, details: ["x-azure-fdid restriction: the profile's Front Door ID is known once it exists"], resource });
        continue;
      }
      const actual = resource.type === 'Microsoft.Cdn/profiles' ? profile : profile || !resource.type.startsWith('Microsoft.Cdn/') ? await ops[resource.type].get(resource.names) : undefined;
      if (!actual) {
        items.push({ action: isSiteConfig(resource.type) ? 'update' : 'create', type: resource.type, names: resource.names, details: [], resource });
        continue;
      }
      const changed = differences(modelOf(resource), actual, '', []);
      items.push({ action: changed.length > 0 ? 'update' : 'unchanged', type: resource.type, names: resource.names, details: changed, resource });
    }
    if (profile) items.push(...(await extraResources(declaration, clients, rg)));
    return { target: { ...target, profileName }, items, frontDoorId };
  } catch (error) {
    throw new EdgeApplyError(`cannot read the current state of ${profileName} in ${rg}: ${describe(error)}`);
  }
}

/** Children of the profile that the declaration no longer has: planned for deletion. */
async function extraResources(declaration: EdgeDeclaration, clients: EdgeClients, rg: string): Promise<PlanItem[]> {
  const { cdn } = clients;
  const p = declaration.profile.name;
  const extra: PlanItem[] = [];
  const remove = (type: ResourceType, existing: string[], declared: string[], parents: string[]) => {
    const wanted = new Set(declared.map((name) => name.toLowerCase()));
    for (const name of existing) if (!wanted.has(name.toLowerCase())) extra.push({ action: 'delete', type, names: [...parents, name], details: ['not in the declaration'] });
  };
  remove('Microsoft.Cdn/profiles/securityPolicies', await namesOf(cdn.securityPolicies.listByProfile(rg, p)), [`${declaration.waf.name}Policy`], [p]);
  remove('Microsoft.Cdn/profiles/afdEndpoints', await namesOf(cdn.afdEndpoints.listByProfile(rg, p)), [declaration.endpoint.name], [p]);
  if (await orUndefined(cdn.afdEndpoints.get(rg, p, declaration.endpoint.name))) {
    remove('Microsoft.Cdn/profiles/afdEndpoints/routes', await namesOf(cdn.routes.listByEndpoint(rg, p, declaration.endpoint.name)), declaration.routes.map((r) => r.name), [p, declaration.endpoint.name]);
  }
  const existingSets = await namesOf(cdn.ruleSets.listByProfile(rg, p));
  for (const ruleSet of declaration.ruleSets) {
    if (existingSets.some((name) => name.toLowerCase() === ruleSet.name.toLowerCase())) remove('Microsoft.Cdn/profiles/ruleSets/rules', await namesOf(cdn.rules.listByRuleSet(rg, p, ruleSet.name)), ruleSet.rules.map((r) => r.name), [p, ruleSet.name]);
  }
  remove('Microsoft.Cdn/profiles/ruleSets', existingSets, declaration.ruleSets.map((r) => r.name), [p]);
  const existingGroups = await namesOf(cdn.afdOriginGroups.listByProfile(rg, p));
  for (const group of declaration.originGroups) {
    if (existingGroups.some((name) => name.toLowerCase() === group.name.toLowerCase())) remove('Microsoft.Cdn/profiles/originGroups/origins', await namesOf(cdn.afdOrigins.listByOriginGroup(rg, p, group.name)), group.origins.map((o) => o.name), [p, group.name]);
  }
  remove('Microsoft.Cdn/profiles/originGroups', existingGroups, declaration.originGroups.map((g) => g.name), [p]);
  remove('Microsoft.Cdn/profiles/customDomains', await namesOf(cdn.afdCustomDomains.listByProfile(rg, p)), declaration.customDomains.map((d) => d.name), [p]);
  return extra;
}

const SYMBOLS: Record<PlanAction, string> = { create: '+', update: '~', delete: '-', unchanged: '=' };

export function formatPlan(plan: EdgePlan): string {
  const lines = [`Plan for Front Door profile ${plan.target.profileName} (resource group ${plan.target.resourceGroupName}, subscription ${plan.target.subscriptionId}):`];
  for (const item of plan.items) {
    const detail = item.details.length > 0 ? `  (${item.details.join(', ')})` : '';
    lines.push(`  ${SYMBOLS[item.action]} ${item.action.padEnd(9)} ${item.type} ${item.names.join('/')}${detail}`);
  }
  const count = (action: PlanAction) => plan.items.filter((item) => item.action === action).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('unchanged')} unchanged.`);
  return `${lines.join('\n')}\n`;
}

export interface ApplyResult {
  frontDoorId?: string;
  endpointHostName?: string;
  changed: number;
}

/** Carries out a plan: creates and updates parents first, then deletes children first. */
export async function applyEdgePlan(plan: EdgePlan, declaration: EdgeDeclaration, clients: EdgeClients, options: EdgeClientOptions & { onStep?: (line: string) => void } = {}): Promise<ApplyResult> {
  const ops = operationsFor(clients, plan.target, options);
  const step = options.onStep ?? (() => undefined);
  let frontDoorId = plan.frontDoorId;
  let changed = 0;
  const writes = plan.items.filter((item) => item.action === 'create' || item.action === 'update').sort((a, b) => CREATE_ORDER.indexOf(a.type) - CREATE_ORDER.indexOf(b.type));
  for (const item of writes) {
    let resource = item.resource as EdgeResource;
    if (isSiteConfig(item.type)) {
      // The restriction carries the Front Door ID Azure gave the profile.
      frontDoorId ??= (await ops['Microsoft.Cdn/profiles'].get([declaration.profile.name]))?.frontDoorId as string | undefined;
      resource = edgeResources(declaration, concreteIds(plan.target.subscriptionId, plan.target.resourceGroupName, frontDoorId ?? '')).find((r) => r.type === item.type && r.names.join('/') === item.names.join('/')) as EdgeResource;
    }
    try {
      await ops[item.type].put(item.names, modelOf(resource));
    } catch (error) {
      throw new EdgeApplyError(`${item.action} of ${item.type} ${item.names.join('/')} failed after ${changed} change(s): ${describe(error)}`);
    }
    changed += 1;
    step(`${SYMBOLS[item.action]} ${item.action === 'create' ? 'created' : 'updated'} ${item.type} ${item.names.join('/')}`);
  }
  const deletes = plan.items.filter((item) => item.action === 'delete').sort((a, b) => CREATE_ORDER.indexOf(b.type) - CREATE_ORDER.indexOf(a.type));
  for (const item of deletes) {
    try {
      await ops[item.type].remove(item.names);
    } catch (error) {
      throw new EdgeApplyError(`delete of ${item.type} ${item.names.join('/')} failed after ${changed} change(s): ${describe(error)}`);
    }
    changed += 1;
    step(`- deleted ${item.type} ${item.names.join('/')}`);
  }
  const profile = await ops['Microsoft.Cdn/profiles'].get([declaration.profile.name]);
  const endpoint = await ops['Microsoft.Cdn/profiles/afdEndpoints'].get([declaration.profile.name, declaration.endpoint.name]);
  return { frontDoorId: (profile?.frontDoorId as string | undefined) ?? frontDoorId, endpointHostName: endpoint?.hostName as string | undefined, changed };
}
