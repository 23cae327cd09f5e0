/**
 * `keyfront deploy compile`: one deployment profile as one ARM template (resource-group scope).
 * Front Door comes from edge-config's compiler, never a second copy; the monitoring resources come
 * from `monitoring.ts` (the telemetry room). Everything else is here: Cosmos DB, the exports and
 * host storage accounts, Key Vault and its signing key, Log Analytics and Application Insights,
 * the hosting plans, the Function Apps with their staging slots, and every role assignment.
 * Secure by default: no account keys anywhere (identity connections only), TLS 1.2, HTTPS only.
 */
import { compileArmTemplate } from '../edge-config/arm/template';
import type { EdgeDeclaration } from '../edge-config/declaration';
import { keyfrontEdge } from '../edge-config/keyfront';
import { validateEdgeDeclaration } from '../edge-config/validate';
import { DEFAULT_CONTAINER_ID, DEFAULT_DATABASE_ID, DEFAULT_TTL_SECONDS, EXPOSURES_INDEXING_POLICY } from '../exposures/cosmos-store';
import { apiVersionOf, ROLES } from './api-versions';
import { inner, resourceId, type ArmParameter, type ArmResource, type ArmTemplate, type MonitoringContext } from './arm';
import { monitoringResources } from './monitoring';
import { deploymentNames, type DeploymentNames, type DeploymentProfile } from './profiles';

/** The blob containers of the exports account: public files and index, private manifest and lock. */
export const EXPORTS_CONTAINER = 'exports';
export const STATE_CONTAINER = 'publisher-state';
/** The publisher's timer function: disabled in the staging slot by a slot-sticky setting. */
export const PUBLISHER_FUNCTION = 'publishExports';
export const STAGING_DISABLED_SETTING = `AzureWebJobs.${PUBLISHER_FUNCTION}.Disabled`;

const LOCATION = "[parameters('location')]";
const SECONDARY = "[parameters('secondaryLocation')]";

function locationOf(which: 'primary' | 'secondary'): string {
  return which === 'primary' ? LOCATION : SECONDARY;
}

function res(type: string, name: string, rest: Omit<ArmResource, 'type' | 'apiVersion' | 'name'>): ArmResource {
  return { type, apiVersion: apiVersionOf(type), name, ...rest };
}

/** `principalId` of a site's (or slot's) system-assigned identity. */
function principalOf(siteId: string): string {
  return `[reference(${inner(siteId)}, '${apiVersionOf('Microsoft.Web/sites')}', 'full').identity.principalId]`;
}

/** An Azure RBAC assignment of a built-in role to an identity, on one resource. */
function roleAssignment(scopeType: string, scopeNames: string[], roleId: string, principalSiteId: string, dependsOn: string[]): ArmResource {
  const scope = resourceId(scopeType, ...scopeNames);
  const roleDefinitionId = `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${roleId}')]`;
  return res('Microsoft.Authorization/roleAssignments', `[guid(${inner(scope)}, ${inner(principalSiteId)}, '${roleId}')]`, {
    scope: `${scopeType.split('/')[0]}/${scopeType.split('/').slice(1).map((t, i) => `${t}/${scopeNames[i]}`).join('/')}`,
    properties: { roleDefinitionId, principalId: principalOf(principalSiteId), principalType: 'ServicePrincipal' },
    dependsOn: [scope, principalSiteId, ...dependsOn],
  });
}

interface AppIdentity {
  /** Where the identity lives: a site or a slot. */
  id: string;
  site: string;
  slot?: string;
  app: 'api' | 'publisher';
}

function identitiesOf(names: DeploymentNames): AppIdentity[] {
  const all: AppIdentity[] = [];
  for (const site of names.apiSites) {
    all.push({ id: resourceId('Microsoft.Web/sites', site), site, app: 'api' });
    all.push({ id: resourceId('Microsoft.Web/sites/slots', site, names.slot), site, slot: names.slot, app: 'api' });
  }
  all.push({ id: resourceId('Microsoft.Web/sites', names.publisherSite), site: names.publisherSite, app: 'publisher' });
  all.push({ id: resourceId('Microsoft.Web/sites/slots', names.publisherSite, names.slot), site: names.publisherSite, slot: names.slot, app: 'publisher' });
  return all;
}

