/**
 * The ARM template shapes infra/ compiles to, and the seam the monitoring module plugs into.
 * Values are ARM template expressions (`[resourceId(...)]`, `[parameters('...')]`) or literals.
 */

/** One resource of a deployment template (resource-group scope). */
export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  location?: string;
  kind?: string;
  sku?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  tags?: Record<string, string>;
  /** Extension resources (role assignments, diagnostic settings): the id of the resource they apply to. */
  scope?: string;
  properties?: Record<string, unknown>;
  /** `[resourceId(...)]` expressions of resources in the same template. */
  dependsOn?: string[];
}

export interface ArmParameter {
  type: 'string' | 'int' | 'bool' | 'object' | 'array' | 'securestring';
  defaultValue?: unknown;
  allowedValues?: unknown[];
  metadata: { description: string };
}

export interface ArmTemplate {
  $schema: string;
  contentVersion: string;
  metadata: Record<string, unknown>;
  parameters: Record<string, ArmParameter>;
  variables?: Record<string, unknown>;
  resources: ArmResource[];
  outputs: Record<string, { type: string; value: string }>;
}

/**
 * What `monitoringResources(ctx)` (infra/monitoring.ts) receives: ARM expressions and names of the
 * resources the workbook, alerts, action group and diagnostic settings point at.
 */
export interface MonitoringContext {
  /** `[resourceId('Microsoft.OperationalInsights/workspaces', ...)]` */
  logAnalyticsWorkspaceId: string;
  /** `[resourceId('Microsoft.Insights/components', ...)]` */
  applicationInsightsId: string;
  /** `[resourceId('Microsoft.Cdn/profiles', ...)]` */
  frontDoorProfileId: string;
  /** `[resourceId('Microsoft.Web/sites', ...)]` of the api app (and the publisher app below). */
  apiSiteId: string;
  publisherSiteId: string;
  /** Ids of the data resources, for their diagnostic settings. */
  cosmosAccountId: string;
  storageAccountId: string;
  keyVaultId: string;
  /** Plain names, for resources the monitoring module names itself and for its `scope`s. */
  names: {
    logAnalyticsWorkspace: string;
    applicationInsights: string;
    frontDoorProfile: string;
    apiSite: string;
    publisherSite: string;
    cosmosAccount: string;
    storageAccount: string;
    keyVault: string;
  };
  /** `[parameters('location')]` */
  location: string;
  /** Prefix of every resource name, e.g. `kfprod`. */
  namePrefix: string;
  profile: 'dev' | 'prod';
}

/** `[resourceId('type', 'name1', 'name2')]` */
export function resourceId(type: string, ...names: string[]): string {
  return `[resourceId('${type}', ${names.map((name) => `'${name}'`).join(', ')})]`;
}

/** The inner expression of `[expr]`, to nest it in another expression. */
export function inner(expression: string): string {
  if (!expression.startsWith('[') || !expression.endsWith(']')) throw new Error(`not an ARM expression: ${expression}`);
  return expression.slice(1, -1);
}
