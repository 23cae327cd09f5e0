/**
 * A resource-group deployment as ARM runs it, for the deployment stand-in: the template's
 * parameters are checked, names, ids and `dependsOn` resolved, resources provisioned in dependency
 * order (those without a path between them at the same time, as ARM does), each `reference()`
 * read from what is deployed, and the result kept per resource group for the next deployment,
 * what-if and the App Service stand-in.
 *
 * Before anything is provisioned every rule of `DEPLOYMENT_RULES` looks at the whole deployment.
 * Each rule is a documented Azure behaviour that broke a real design, written against resource
 * types rather than keyfront's resources, so an alert, role or assignment another change adds is
 * checked by the same rule without editing this file.
 */
import { randomUUID } from 'node:crypto';
import type { ArmResource, ArmTemplate } from '../../infra/arm';
import { evaluate, referencedIds, resourceGroupResourceId, standInGuid, TemplateExpressionError, type EvaluationScope } from './arm-template-eval';
import { roleOf, UnknownRoleError, type RoleAssignmentGrant } from './azure-roles';

/** A provisioned resource: what the template said, evaluated, and what Azure adds. */
export interface DeployedResource {
  id: string;
  type: string;
  name: string;
  location?: string;
  kind?: string;
  sku?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  properties: Record<string, unknown>;
  /** Read-only values Azure assigns (Front Door ID, host names, principal ids, endpoints). */
  runtime: Record<string, unknown>;
}

/** What exists outside any one deployment: resource groups, soft-deleted vaults, workspaces' data. */
export interface AzureWorld {
  subscriptionId: string;
  tenantId: string;
  resourceGroups: Map<string, { name: string; location: string; resources: Map<string, DeployedResource> }>;
  /** Log Analytics tables that have received data, by lower-cased workspace id. */
  workspaceTables: Map<string, Set<string>>;
  /** Soft-deleted vaults by lower-cased name, with the key versions they hold. */
  deletedVaults: Map<string, Map<string, string>>;
  /** Regions without availability zones (lower-cased names). */
  regionsWithoutZones: Set<string>;
  /** Cosmos DB accounts of the subscription that use the free tier (lower-cased ids), outside these resource groups. */
  freeTierAccounts: Set<string>;
}

export function newWorld(options: { subscriptionId?: string } = {}): AzureWorld {
  return { subscriptionId: options.subscriptionId ?? randomUUID(), tenantId: randomUUID(), resourceGroups: new Map(), workspaceTables: new Map(), deletedVaults: new Map(), regionsWithoutZones: new Set(), freeTierAccounts: new Set() };
}

/** The role assignments a resource group holds, as Azure authorizes with them. */
export function roleGrants(world: AzureWorld, resourceGroup: string): RoleAssignmentGrant[] {
  return [...(world.resourceGroups.get(resourceGroup.toLowerCase())?.resources.values() ?? [])]
    .filter((resource) => resource.type.toLowerCase() === 'microsoft.authorization/roleassignments')
    .map((resource) => ({ principalId: String(resource.properties.principalId), roleDefinitionId: String(resource.properties.roleDefinitionId), scope: resource.id.split('/providers/Microsoft.Authorization/')[0] }));
}