function parameters(profile: DeploymentProfile): Record<string, ArmParameter> {
  return {
    location: { type: 'string', defaultValue: '[resourceGroup().location]', metadata: { description: 'Primary region of every resource (Cosmos DB write region, storage primary, Function Apps).' } },
    ...(profile.cosmos.secondaryRegion || profile.apiLocations.includes('secondary')
      ? { secondaryLocation: { type: 'string' as const, metadata: { description: "Second region: Cosmos DB failover region and the second API Function App. Use the storage account's paired region so that RA-GZRS reads come from the same place." } } }
      : {}),
    regions: { type: 'string', defaultValue: '440', metadata: { description: 'KEYFRONT_REGIONS: the regions the publisher publishes, comma-separated.' } },
    healthAuthorities: { type: 'string', metadata: { description: 'KEYFRONT_HEALTH_AUTHORITIES: JSON array of health authorities and their public JWKs (public data, not a secret).' } },
    signatureKeyId: { type: 'string', defaultValue: '440', metadata: { description: 'KEYFRONT_SIGNATURE_KEY_ID: the key id phones know the signing key by.' } },
    signatureKeyVersion: { type: 'string', defaultValue: 'v1', metadata: { description: 'KEYFRONT_SIGNATURE_KEY_VERSION.' } },
    attestation: { type: 'string', defaultValue: 'off', allowedValues: ['off', 'report', 'enforce'], metadata: { description: 'KEYFRONT_ATTESTATION: device attestation of uploads (README "Device attestation"); a health authority\'s "attestation" overrides it.' } },
    playIntegrityPackageName: { type: 'string', defaultValue: '', metadata: { description: 'KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME: the Android app whose Play Integrity tokens are accepted (empty: none).' } },
    appAttestAppId: { type: 'string', defaultValue: '', metadata: { description: 'KEYFRONT_APP_ATTEST_APP_ID: the iOS app (Team ID.bundle ID) whose App Attest attestations are accepted (empty: none).' } },
  };
}

function cosmosResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const account = names.cosmosAccount;
  const accountId = resourceId('Microsoft.DocumentDB/databaseAccounts', account);
  const locations = [{ locationName: LOCATION, failoverPriority: 0, isZoneRedundant: profile.cosmos.zoneRedundant }];
  if (profile.cosmos.secondaryRegion) locations.push({ locationName: SECONDARY, failoverPriority: 1, isZoneRedundant: profile.cosmos.zoneRedundant });
  const throughput = profile.cosmos.autoscaleMaxThroughput !== undefined ? { autoscaleSettings: { maxThroughput: profile.cosmos.autoscaleMaxThroughput } } : { throughput: profile.cosmos.manualThroughput };
  return [
    res('Microsoft.DocumentDB/databaseAccounts', account, {
      location: LOCATION,
      kind: 'GlobalDocumentDB',
      properties: {
        databaseAccountOfferType: 'Standard',
        consistencyPolicy: { defaultConsistencyLevel: 'Session' },
        locations,
        enableAutomaticFailover: profile.cosmos.secondaryRegion,
        enableMultipleWriteLocations: false,
        enableFreeTier: profile.cosmos.freeTier,
        // Data-plane RBAC only: no account keys in any app setting.
        disableLocalAuth: true,
        disableKeyBasedMetadataWriteAccess: true,
        minimalTlsVersion: 'Tls12',
        publicNetworkAccess: 'Enabled',
      },
    }),
    res('Microsoft.DocumentDB/databaseAccounts/sqlDatabases', `${account}/${DEFAULT_DATABASE_ID}`, {
      properties: { resource: { id: DEFAULT_DATABASE_ID }, options: throughput },
      dependsOn: [accountId],
    }),
    res('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', `${account}/${DEFAULT_DATABASE_ID}/${DEFAULT_CONTAINER_ID}`, {
      properties: {
        resource: {
          id: DEFAULT_CONTAINER_ID,
          // What exposures/cosmos-store.ts creates locally: the same partition key, TTL and index.
          partitionKey: { paths: ['/pk'], kind: 'Hash' },
          defaultTtl: DEFAULT_TTL_SECONDS,
          indexingPolicy: EXPOSURES_INDEXING_POLICY,
        },
      },
      dependsOn: [resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases', account, DEFAULT_DATABASE_ID)],
    }),
  ];
}

