/**
 * Every resource type the deployment compiles to, with the apiVersion used and the reference page
 * it was read from. The schema check (`check.ts`) refuses a template whose type or apiVersion is
 * not in this table, so a new resource starts by reading its reference and adding a row here.
 */
import { CDN_API_VERSION, WAF_API_VERSION, WEB_API_VERSION } from '../edge-config/arm/resources';

export interface ApiVersionRow {
  apiVersion: string;
  /** The ARM template reference page the properties were read from. */
  reference: string;
}

const templates = 'https://learn.microsoft.com/azure/templates';

export const API_VERSIONS: Readonly<Record<string, ApiVersionRow>> = {
  'Microsoft.DocumentDB/databaseAccounts': { apiVersion: '2024-05-15', reference: `${templates}/microsoft.documentdb/2024-05-15/databaseaccounts` },
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases': { apiVersion: '2024-05-15', reference: `${templates}/microsoft.documentdb/2024-05-15/databaseaccounts/sqldatabases` },
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers': { apiVersion: '2024-05-15', reference: `${templates}/microsoft.documentdb/2024-05-15/databaseaccounts/sqldatabases/containers` },
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments': { apiVersion: '2024-05-15', reference: `${templates}/microsoft.documentdb/2024-05-15/databaseaccounts/sqlroleassignments` },
  'Microsoft.Storage/storageAccounts': { apiVersion: '2023-05-01', reference: `${templates}/microsoft.storage/2023-05-01/storageaccounts` },
  'Microsoft.Storage/storageAccounts/blobServices': { apiVersion: '2023-05-01', reference: `${templates}/microsoft.storage/2023-05-01/storageaccounts/blobservices` },
  'Microsoft.Storage/storageAccounts/blobServices/containers': { apiVersion: '2023-05-01', reference: `${templates}/microsoft.storage/2023-05-01/storageaccounts/blobservices/containers` },
  'Microsoft.KeyVault/vaults': { apiVersion: '2023-07-01', reference: `${templates}/microsoft.keyvault/2023-07-01/vaults` },
  'Microsoft.KeyVault/vaults/keys': { apiVersion: '2023-07-01', reference: `${templates}/microsoft.keyvault/2023-07-01/vaults/keys` },
  'Microsoft.Authorization/roleAssignments': { apiVersion: '2022-04-01', reference: `${templates}/microsoft.authorization/2022-04-01/roleassignments` },
  'Microsoft.OperationalInsights/workspaces': { apiVersion: '2023-09-01', reference: `${templates}/microsoft.operationalinsights/2023-09-01/workspaces` },
  'Microsoft.Insights/components': { apiVersion: '2020-02-02', reference: `${templates}/microsoft.insights/2020-02-02/components` },
  // --- telemetry (infra/monitoring.ts) ---
  'Microsoft.Insights/workbooks': { apiVersion: '2023-06-01', reference: `${templates}/microsoft.insights/2023-06-01/workbooks` },
  'Microsoft.Insights/scheduledQueryRules': { apiVersion: '2021-08-01', reference: `${templates}/microsoft.insights/2021-08-01/scheduledqueryrules` },
  'Microsoft.Insights/metricAlerts': { apiVersion: '2018-03-01', reference: `${templates}/microsoft.insights/2018-03-01/metricalerts` },
  'Microsoft.Insights/actionGroups': { apiVersion: '2021-09-01', reference: `${templates}/microsoft.insights/2021-09-01/actiongroups` },
  'Microsoft.Insights/diagnosticSettings': { apiVersion: '2021-05-01-preview', reference: `${templates}/microsoft.insights/2021-05-01-preview/diagnosticsettings` },
  // One Microsoft.Web version for our resources and the edge's access restriction (sites/config).
  'Microsoft.Web/serverfarms': { apiVersion: WEB_API_VERSION, reference: `${templates}/microsoft.web/2023-12-01/serverfarms` },
  'Microsoft.Web/sites': { apiVersion: WEB_API_VERSION, reference: `${templates}/microsoft.web/2023-12-01/sites` },
  'Microsoft.Web/sites/slots': { apiVersion: WEB_API_VERSION, reference: `${templates}/microsoft.web/2023-12-01/sites/slots` },
  'Microsoft.Web/sites/config': { apiVersion: WEB_API_VERSION, reference: `${templates}/microsoft.web/2023-12-01/sites/config-web` },
  // A staging slot's own access restriction (slots do not share the site's): edge-config compiles it too.
  'Microsoft.Web/sites/slots/config': { apiVersion: WEB_API_VERSION, reference: `${templates}/microsoft.web/2023-12-01/sites/slots/config-web` },
  // Front Door, compiled by edge-config: its versions, its pages.
  'Microsoft.Cdn/profiles': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles` },
  'Microsoft.Cdn/profiles/afdEndpoints': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/afdendpoints` },
  'Microsoft.Cdn/profiles/afdEndpoints/routes': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/afdendpoints/routes` },
  'Microsoft.Cdn/profiles/customDomains': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/customdomains` },
  'Microsoft.Cdn/profiles/originGroups': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/origingroups` },
  'Microsoft.Cdn/profiles/originGroups/origins': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/origingroups/origins` },
  'Microsoft.Cdn/profiles/ruleSets': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/rulesets` },
  'Microsoft.Cdn/profiles/ruleSets/rules': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/rulesets/rules` },
  'Microsoft.Cdn/profiles/securityPolicies': { apiVersion: CDN_API_VERSION, reference: `${templates}/microsoft.cdn/2024-02-01/profiles/securitypolicies` },
  'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies': { apiVersion: WAF_API_VERSION, reference: `${templates}/microsoft.network/2024-02-01/frontdoorwebapplicationfirewallpolicies` },
};

/** The apiVersion of a type, or a thrown error naming it: the compiler never guesses one. */
export function apiVersionOf(type: string): string {
  const row = API_VERSIONS[type];
  if (!row) throw new Error(`no apiVersion recorded for ${type}: read its reference page and add it to infra/api-versions.ts`);
  return row.apiVersion;
}

/**
 * Built-in role definition ids (the same GUID in every tenant), from
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles, and the Cosmos DB
 * data-plane built-in role from https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac.
 */
export const ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  /** Reads the app packages (run from a package URL with the app's identity). */
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  /**
   * CDN Profile Contributor: `Microsoft.Cdn/profiles/*`, which holds Front Door's
   * `profiles/afdendpoints/purge/action`. (CDN Endpoint Contributor covers only classic CDN's
   * `profiles/endpoints/*`: it cannot purge a Front Door Standard/Premium endpoint.)
   */
  cdnProfileContributor: 'ec156ff8-a8d1-4d15-830c-5b80698ca432',
  /** Cosmos DB Built-in Data Contributor (data plane: `sqlRoleDefinitions/...0002`). */
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002',
} as const;