/** The principal of a deployed site's (or slot's) system-assigned identity. */
export function principalOf(world: AzureWorld, resourceGroup: string, site: string, slot?: string): string {
  const id = resourceGroupResourceId(world.subscriptionId, resourceGroup, slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites', slot ? [site, slot] : [site]);
  const found = world.resourceGroups.get(resourceGroup.toLowerCase())?.resources.get(id.toLowerCase());
  if (!found) throw new Error(`no site ${id}`);
  return String(found.runtime.principalId);
}

export interface DeploymentProblem {
  /** `validation`: ARM refuses the request (400); `provisioning`: the deployment ends Failed. */
  phase: 'validation' | 'provisioning';
  code: string;
  message: string;
  target?: string;
}

/** One resource of the deployment, resolved before provisioning. */
export interface PlannedResource {
  raw: ArmResource;
  id: string;
  type: string;
  name: string;
  /** Ids this resource depends on, directly. */
  dependsOn: string[];
  /** Ids of the template's resources its expressions `reference()`. */
  references: string[];
  /** Evaluated (filled in during provisioning). */
  deployed?: DeployedResource;
}

export interface DeploymentContext {
  world: AzureWorld;
  resourceGroup: string;
  resources: PlannedResource[];
  /** Whether `ancestor` is deployed before `id` (a path of dependsOn between them). */
  dependsOnTransitively(id: string, ancestor: string): boolean;
  /** A deployed (this deployment's, evaluated) or existing resource by id. */
  find(id: string): DeployedResource | undefined;
}

/** A documented behaviour of Azure, checked on a whole deployment after evaluation. */
export interface DeploymentRule {
  name: string;
  /** The page the behaviour is documented on. */
  documentation: string;
  check(context: DeploymentContext): DeploymentProblem[];
}

const key = (id: string) => id.toLowerCase();

function parentId(id: string): string {
  return id.split('/').slice(0, -2).join('/');
}

/** Read-only values Azure adds to a resource of each type on creation (kept on later deployments). */
function runtimeOf(resource: Omit<DeployedResource, 'runtime'>, previous: DeployedResource | undefined, world: AzureWorld): Record<string, unknown> {
  const keep = (name: string, make: () => unknown) => previous?.runtime[name] ?? make();
  const last = resource.name.split('/').pop()!;
  switch (resource.type.toLowerCase()) {
    case 'microsoft.web/sites':
    case 'microsoft.web/sites/slots': {
      const host = resource.type.toLowerCase() === 'microsoft.web/sites' ? resource.name : resource.name.replace('/', '-');
      return { principalId: keep('principalId', randomUUID), defaultHostName: `${host}.azurewebsites.net`, enabledHostNames: [`${host}.azurewebsites.net`, `${host}.scm.azurewebsites.net`] };
    }
    case 'microsoft.cdn/profiles':
      return { frontDoorId: keep('frontDoorId', randomUUID) };
    case 'microsoft.cdn/profiles/afdendpoints':
      return { hostName: keep('hostName', () => `${last}-${standInGuid(resource.id).slice(0, 8)}.z01.azurefd.net`) };
    case 'microsoft.insights/components':
      return { ConnectionString: keep('ConnectionString', () => `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://${resource.location}.in.applicationinsights.azure.com/`) };
    case 'microsoft.documentdb/databaseaccounts':
      return { documentEndpoint: `https://${last}.documents.azure.com:443/` };
    case 'microsoft.keyvault/vaults':
      return { vaultUri: `https://${last}.vault.azure.net/` };
    case 'microsoft.keyvault/vaults/keys': {
      // Keys - Create If Not Exist: a key that exists (also one a recovery brought back) keeps its version.
      const [vault, keyName] = resource.name.split('/');
      const recovered = world.deletedVaults.get(vault.toLowerCase())?.get(keyName);
      return { keyUriWithVersion: keep('keyUriWithVersion', () => `https://${vault}.vault.azure.net/keys/${keyName}/${recovered ?? randomUUID().replace(/-/g, '')}`) };
    }
    default:
      return {};
  }
}

/** What `reference(id)` returns: the properties (and read-only values); `'full'`: the whole resource. */
function referenceOf(resource: DeployedResource, full: boolean, world: AzureWorld): Record<string, unknown> {
  const properties = { ...resource.properties, ...resource.runtime };
  if (!full) return properties;
  const identity = resource.identity ? { ...resource.identity, principalId: resource.runtime.principalId, tenantId: world.tenantId } : undefined;
  return { id: resource.id, name: resource.name, type: resource.type, location: resource.location, kind: resource.kind, sku: resource.sku, ...(identity ? { identity } : {}), properties };
}

export interface DeploymentResult {
  ok: boolean;
  problems: DeploymentProblem[];
  /** The deployed resources (applied to the resource group only when ok). */
  resources: PlannedResource[];
  outputs: Record<string, { type: string; value: unknown }>;
}

export interface RunOptions {
  /** Resolve and check only (what-if): nothing is provisioned or kept. */
  dryRun?: boolean;
  rules?: readonly DeploymentRule[];
  /** Called for every resource provisioned, in order (the App Service stand-in follows sites and slots). */
  onProvisioned?(resource: DeployedResource, previous: DeployedResource | undefined): void;
}

/** Runs one incremental deployment of `template` into `resourceGroup` of `world`. */
export function runDeployment(world: AzureWorld, resourceGroup: string, template: ArmTemplate, parameterValues: Record<string, { value: unknown }>, options: RunOptions = {}): DeploymentResult {
  const group = world.resourceGroups.get(key(resourceGroup));
  if (!group) return { ok: false, problems: [{ phase: 'validation', code: 'ResourceGroupNotFound', message: `Resource group '${resourceGroup}' could not be found.` }], resources: [], outputs: {} };
  const problems: DeploymentProblem[] = [];
  const invalid = (message: string, target?: string) => problems.push({ phase: 'validation', code: 'InvalidTemplate', message, target });

  // Parameters: every one without a default given, of its type and allowed values.
  const parameters: Record<string, unknown> = {};
  for (const [name, parameter] of Object.entries(template.parameters)) {
    const given = parameterValues[name]?.value;
    let value = given === undefined ? parameter.defaultValue : given;
    if (value === undefined) {
      invalid(`The value for the template parameter '${name}' is not provided.`);
      continue;
    }
    // A default may be an expression of the deployment (e.g. [resourceGroup().location]).
    if (given === undefined) value = evaluate(value, { subscriptionId: world.subscriptionId, tenantId: world.tenantId, resourceGroup: { name: group.name, location: group.location }, parameters: {}, reference: () => undefined });
    parameters[name] = value;
    const expected = { string: 'string', securestring: 'string', int: 'number', bool: 'boolean', object: 'object', array: 'object' }[parameter.type];
    if (given !== undefined && typeof given !== expected) invalid(`Template parameter '${name}' was provided an invalid value: expected ${parameter.type}.`);
    if (given !== undefined && parameter.allowedValues && !parameter.allowedValues.includes(given)) invalid(`The provided value for the template parameter '${name}' is not valid: it must be one of ${JSON.stringify(parameter.allowedValues)}.`);
  }
  for (const name of Object.keys(parameterValues)) if (!(name in template.parameters)) invalid(`The template parameter '${name}' is not valid: the template does not declare it.`);
  if (problems.length) return { ok: false, problems, resources: [], outputs: {} };

  const scopeBase = { subscriptionId: world.subscriptionId, tenantId: world.tenantId, resourceGroup: { name: group.name, location: group.location }, parameters };
  const planned = new Map<string, PlannedResource>();
  const existing = (id: string) => group.resources.get(key(id));
  const find = (id: string): DeployedResource | undefined => planned.get(key(id))?.deployed ?? existing(id);
  const scope: EvaluationScope = {
    ...scopeBase,
    reference: (id, full) => {
      const found = find(id);
      return found ? referenceOf(found, full, world) : undefined;
    },
  };
  const evaluateString = (value: string, where: string): string => {
    const result = evaluate(value, { ...scopeBase, reference: () => undefined });
    if (typeof result !== 'string') throw new TemplateExpressionError(`${where} must be a string`);
    return result;
  };

  // Names, ids and dependencies.
  for (const raw of template.resources) {
    try {
      const name = evaluateString(raw.name, `${raw.type} name`);
      let id: string;
      if (raw.scope !== undefined) {
        const scopeText = evaluateString(raw.scope, `${raw.type} ${name} scope`);
        const scopeId = scopeText.startsWith('/') ? scopeText : `/subscriptions/${world.subscriptionId}/resourceGroups/${group.name}/providers/${scopeText}`;
        id = `${scopeId}/providers/${raw.type}/${name}`;
      } else {
        id = resourceGroupResourceId(world.subscriptionId, group.name, raw.type, name.split('/'));
      }
      if (planned.has(key(id))) invalid(`The resource '${id}' is defined multiple times in the template.`, id);
      const dependsOn = (raw.dependsOn ?? []).map((dependency) => evaluateString(dependency, `${raw.type} ${name} dependsOn`));
      const references = referencedIds({ properties: raw.properties, identity: raw.identity }, scopeBase);
      planned.set(key(id), { raw, id, type: raw.type, name, dependsOn, references });
    } catch (error) {
      invalid(`${raw.type} ${raw.name}: ${(error as Error).message}`);
    }
  }
  for (const resource of planned.values()) {
    for (const dependency of resource.dependsOn) if (!planned.has(key(dependency))) invalid(`The resource '${dependency}' is not defined in the template (dependsOn of ${resource.id}).`, resource.id);
  }
  if (problems.length) return { ok: false, problems, resources: [...planned.values()], outputs: {} };

  // Order: dependencies first; a cycle is ARM's InvalidTemplate.
  const ordered: PlannedResource[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (resource: PlannedResource, path: string[]): void => {
    const k = key(resource.id);
    if (state.get(k) === 'done') return;
    if (state.get(k) === 'visiting') {
      invalid(`Circular dependency detected on resource: '${[...path, resource.id].join("' -> '")}'.`, resource.id);
      return;
    }
    state.set(k, 'visiting');
    for (const dependency of resource.dependsOn) visit(planned.get(key(dependency))!, [...path, resource.id]);
    state.set(k, 'done');
    ordered.push(resource);
  };
  for (const resource of planned.values()) visit(resource, []);
  if (problems.length) return { ok: false, problems, resources: ordered, outputs: {} };
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (id: string): Set<string> => {
    const cached = ancestors.get(key(id));
    if (cached) return cached;
    const out = new Set<string>();
    for (const dependency of planned.get(key(id))?.dependsOn ?? []) {
      out.add(key(dependency));
      for (const above of ancestorsOf(dependency)) out.add(above);
    }
    ancestors.set(key(id), out);
    return out;
  };
  const context: DeploymentContext = {
    world,
    resourceGroup: group.name,
    resources: ordered,
    dependsOnTransitively: (id, ancestor) => ancestorsOf(id).has(key(ancestor)),
    find,
  };

  // A reference() to a resource of this deployment reads it only once it is deployed: without a
  // dependsOn path ARM may run the two at the same time (ARM template "Define the order for
  // deploying resources": reference() through resourceId() adds no implicit dependency).
  for (const resource of ordered) {
    for (const referenced of resource.references) {
      if (planned.has(key(referenced)) && !context.dependsOnTransitively(resource.id, referenced) && key(referenced) !== key(resource.id)) {
        problems.push({ phase: 'provisioning', code: 'ResourceNotFound', message: `${resource.id} reads reference('${referenced}') without depending on it: ARM may deploy both at once`, target: resource.id });
      }
    }
  }
  if (problems.length) return { ok: false, problems, resources: ordered, outputs: {} };

  // Evaluation, in order.
  for (const resource of ordered) {
    try {
      const raw = resource.raw;
      const previous = existing(resource.id);
      const body = evaluate({ location: raw.location, kind: raw.kind, sku: raw.sku, identity: raw.identity, properties: raw.properties ?? {} }, scope) as Omit<DeployedResource, 'id' | 'type' | 'name' | 'runtime'>;
      const partial = { id: resource.id, type: resource.type, name: resource.name, location: body.location, kind: body.kind, sku: body.sku, identity: body.identity, properties: body.properties ?? {} };
      resource.deployed = { ...partial, runtime: runtimeOf(partial, previous, world) };
    } catch (error) {
      problems.push({ phase: 'provisioning', code: 'InvalidTemplate', message: `${resource.id}: ${(error as Error).message}`, target: resource.id });
    }
  }
  if (problems.length) return { ok: false, problems, resources: ordered, outputs: {} };
  for (const rule of options.rules ?? DEPLOYMENT_RULES) problems.push(...rule.check(context));
  const outputs: Record<string, { type: string; value: unknown }> = {};
  if (problems.length === 0) {
    for (const [name, output] of Object.entries(template.outputs)) {
      try {
        outputs[name] = { type: output.type, value: evaluate(output.value, scope) };
      } catch (error) {
        problems.push({ phase: 'provisioning', code: 'DeploymentOutputEvaluationFailed', message: `output ${name}: ${(error as Error).message}` });
      }
    }
  }
  if (problems.length > 0 || options.dryRun) return { ok: problems.length === 0, problems, resources: ordered, outputs };

  // Provisioning: incremental mode keeps what the template does not name.
  for (const resource of ordered) {
    const previous = existing(resource.id);
    group.resources.set(key(resource.id), resource.deployed!);
    if (resource.type.toLowerCase() === 'microsoft.keyvault/vaults' && resource.deployed!.properties.createMode === 'recover') world.deletedVaults.delete(resource.name.toLowerCase());
    if (resource.type.toLowerCase() === 'microsoft.documentdb/databaseaccounts' && resource.deployed!.properties.enableFreeTier === true) world.freeTierAccounts.add(key(resource.id));
    options.onProvisioned?.(resource.deployed!, previous);
  }
  return { ok: true, problems: [], resources: ordered, outputs };
}

/** Deleting a resource group: its vaults become soft-deleted (90 days, purge protection), with their keys. */
export function deleteResourceGroup(world: AzureWorld, resourceGroup: string): void {
  const group = world.resourceGroups.get(key(resourceGroup));
  if (!group) return;
  for (const resource of group.resources.values()) {
    if (resource.type.toLowerCase() !== 'microsoft.keyvault/vaults') continue;
    const keys = new Map<string, string>();
    for (const child of group.resources.values()) {
      if (child.type.toLowerCase() === 'microsoft.keyvault/vaults/keys' && child.name.split('/')[0].toLowerCase() === resource.name.toLowerCase()) {
        keys.set(child.name.split('/')[1], String(child.runtime.keyUriWithVersion).split('/').pop()!);
      }
    }
    world.deletedVaults.set(resource.name.toLowerCase(), keys);
  }
  world.resourceGroups.delete(key(resourceGroup));
}

/** Tables a KQL query reads: its first name, and those after `union` and inside `join (...)`. */
export function queryTables(query: string): string[] {
  const tables = new Set<string>();
  const first = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(query);
  if (first) tables.add(first[1]);
  for (const match of query.matchAll(/\b(?:union|join)\s*(?:kind\s*=\s*\w+\s*)?\(?\s*([A-Za-z_][A-Za-z0-9_]*)/g)) tables.add(match[1]);
  return [...tables];
}

const settingsOf = (resource: DeployedResource): Record<string, string> =>
  Object.fromEntries((((resource.properties.siteConfig as { appSettings?: { name: string; value: string }[] } | undefined)?.appSettings) ?? []).map((setting) => [setting.name, String(setting.value)]));

export const DEPLOYMENT_RULES: readonly DeploymentRule[] = [
  {
    name: 'one Cosmos DB role-assignment write at a time per account',
    documentation: 'Cosmos DB answers 412 PreconditionFailed to concurrent writes on one account (https://github.com/hashicorp/terraform-provider-azurerm/issues/15842); ARM runs resources without a dependency between them at once (https://learn.microsoft.com/azure/azure-resource-manager/templates/resource-dependency)',
    check: (context) => {
      const serialized = ['microsoft.documentdb/databaseaccounts/sqlroleassignments', 'microsoft.documentdb/databaseaccounts/sqlroledefinitions'];
      const writes = context.resources.filter((r) => serialized.includes(r.type.toLowerCase()));
      const problems: DeploymentProblem[] = [];
      for (let i = 0; i < writes.length; i += 1) {
        for (let j = i + 1; j < writes.length; j += 1) {
          const [a, b] = [writes[i], writes[j]];
          if (key(parentId(a.id)) !== key(parentId(b.id))) continue;
          if (context.dependsOnTransitively(a.id, b.id) || context.dependsOnTransitively(b.id, a.id)) continue;
          const account = parentId(a.id).split('/').pop();
          problems.push({ phase: 'provisioning', code: 'PreconditionFailed', message: `There is another user operation in progress which requires an exclusive lock on [${account}]. Please retry after sometime. (${a.name} and ${b.name} run at the same time)`, target: b.id });
        }
      }
      return problems;
    },
  },
  {
    name: 'a log alert resolves the tables of its query',
    documentation: 'https://learn.microsoft.com/azure/templates/microsoft.insights/2021-08-01/scheduledqueryrules (skipQueryValidation)',
    check: (context) =>
      context.resources
        .filter((r) => r.type.toLowerCase() === 'microsoft.insights/scheduledqueryrules' && r.deployed!.properties.skipQueryValidation !== true)
        .flatMap((r) => {
          const properties = r.deployed!.properties as { scopes?: string[]; criteria?: { allOf?: { query?: string }[] } };
          const received = new Set((properties.scopes ?? []).flatMap((workspace) => [...(context.world.workspaceTables.get(key(workspace)) ?? [])]).map((t) => t.toLowerCase()));
          const missing = (properties.criteria?.allOf ?? []).flatMap((criterion) => queryTables(criterion.query ?? '')).filter((table) => !received.has(table.toLowerCase()));
          return missing.map((table) => ({ phase: 'provisioning' as const, code: 'BadRequest', message: `The query of scheduled query rule ${r.name} is invalid: 'where' operator: Failed to resolve table or column expression named '${table}'`, target: r.id }));
        }),
  },
  {
    name: 'a Windows Consumption or Elastic Premium function app has a content share or runs from a package URL',
    documentation: 'https://learn.microsoft.com/azure/azure-functions/storage-considerations#create-an-app-without-azure-files',
    check: (context) =>
      context.resources
        .filter((r) => ['microsoft.web/sites', 'microsoft.web/sites/slots'].includes(r.type.toLowerCase()) && String(r.deployed!.kind ?? '').includes('functionapp') && !String(r.deployed!.kind).includes('linux'))
        .flatMap((r) => {
          const plan = context.find(String(r.deployed!.properties.serverFarmId ?? ''));
          const tier = String(plan?.sku?.tier ?? '');
          if (!['dynamic', 'elasticpremium'].includes(tier.toLowerCase()) || plan?.properties.reserved === true) return [];
          const settings = settingsOf(r.deployed!);
          const contentShare = settings.WEBSITE_CONTENTAZUREFILECONNECTIONSTRING && settings.WEBSITE_CONTENTSHARE;
          if (contentShare || /^https:\/\//.test(settings.WEBSITE_RUN_FROM_PACKAGE ?? '')) return [];
          return [{ phase: 'provisioning' as const, code: 'BadRequest', message: `${r.name}: a ${tier} function app on Windows needs an Azure Files content share (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING, WEBSITE_CONTENTSHARE) or WEBSITE_RUN_FROM_PACKAGE set to a package URL; it has WEBSITE_RUN_FROM_PACKAGE=${JSON.stringify(settings.WEBSITE_RUN_FROM_PACKAGE ?? null)}`, target: r.id }];
        }),
  },
  {
    name: 'role assignments name a role the stand-in knows the actions of',
    documentation: 'https://learn.microsoft.com/azure/role-based-access-control/built-in-roles',
    check: (context) =>
      context.resources
        .filter((r) => r.type.toLowerCase() === 'microsoft.authorization/roleassignments')
        .flatMap((r) => {
          try {
            roleOf(String(r.deployed!.properties.roleDefinitionId));
            return [];
          } catch (error) {
            if (!(error instanceof UnknownRoleError)) throw error;
            return [{ phase: 'provisioning' as const, code: 'StandInUnknownRole', message: error.message, target: r.id }];
          }
        }),
  },
  {
    name: 'a soft-deleted vault name is taken until it is recovered',
    documentation: 'https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview',
    check: (context) =>
      context.resources
        .filter((r) => r.type.toLowerCase() === 'microsoft.keyvault/vaults')
        .flatMap((r) => {
          const deleted = context.world.deletedVaults.has(r.name.toLowerCase());
          const recover = r.deployed!.properties.createMode === 'recover';
          if (deleted && !recover) return [{ phase: 'provisioning' as const, code: 'ConflictError', message: `A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. (${r.name})`, target: r.id }];
          if (!deleted && recover && !context.find(r.id)) return [{ phase: 'provisioning' as const, code: 'BadRequest', message: `createMode 'recover': no deleted vault named ${r.name} to recover`, target: r.id }];
          return [];
        }),
  },
  {
    name: 'one free-tier Cosmos DB account per subscription',
    documentation: 'https://learn.microsoft.com/azure/cosmos-db/free-tier',
    check: (context) =>
      context.resources
        .filter((r) => r.type.toLowerCase() === 'microsoft.documentdb/databaseaccounts' && r.deployed!.properties.enableFreeTier === true)
        .filter((r) => [...context.world.freeTierAccounts].some((account) => account !== key(r.id)))
        .map((r) => ({ phase: 'provisioning' as const, code: 'BadRequest', message: `Free tier has already been applied to another Azure Cosmos DB account in this subscription (${r.name})`, target: r.id })),
  },
  {
    name: 'zone redundancy only where the region has availability zones',
    documentation: 'https://learn.microsoft.com/azure/reliability/reliability-cosmos-db-nosql#availability-zone-support',
    check: (context) =>
      context.resources
        .filter((r) => r.type.toLowerCase() === 'microsoft.documentdb/databaseaccounts')
        .flatMap((r) =>
          ((r.deployed!.properties.locations as { locationName: string; isZoneRedundant?: boolean }[] | undefined) ?? [])
            .filter((location) => location.isZoneRedundant === true && context.world.regionsWithoutZones.has(location.locationName.toLowerCase()))
            .map((location) => ({ phase: 'provisioning' as const, code: 'BadRequest', message: `Zone Redundant Accounts are not supported in ${location.locationName} Location yet. (${r.name})`, target: r.id })),
        ),
  },
];