function cosmosRoleAssignments(names: DeploymentNames, identities: AppIdentity[]): ArmResource[] {
  const account = names.cosmosAccount;
  const accountId = resourceId('Microsoft.DocumentDB/databaseAccounts', account);
  return identities.map((identity) =>
    res('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments', `[concat('${account}/', guid(${inner(accountId)}, ${inner(identity.id)}, '${ROLES.cosmosDataContributor}'))]`, {
      properties: {
        roleDefinitionId: `[resourceId('Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions', '${account}', '${ROLES.cosmosDataContributor}')]`,
        principalId: principalOf(identity.id),
        // The one database: the apps can read and write exposures, nothing else.
        scope: `[concat(${inner(accountId)}, '/dbs/${DEFAULT_DATABASE_ID}')]`,
      },
      dependsOn: [accountId, resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', account, DEFAULT_DATABASE_ID, DEFAULT_CONTAINER_ID), identity.id],
    }),
  );
}

function storageAccount(name: string, sku: string, publicBlobs: boolean): ArmResource {
  return res('Microsoft.Storage/storageAccounts', name, {
    location: LOCATION,
    kind: 'StorageV2',
    sku: { name: sku },
    properties: {
      accessTier: 'Hot',
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      // Only the exports account lets a container be public: the edge reads the files anonymously.
      allowBlobPublicAccess: publicBlobs,
      allowCrossTenantReplication: false,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
      publicNetworkAccess: 'Enabled',
    },
  });
}

function storageResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const exportsId = resourceId('Microsoft.Storage/storageAccounts', names.exportsAccount);
  const blobServiceId = resourceId('Microsoft.Storage/storageAccounts/blobServices', names.exportsAccount, 'default');
  return [
    storageAccount(names.exportsAccount, profile.storage.exportsSku, true),
    res('Microsoft.Storage/storageAccounts/blobServices', `${names.exportsAccount}/default`, {
      properties: { deleteRetentionPolicy: { enabled: true, days: 7 }, containerDeleteRetentionPolicy: { enabled: true, days: 7 } },
      dependsOn: [exportsId],
    }),
    res('Microsoft.Storage/storageAccounts/blobServices/containers', `${names.exportsAccount}/default/${EXPORTS_CONTAINER}`, {
      // Phones read the files and index through the edge, which reads them anonymously.
      properties: { publicAccess: 'Blob' },
      dependsOn: [blobServiceId],
    }),
    res('Microsoft.Storage/storageAccounts/blobServices/containers', `${names.exportsAccount}/default/${STATE_CONTAINER}`, {
      properties: { publicAccess: 'None' },
      dependsOn: [blobServiceId],
    }),
    // The Functions host's own storage (timer schedule, locks): locally redundant, private.
    storageAccount(names.hostAccount, 'Standard_LRS', false),
  ];
}

function keyVaultResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const vaultId = resourceId('Microsoft.KeyVault/vaults', names.keyVault);
  return [
    res('Microsoft.KeyVault/vaults', names.keyVault, {
      location: LOCATION,
      properties: {
        tenantId: '[subscription().tenantId]',
        sku: { family: 'A', name: profile.keyVault.sku },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        publicNetworkAccess: 'Enabled',
      },
    }),
    res('Microsoft.KeyVault/vaults/keys', `${names.keyVault}/${names.signingKey}`, {
      // ES256 for export.sig; the private key never leaves the vault (HSM-backed in prod).
      properties: { kty: profile.keyVault.keyType, curveName: 'P-256', keyOps: ['sign', 'verify'], attributes: { enabled: true, exportable: false } },
      dependsOn: [vaultId],
    }),
  ];
}

function monitoringBase(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const workspaceId = resourceId('Microsoft.OperationalInsights/workspaces', names.logAnalytics);
  return [
    res('Microsoft.OperationalInsights/workspaces', names.logAnalytics, {
      location: LOCATION,
      properties: { sku: { name: 'PerGB2018' }, retentionInDays: profile.logs.retentionInDays, workspaceCapping: { dailyQuotaGb: profile.logs.dailyQuotaGb } },
    }),
    res('Microsoft.Insights/components', names.appInsights, {
      location: LOCATION,
      kind: 'web',
      // Workspace-based; local auth off: the apps send telemetry with their identity.
      properties: { Application_Type: 'web', WorkspaceResourceId: workspaceId, DisableLocalAuth: true, IngestionMode: 'LogAnalytics' },
      dependsOn: [workspaceId],
    }),
  ];
}

function plans(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const wanted = new Set<'primary' | 'secondary'>(['primary', ...profile.apiLocations]);
  return [...wanted].map((which) =>
    res('Microsoft.Web/serverfarms', names.plan(which), {
      location: locationOf(which),
      kind: profile.plan.sku.tier === 'Dynamic' ? 'functionapp' : 'elastic',
      sku: { name: profile.plan.sku.name, tier: profile.plan.sku.tier },
      properties: profile.plan.maximumElasticWorkerCount !== undefined ? { maximumElasticWorkerCount: profile.plan.maximumElasticWorkerCount } : {},
    }),
  );
}

type Setting = { name: string; value: string };

function commonSettings(names: DeploymentNames): Setting[] {
  const insightsId = resourceId('Microsoft.Insights/components', names.appInsights);
  return [
    { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' },
    { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' },
    { name: 'WEBSITE_NODE_DEFAULT_VERSION', value: '~20' },
    // The zip `keyfront deploy release` uploads is mounted read-only and run as is.
    { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '1' },
    // Identity-based host storage: no connection string, no key.
    { name: 'AzureWebJobsStorage__blobServiceUri', value: `https://${names.hostAccount}.blob.core.windows.net` },
    { name: 'AzureWebJobsStorage__queueServiceUri', value: `https://${names.hostAccount}.queue.core.windows.net` },
    { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: `[reference(${inner(insightsId)}, '${apiVersionOf('Microsoft.Insights/components')}').ConnectionString]` },
    { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' },
    { name: 'KEYFRONT_STORE', value: 'cosmos' },
    { name: 'KEYFRONT_COSMOS_ENDPOINT', value: `[reference(${inner(resourceId('Microsoft.DocumentDB/databaseAccounts', names.cosmosAccount))}, '${apiVersionOf('Microsoft.DocumentDB/databaseAccounts')}').documentEndpoint]` },
    { name: 'KEYFRONT_COSMOS_DATABASE', value: DEFAULT_DATABASE_ID },
    { name: 'KEYFRONT_COSMOS_CONTAINER', value: DEFAULT_CONTAINER_ID },
  ];
}

function secretRef(names: DeploymentNames, secret: string): string {
  return `@Microsoft.KeyVault(VaultName=${names.keyVault};SecretName=${secret})`;
}

/** Secrets of the API the operator puts in Key Vault once (README, "Deploy to Azure"). */
export const API_SECRETS = { revisionTokenKeys: 'revision-token-keys', registerKeys: 'register-keys', playIntegrityDecryptionKey: 'play-integrity-decryption-key', playIntegrityVerificationKey: 'play-integrity-verification-key' } as const;

function apiSettings(names: DeploymentNames): Setting[] {
  const profileId = resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile);
  return [
    ...commonSettings(names),
    // The profile's own ID, read at deployment: the API refuses every request without it.
    { name: 'KEYFRONT_FRONT_DOOR_ID', value: `[reference(${inner(profileId)}, '${apiVersionOf('Microsoft.Cdn/profiles')}').frontDoorId]` },
    { name: 'KEYFRONT_HEALTH_AUTHORITIES', value: "[parameters('healthAuthorities')]" },
    { name: 'KEYFRONT_REVISION_TOKEN_KEYS', value: secretRef(names, API_SECRETS.revisionTokenKeys) },
    { name: 'KEYFRONT_REGISTER_KEYS', value: secretRef(names, API_SECRETS.registerKeys) },
    { name: 'KEYFRONT_ATTESTATION', value: "[parameters('attestation')]" },
    { name: 'KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME', value: "[parameters('playIntegrityPackageName')]" },
    { name: 'KEYFRONT_APP_ATTEST_APP_ID', value: "[parameters('appAttestAppId')]" },
    // Read only in report or enforce mode; until the secrets exist the references stay unresolved.
    { name: 'KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY', value: secretRef(names, API_SECRETS.playIntegrityDecryptionKey) },
    { name: 'KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY', value: secretRef(names, API_SECRETS.playIntegrityVerificationKey) },
  ];
}

function publisherSettings(names: DeploymentNames, slot: boolean): Setting[] {
  const keyId = resourceId('Microsoft.KeyVault/vaults/keys', names.keyVault, names.signingKey);
  return [
    ...commonSettings(names),
    { name: STAGING_DISABLED_SETTING, value: slot ? 'true' : 'false' },
    { name: 'KEYFRONT_REGIONS', value: "[parameters('regions')]" },
    { name: 'KEYFRONT_BLOB_ACCOUNT_URL', value: `https://${names.exportsAccount}.blob.core.windows.net` },
    // Both profiles are read-access geo-redundant: new files enter the index once the secondary holds them.
    { name: 'KEYFRONT_BLOB_SECONDARY_URL', value: `https://${names.exportsAccount}-secondary.blob.core.windows.net` },
    { name: 'KEYFRONT_EXPORT_CONTAINER', value: EXPORTS_CONTAINER },
    { name: 'KEYFRONT_STATE_CONTAINER', value: STATE_CONTAINER },
    { name: 'KEYFRONT_SIGNER', value: 'key-vault' },
    { name: 'KEYFRONT_KEY_VAULT_KEY_ID', value: `[reference(${inner(keyId)}, '${apiVersionOf('Microsoft.KeyVault/vaults/keys')}').keyUriWithVersion]` },
    { name: 'KEYFRONT_SIGNATURE_KEY_ID', value: "[parameters('signatureKeyId')]" },
    { name: 'KEYFRONT_SIGNATURE_KEY_VERSION', value: "[parameters('signatureKeyVersion')]" },
    { name: 'KEYFRONT_PURGER', value: 'front-door' },
    { name: 'KEYFRONT_FRONT_DOOR_SUBSCRIPTION_ID', value: '[subscription().subscriptionId]' },
    { name: 'KEYFRONT_FRONT_DOOR_RESOURCE_GROUP', value: '[resourceGroup().name]' },
    { name: 'KEYFRONT_FRONT_DOOR_PROFILE', value: names.frontDoorProfile },
    { name: 'KEYFRONT_FRONT_DOOR_ENDPOINT', value: names.frontDoorEndpoint },
  ];
}

function siteProperties(planId: string, settings: Setting[], alwaysReady: number | undefined): Record<string, unknown> {
  return {
    serverFarmId: planId,
    httpsOnly: true,
    clientAffinityEnabled: false,
    siteConfig: {
      appSettings: settings,
      minTlsVersion: '1.2',
      ftpsState: 'Disabled',
      http20Enabled: true,
      use32BitWorkerProcess: false,
      ...(alwaysReady !== undefined ? { minimumElasticInstanceCount: alwaysReady, functionsRuntimeScaleMonitoringEnabled: false } : {}),
    },
  };
}

function appResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const dataDeps = [
    resourceId('Microsoft.Insights/components', names.appInsights),
    resourceId('Microsoft.DocumentDB/databaseAccounts', names.cosmosAccount),
    resourceId('Microsoft.Storage/storageAccounts', names.hostAccount),
  ];
  const out: ArmResource[] = [];
  const site = (name: string, planId: string, location: string, settings: Setting[], slotSettings: Setting[], deps: string[], alwaysReady?: number): void => {
    const siteId = resourceId('Microsoft.Web/sites', name);
    out.push(res('Microsoft.Web/sites', name, { location, kind: 'functionapp', identity: { type: 'SystemAssigned' }, properties: siteProperties(planId, settings, alwaysReady), dependsOn: [planId, ...deps] }));
    out.push(res('Microsoft.Web/sites/slots', `${name}/${names.slot}`, { location, kind: 'functionapp', identity: { type: 'SystemAssigned' }, properties: siteProperties(planId, slotSettings, undefined), dependsOn: [siteId] }));
  };
  profile.apiLocations.forEach((which, index) => {
    const planId = resourceId('Microsoft.Web/serverfarms', names.plan(which));
    const settings = apiSettings(names);
    site(names.apiSites[index], planId, locationOf(which), settings, settings, [...dataDeps, resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile)], profile.plan.alwaysReady);
  });
  const publisherPlan = resourceId('Microsoft.Web/serverfarms', names.plan('primary'));
  const keyId = resourceId('Microsoft.KeyVault/vaults/keys', names.keyVault, names.signingKey);
  site(names.publisherSite, publisherPlan, LOCATION, publisherSettings(names, false), publisherSettings(names, true), [...dataDeps, keyId]);
  // The staging slot's timer stays off through swaps: the setting sticks to its slot.
  out.push(
    res('Microsoft.Web/sites/config', `${names.publisherSite}/slotConfigNames`, {
      properties: { appSettingNames: [STAGING_DISABLED_SETTING] },
      dependsOn: [resourceId('Microsoft.Web/sites', names.publisherSite)],
    }),
  );
  return out;
}

function azureRoleAssignments(names: DeploymentNames, identities: AppIdentity[]): ArmResource[] {
  const out: ArmResource[] = [];
  for (const identity of identities) {
    const host = [names.hostAccount];
    out.push(roleAssignment('Microsoft.Storage/storageAccounts', host, ROLES.storageBlobDataOwner, identity.id, []));
    out.push(roleAssignment('Microsoft.Storage/storageAccounts', host, ROLES.storageQueueDataContributor, identity.id, []));
    out.push(roleAssignment('Microsoft.Insights/components', [names.appInsights], ROLES.monitoringMetricsPublisher, identity.id, []));
    if (identity.app === 'api') {
      out.push(roleAssignment('Microsoft.KeyVault/vaults', [names.keyVault], ROLES.keyVaultSecretsUser, identity.id, []));
    }
    if (identity.app === 'publisher' && identity.slot === undefined) {
      // The only identity that may sign, write exports and purge the edge: the production publisher.
      out.push(roleAssignment('Microsoft.KeyVault/vaults/keys', [names.keyVault, names.signingKey], ROLES.keyVaultCryptoUser, identity.id, []));
      out.push(roleAssignment('Microsoft.Storage/storageAccounts', [names.exportsAccount], ROLES.storageBlobDataContributor, identity.id, []));
      out.push(roleAssignment('Microsoft.Cdn/profiles', [names.frontDoorProfile], ROLES.cdnEndpointContributor, identity.id, []));
    }
  }
  return out;
}

/** The edge declaration of edge-config (`keyfrontEdge`) for this profile's names, validated. */
export function edgeDeclarationFor(profile: DeploymentProfile, names: DeploymentNames): EdgeDeclaration {
  const account = names.exportsAccount;
  return validateEdgeDeclaration(
    keyfrontEdge({
      profileName: names.frontDoorProfile,
      endpointName: names.frontDoorEndpoint,
      sku: profile.edgeSku,
      customDomains: [],
      wafPolicyName: names.wafPolicy,
      apiOrigins: names.apiSites.map((site) => ({ url: `https://${site}.azurewebsites.net`, hostHeader: `${site}.azurewebsites.net`, siteName: site })),
      exportOrigins: {
        primary: { url: `https://${account}.blob.core.windows.net`, hostHeader: `${account}.blob.core.windows.net` },
        // Both profiles are read-access geo-redundant: the -secondary endpoint serves reads when the primary cannot.
        secondary: { url: `https://${account}-secondary.blob.core.windows.net`, hostHeader: `${account}-secondary.blob.core.windows.net` },
      },
      probeRegion: '440',
    }),
    'azure',
  );
}

/** The edge's resources from edge-config's own compiler, for this profile's names. */
function edgeResourcesFor(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  return compileArmTemplate(edgeDeclarationFor(profile, names)).resources.map((resource) => {
    const copy: ArmResource = { ...resource };
    // The edge's access restriction is a child of a site this template creates: it waits for it.
    if (resource.type === 'Microsoft.Web/sites/config') {
      const site = resource.name.split('/')[0];
      copy.dependsOn = [...(resource.dependsOn ?? []), resourceId('Microsoft.Web/sites', site)];
    }
    return copy;
  });
}

export function monitoringContext(profile: DeploymentProfile, names: DeploymentNames): MonitoringContext {
  return {
    logAnalyticsWorkspaceId: resourceId('Microsoft.OperationalInsights/workspaces', names.logAnalytics),
    applicationInsightsId: resourceId('Microsoft.Insights/components', names.appInsights),
    frontDoorProfileId: resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile),
    apiSiteId: resourceId('Microsoft.Web/sites', names.apiSites[0]),
    publisherSiteId: resourceId('Microsoft.Web/sites', names.publisherSite),
    cosmosAccountId: resourceId('Microsoft.DocumentDB/databaseAccounts', names.cosmosAccount),
    storageAccountId: resourceId('Microsoft.Storage/storageAccounts', names.exportsAccount),
    keyVaultId: resourceId('Microsoft.KeyVault/vaults', names.keyVault),
    names: {
      logAnalyticsWorkspace: names.logAnalytics,
      applicationInsights: names.appInsights,
      frontDoorProfile: names.frontDoorProfile,
      apiSite: names.apiSites[0],
      publisherSite: names.publisherSite,
      cosmosAccount: names.cosmosAccount,
      storageAccount: names.exportsAccount,
      keyVault: names.keyVault,
    },
    location: LOCATION,
    namePrefix: profile.namePrefix,
    profile: profile.name,
  };
}

export function compileDeployment(profile: DeploymentProfile): ArmTemplate {
  const names = deploymentNames(profile);
  const identities = identitiesOf(names);
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    metadata: { description: `keyfront, profile ${profile.name}: generated by \`keyfront deploy compile\` from infra/profiles.ts; do not edit by hand.` },
    parameters: parameters(profile),
    resources: [
      ...cosmosResources(profile, names),
      ...storageResources(profile, names),
      ...keyVaultResources(profile, names),
      ...monitoringBase(profile, names),
      ...plans(profile, names),
      ...appResources(profile, names),
      ...edgeResourcesFor(profile, names),
      ...cosmosRoleAssignments(names, identities),
      ...azureRoleAssignments(names, identities),
      ...monitoringResources(monitoringContext(profile, names)),
    ],
    outputs: {
      frontDoorId: { type: 'string', value: `[reference(${inner(resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile))}, '${apiVersionOf('Microsoft.Cdn/profiles')}').frontDoorId]` },
      endpointHostName: { type: 'string', value: `[reference(${inner(resourceId('Microsoft.Cdn/profiles/afdEndpoints', names.frontDoorProfile, names.frontDoorEndpoint))}, '${apiVersionOf('Microsoft.Cdn/profiles/afdEndpoints')}').hostName]` },
      signingKeyUri: { type: 'string', value: `[reference(${inner(resourceId('Microsoft.KeyVault/vaults/keys', names.keyVault, names.signingKey))}, '${apiVersionOf('Microsoft.KeyVault/vaults/keys')}').keyUriWithVersion]` },
    },
  };
}

/** The parameters file beside the template: every parameter without a default, for the operator to fill in. */
export function parametersFile(template: ArmTemplate, values: Record<string, unknown> = {}): Record<string, unknown> {
  const parameters: Record<string, { value: unknown }> = {};
  for (const [name, parameter] of Object.entries(template.parameters)) {
    if (name in values) parameters[name] = { value: values[name] };
    else if (parameter.defaultValue === undefined) parameters[name] = { value: parameter.type === 'string' ? '' : null };
  }
  return { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters };
}
