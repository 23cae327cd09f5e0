/**
 * `keyfront deploy compile`: one deployment profile as one ARM template (resource-group scope).
 * Front Door comes from edge-config's compiler, never a second copy; the monitoring resources come
 * from `monitoring.ts` (the telemetry room). Everything else is here: Cosmos DB, the exports and
 * host storage accounts, Key Vault and its signing key, Log Analytics and Application Insights,
 * the hosting plans, the Function Apps with their staging slots, and every role assignment.
 * Secure by default: no account keys anywhere (identity connections only), TLS 1.2, HTTPS only.
 *
 * The apps run from a package URL in a private blob container, read with their own identity
 * (README "Deploy to Azure", decision 1): Windows Consumption and Elastic Premium apps otherwise
 * need an Azure Files content share, which only takes an account key
 * (https://learn.microsoft.com/azure/azure-functions/storage-considerations#create-an-app-without-azure-files).
 */
import { compileArmTemplate } from '../edge-config/arm/template';
import type { EdgeDeclaration } from '../edge-config/declaration';
import { EXPORTS_CONTAINER_PATH, keyfrontEdge } from '../edge-config/keyfront';
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
/** The publisher's federation import (registered only when KEYFRONT_FEDERATION_PEERS names peers): off in the staging slot too. */
export const IMPORT_FUNCTION = 'importFromPeers';
export const STAGING_IMPORT_DISABLED_SETTING = `AzureWebJobs.${IMPORT_FUNCTION}.Disabled`;

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

/** The package each site and slot runs until a release sets one: a name no release writes, so the app does not start. */
export function notReleasedPackageUrl(names: DeploymentNames, site: string): string {
  return `${packagesUrl(names, site)}/not-released.zip`;
}

/** `https://{account}.blob.core.windows.net/packages/{app}`: where the releases of a site's app lie. */
export function packagesUrl(names: DeploymentNames, site: string): string {
  const app = site === names.publisherSite ? 'publisher' : 'api';
  return `https://${names.packagesAccount(names.locationOfSite(site))}.blob.core.windows.net/${names.packagesContainer}/${app}`;
}

/** The keys of the `packageUrls` parameter: every site and `{site}/{slot}`. */
export function packageUrlKeys(names: DeploymentNames): string[] {
  return [...names.apiSites, names.publisherSite].flatMap((site) => [site, `${site}/${names.slot}`]);
}

/** Parameters `deploy apply` fills in itself; a parameters file may not set them. */
export const APPLY_OWNED_PARAMETERS = ['packageUrls', 'keyVaultCreateMode', 'signers'] as const;

/**
 * The publisher's signers, KEYFRONT_SIGNERS (publisher/signers/signer-settings.ts): what `keyfront
 * keys rotate|retire` write into the publisher's settings, passed back by `deploy apply` as the
 * `signers` parameter (an ARM deployment replaces a site's app settings). Empty on a first
 * deployment: the key's current version, pinned, under `signatureKeyId`/`signatureKeyVersion`.
 * Slot-sticky, so a swap never brings a staging slot's older list into production.
 */
export const SIGNERS_SETTING = 'KEYFRONT_SIGNERS';

function parameters(profile: DeploymentProfile, names: DeploymentNames): Record<string, ArmParameter> {
  const secondary = profile.cosmos.secondaryRegion || profile.apiLocations.includes('secondary');
  return {
    location: { type: 'string', defaultValue: '[resourceGroup().location]', metadata: { description: 'Primary region of every resource (Cosmos DB write region, storage primary, Function Apps).' } },
    ...(secondary
      ? { secondaryLocation: { type: 'string' as const, metadata: { description: "Second region: Cosmos DB failover region and the second API Function App. Use the storage account's paired region so that RA-GZRS reads come from the same place." } } }
      : {}),
    regions: { type: 'string', defaultValue: '440', metadata: { description: 'KEYFRONT_REGIONS: the regions the publisher publishes, comma-separated. The first one is the exports health probe\'s index.' } },
    healthAuthorities: { type: 'string', metadata: { description: 'KEYFRONT_HEALTH_AUTHORITIES: JSON array of health authorities and their public JWKs (public data, not a secret).' } },
    signatureKeyId: { type: 'string', defaultValue: '440', metadata: { description: 'The key id phones know the first signing key by (verification_key_id, e.g. the MCC). Used on the first deployment only: later the signers are those of the running publisher (keyfront keys rotate).' } },
    signatureKeyVersion: { type: 'string', defaultValue: 'v1', metadata: { description: 'The key version phones know the first signing key by (verification_key_version). Used on the first deployment only, as signatureKeyId.' } },
    federationPeers: { type: 'string', defaultValue: '', metadata: { description: 'KEYFRONT_FEDERATION_PEERS: JSON array of the peer servers whose published files the publisher imports, with their public keys (public data, not a secret; empty: no import). README "Federation".' } },
    siteFingerprintUrl: { type: 'string', defaultValue: '', metadata: { description: "KEYFRONT_SITE_FINGERPRINT_URL: the https page where the health authority publishes the signing key's fingerprint, linked from the transparency page (empty: the page says it does not know)." } },
    signers: {
      type: 'string',
      defaultValue: '',
      metadata: { description: 'KEYFRONT_SIGNERS of the publisher. Set by `deploy apply` to what the running publisher has (keyfront keys rotate writes it there), so that applying the template never changes the signing keys; empty on a first deployment.' },
    },
    cosmosZoneRedundant: {
      type: 'bool',
      defaultValue: profile.cosmos.zoneRedundant.primary,
      metadata: { description: 'Cosmos DB zone redundancy in the primary region: only in a region with availability zones, and fixed once the region is in the account.' },
    },
    ...(profile.cosmos.secondaryRegion
      ? {
          cosmosSecondaryZoneRedundant: {
            type: 'bool' as const,
            defaultValue: profile.cosmos.zoneRedundant.secondary,
            metadata: { description: 'Cosmos DB zone redundancy in the secondary region: set true only if secondaryLocation has availability zones (fixed once the region is in the account).' },
          },
        }
      : {}),
    ...(profile.cosmos.freeTier
      ? { cosmosFreeTier: { type: 'bool' as const, defaultValue: true, metadata: { description: 'Cosmos DB free tier: one account per subscription. Set false when the subscription already has one (a second dev deployment).' } } }
      : {}),
    keyVaultCreateMode: {
      type: 'string',
      defaultValue: 'default',
      allowedValues: ['default', 'recover'],
      metadata: { description: "Set by `deploy apply --recover-key-vault`: 'recover' brings back a soft-deleted vault of this name (and its signing key) after a deleted resource group." },
    },
    packageUrls: {
      type: 'object',
      defaultValue: Object.fromEntries(packageUrlKeys(names).map((key) => [key, notReleasedPackageUrl(names, key.split('/')[0])])),
      metadata: { description: 'WEBSITE_RUN_FROM_PACKAGE of each site and slot, by "site" and "site/slot". Set by `deploy apply` to what each runs now, so that applying the template never changes the code a release put there.' },
    },
    attestation: { type: 'string', defaultValue: 'off', allowedValues: ['off', 'report', 'enforce'], metadata: { description: 'KEYFRONT_ATTESTATION: device attestation of uploads (README "Device attestation"); a health authority\'s "attestation" overrides it.' } },
    playIntegrityPackageName: { type: 'string', defaultValue: '', metadata: { description: 'KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME: the Android app whose Play Integrity tokens are accepted (empty: none).' } },
    appAttestAppId: { type: 'string', defaultValue: '', metadata: { description: 'KEYFRONT_APP_ATTEST_APP_ID: the iOS app (Team ID.bundle ID) whose App Attest attestations are accepted (empty: none).' } },
  };
}

function cosmosResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const account = names.cosmosAccount;
  const accountId = resourceId('Microsoft.DocumentDB/databaseAccounts', account);
  // Zone redundancy per region, as the operator chose (a region without zones refuses it).
  const locations: Record<string, unknown>[] = [{ locationName: LOCATION, failoverPriority: 0, isZoneRedundant: "[parameters('cosmosZoneRedundant')]" }];
  if (profile.cosmos.secondaryRegion) locations.push({ locationName: SECONDARY, failoverPriority: 1, isZoneRedundant: "[parameters('cosmosSecondaryZoneRedundant')]" });
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
        // One free-tier account per subscription (https://learn.microsoft.com/azure/cosmos-db/free-tier).
        enableFreeTier: profile.cosmos.freeTier ? "[parameters('cosmosFreeTier')]" : false,
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

/**
 * Cosmos DB answers 412 PreconditionFailed ("another user operation in progress which requires an
 * exclusive lock") to concurrent role-assignment writes on one account, and ARM deploys resources
 * without a dependency between them in parallel: each assignment after the first waits for the
 * one before it.
 */
function cosmosRoleAssignments(names: DeploymentNames, identities: AppIdentity[]): ArmResource[] {
  const account = names.cosmosAccount;
  const accountId = resourceId('Microsoft.DocumentDB/databaseAccounts', account);
  const nameOf = (identity: AppIdentity) => `[concat('${account}/', guid(${inner(accountId)}, ${inner(identity.id)}, '${ROLES.cosmosDataContributor}'))]`;
  // The id of an assignment whose name is an expression: the expression's inner part, as resourceId's second argument.
  const idOf = (identity: AppIdentity) => `[resourceId('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments', '${account}', guid(${inner(accountId)}, ${inner(identity.id)}, '${ROLES.cosmosDataContributor}'))]`;
  return identities.map((identity, index) =>
    res('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments', nameOf(identity), {
      properties: {
        roleDefinitionId: `[resourceId('Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions', '${account}', '${ROLES.cosmosDataContributor}')]`,
        principalId: principalOf(identity.id),
        // The one database: the apps can read and write exposures, nothing else.
        scope: `[concat(${inner(accountId)}, '/dbs/${DEFAULT_DATABASE_ID}')]`,
      },
      dependsOn: [accountId, resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', account, DEFAULT_DATABASE_ID, DEFAULT_CONTAINER_ID), identity.id, ...(index > 0 ? [idOf(identities[index - 1])] : [])],
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
    ...packagesResources(profile, names),
  ];
}

/**
 * The app packages: one private account per API location, so that a region's apps load their code
 * from their own region. Releases write `packages/{app}/{sha256}.zip` and never overwrite one; the
 * apps read them with their identity (Storage Blob Data Reader).
 */
function packagesResources(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  const locations = new Set<'primary' | 'secondary'>(['primary', ...profile.apiLocations]);
  return [...locations].flatMap((which) => {
    const account = names.packagesAccount(which);
    return [
      { ...storageAccount(account, 'Standard_LRS', false), location: locationOf(which) },
      res('Microsoft.Storage/storageAccounts/blobServices/containers', `${account}/default/${names.packagesContainer}`, {
        properties: { publicAccess: 'None' },
        dependsOn: [resourceId('Microsoft.Storage/storageAccounts', account)],
      }),
    ];
  });
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
        // After a deleted resource group the vault stays soft-deleted for 90 days and its name taken:
        // 'recover' brings it back with its signing key (https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery).
        createMode: "[parameters('keyVaultCreateMode')]",
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
      // Workspace-based; local auth off: the apps send telemetry with their identity. IP masking stays on
      // (DisableIpMasking false, the default, written so nobody mistakes it): an address that reached
      // App Insights would be used for its city and then stored as 0.0.0.0 ("Geolocation and IP address handling").
      properties: { Application_Type: 'web', WorkspaceResourceId: workspaceId, DisableLocalAuth: true, DisableIpMasking: false, IngestionMode: 'LogAnalytics' },
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

/**
 * What every app and slot is given. `WEBSITE_RUN_FROM_PACKAGE` is a blob URL (no content share:
 * see the header), one per site and slot, from the `packageUrls` parameter.
 */
function commonSettings(names: DeploymentNames, site: string, slot: boolean): Setting[] {
  const insightsId = resourceId('Microsoft.Insights/components', names.appInsights);
  return [
    { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' },
    { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' },
    // Node 20 reached end of life on 2026-04-30; the v4 programming model runs on Node 22
    // (https://learn.microsoft.com/azure/azure-functions/functions-reference-node#supported-versions).
    { name: 'WEBSITE_NODE_DEFAULT_VERSION', value: NODE_VERSION },
    // A package URL read with the app's identity (run-functions-from-deployment-package#fetch-a-package-from-azure-blob-storage-using-a-managed-identity).
    { name: 'WEBSITE_RUN_FROM_PACKAGE', value: `[parameters('packageUrls')['${slot ? `${site}/${names.slot}` : site}']]` },
    // Identity-based host storage: no connection string, no key.
    { name: 'AzureWebJobsStorage__blobServiceUri', value: `https://${names.hostAccount}.blob.core.windows.net` },
    { name: 'AzureWebJobsStorage__queueServiceUri', value: `https://${names.hostAccount}.queue.core.windows.net` },
    { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: `[reference(${inner(insightsId)}, '${apiVersionOf('Microsoft.Insights/components')}').ConnectionString]` },
    { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' },
    // No SDK statistics to Microsoft from the host's exporter either ("Statsbeat in Application Insights"); the app sets it itself.
    { name: 'APPLICATIONINSIGHTS_STATSBEAT_DISABLED', value: 'true' },
    { name: 'KEYFRONT_STORE', value: 'cosmos' },
    { name: 'KEYFRONT_COSMOS_ENDPOINT', value: `[reference(${inner(resourceId('Microsoft.DocumentDB/databaseAccounts', names.cosmosAccount))}, '${apiVersionOf('Microsoft.DocumentDB/databaseAccounts')}').documentEndpoint]` },
    { name: 'KEYFRONT_COSMOS_DATABASE', value: DEFAULT_DATABASE_ID },
    { name: 'KEYFRONT_COSMOS_CONTAINER', value: DEFAULT_CONTAINER_ID },
  ];
}

/** The Node.js major the Function Apps run (Windows: `WEBSITE_NODE_DEFAULT_VERSION`). */
export const NODE_VERSION = '~22';

/**
 * The swap's own warm-up (App Service "Specify custom warm-up"): before a swap, the platform pings
 * this path on every instance of the staging slot and stops the swap unless it answers one of these
 * statuses. It pings from inside, without Front Door's header, so the path is the API's warm-up
 * route, which answers without it (api/functions/warmup.ts).
 */
export const SWAP_WARMUP = { path: '/api/warmup', statuses: '200' } as const;

function secretRef(names: DeploymentNames, secret: string): string {
  return `@Microsoft.KeyVault(VaultName=${names.keyVault};SecretName=${secret})`;
}

/** Secrets of the API the operator puts in Key Vault once (README, "Deploy to Azure"). */
export const API_SECRETS = { revisionTokenKeys: 'revision-token-keys', registerKeys: 'register-keys', playIntegrityDecryptionKey: 'play-integrity-decryption-key', playIntegrityVerificationKey: 'play-integrity-verification-key' } as const;

function apiSettings(names: DeploymentNames, site: string, slot: boolean): Setting[] {
  const profileId = resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile);
  return [
    ...commonSettings(names, site, slot),
    { name: 'WEBSITE_SWAP_WARMUP_PING_PATH', value: SWAP_WARMUP.path },
    { name: 'WEBSITE_SWAP_WARMUP_PING_STATUSES', value: SWAP_WARMUP.statuses },
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
    ...commonSettings(names, names.publisherSite, slot),
    { name: STAGING_DISABLED_SETTING, value: slot ? 'true' : 'false' },
    { name: STAGING_IMPORT_DISABLED_SETTING, value: slot ? 'true' : 'false' },
    { name: 'KEYFRONT_REGIONS', value: "[parameters('regions')]" },
    { name: 'KEYFRONT_FEDERATION_PEERS', value: "[parameters('federationPeers')]" },
    { name: 'KEYFRONT_SITE_FINGERPRINT_URL', value: "[parameters('siteFingerprintUrl')]" },
    { name: 'KEYFRONT_BLOB_ACCOUNT_URL', value: `https://${names.exportsAccount}.blob.core.windows.net` },
    // Both profiles are read-access geo-redundant: new files enter the index once the secondary holds them.
    { name: 'KEYFRONT_BLOB_SECONDARY_URL', value: `https://${names.exportsAccount}-secondary.blob.core.windows.net` },
    { name: 'KEYFRONT_EXPORT_CONTAINER', value: EXPORTS_CONTAINER },
    { name: 'KEYFRONT_STATE_CONTAINER', value: STATE_CONTAINER },
    // The signer list the running publisher has, or on a first deployment the key's one version, pinned:
    // keyUriWithVersion follows the key's current version, so after a rotation it must never be read again.
    {
      name: SIGNERS_SETTING,
      value: `[if(empty(parameters('signers')), string(createArray(createObject('keyId', parameters('signatureKeyId'), 'keyVersion', parameters('signatureKeyVersion'), 'keyVaultKeyId', reference(${inner(keyId)}, '${apiVersionOf('Microsoft.KeyVault/vaults/keys')}').keyUriWithVersion))), parameters('signers'))]`,
    },
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
    const name = names.apiSites[index];
    site(name, planId, locationOf(which), apiSettings(names, name, false), apiSettings(names, name, true), [...dataDeps, resourceId('Microsoft.Cdn/profiles', names.frontDoorProfile)], profile.plan.alwaysReady);
  });
  const publisherPlan = resourceId('Microsoft.Web/serverfarms', names.plan('primary'));
  const keyId = resourceId('Microsoft.KeyVault/vaults/keys', names.keyVault, names.signingKey);
  site(names.publisherSite, publisherPlan, LOCATION, publisherSettings(names, false), publisherSettings(names, true), [...dataDeps, keyId]);
  // The staging slot's timer stays off through swaps: the setting sticks to its slot.
  out.push(
    res('Microsoft.Web/sites/config', `${names.publisherSite}/slotConfigNames`, {
      properties: { appSettingNames: [STAGING_DISABLED_SETTING, STAGING_IMPORT_DISABLED_SETTING, SIGNERS_SETTING] },
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
    // Every site and slot reads its region's packages (a swap brings the slot's package to production's identity).
    out.push(roleAssignment('Microsoft.Storage/storageAccounts', [names.packagesAccount(names.locationOfSite(identity.site))], ROLES.storageBlobDataReader, identity.id, []));
    if (identity.app === 'api') {
      out.push(roleAssignment('Microsoft.KeyVault/vaults', [names.keyVault], ROLES.keyVaultSecretsUser, identity.id, []));
    }
    if (identity.app === 'publisher' && identity.slot === undefined) {
      // The only identity that may sign, write exports and purge the edge: the production publisher.
      out.push(roleAssignment('Microsoft.KeyVault/vaults/keys', [names.keyVault, names.signingKey], ROLES.keyVaultCryptoUser, identity.id, []));
      out.push(roleAssignment('Microsoft.Storage/storageAccounts', [names.exportsAccount], ROLES.storageBlobDataContributor, identity.id, []));
      // Front Door purge is Microsoft.Cdn/profiles/afdendpoints/purge/action: CDN Profile Contributor on the profile holds it
      // (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/networking#cdn-profile-contributor).
      out.push(roleAssignment('Microsoft.Cdn/profiles', [names.frontDoorProfile], ROLES.cdnProfileContributor, identity.id, []));
    }
  }
  return out;
}

/** The edge declaration of edge-config (`keyfrontEdge`) for this profile's names, validated. */
export function edgeDeclarationFor(profile: DeploymentProfile, names: DeploymentNames): EdgeDeclaration {
  const account = names.exportsAccount;
  const declaration = keyfrontEdge({
    profileName: names.frontDoorProfile,
    endpointName: names.frontDoorEndpoint,
    sku: profile.edgeSku,
    customDomains: [],
    wafPolicyName: names.wafPolicy,
    // Each site and its staging slot admit only this profile (App Service access restrictions are per slot).
    apiOrigins: names.apiSites.map((site) => ({ url: `https://${site}.azurewebsites.net`, hostHeader: `${site}.azurewebsites.net`, siteName: site, slots: [names.slot] })),
    exportOrigins: {
      primary: { url: `https://${account}.blob.core.windows.net`, hostHeader: `${account}.blob.core.windows.net` },
      // Both profiles are read-access geo-redundant: the -secondary endpoint serves reads when the primary cannot.
      secondary: { url: `https://${account}-secondary.blob.core.windows.net`, hostHeader: `${account}-secondary.blob.core.windows.net` },
    },
    // Replaced in the template by the first region of the `regions` parameter (EXPORTS_PROBE_PATH).
    probeRegion: '440',
  });
  // Every edge location probes every origin (about two requests a minute each at 30 s): with one API
  // origin there is nothing to fail over to, and on Consumption each probe is a billed execution and
  // a store read. Front Door allows a single-origin group without probes
  // (https://learn.microsoft.com/azure/frontdoor/health-probes).
  const originGroups = declaration.originGroups.map((group) => (group.name === 'api' && group.origins.length === 1 ? { ...group, healthProbe: undefined } : group));
  return validateEdgeDeclaration({ ...declaration, originGroups }, 'azure');
}

/**
 * The exports health probe reads the index of the first region the publisher publishes (the
 * `regions` parameter), which exists from the publisher's first run on.
 */
export const EXPORTS_PROBE_PATH = `[concat('${EXPORTS_CONTAINER_PATH}/v1/', first(split(parameters('regions'), ',')), '/index.txt')]`;

/** The edge's resources from edge-config's own compiler, for this profile's names. */
function edgeResourcesFor(profile: DeploymentProfile, names: DeploymentNames): ArmResource[] {
  return compileArmTemplate(edgeDeclarationFor(profile, names)).resources.map((resource) => {
    const copy: ArmResource = { ...resource };
    // The edge's access restriction is a child of a site or slot this template creates: it waits for it.
    if (resource.type === 'Microsoft.Web/sites/config') {
      copy.dependsOn = [...(resource.dependsOn ?? []), resourceId('Microsoft.Web/sites', resource.name.split('/')[0])];
    }
    if (resource.type === 'Microsoft.Web/sites/slots/config') {
      const [site, slot] = resource.name.split('/');
      copy.dependsOn = [...(resource.dependsOn ?? []), resourceId('Microsoft.Web/sites/slots', site, slot)];
    }
    const probe = (resource.properties as { healthProbeSettings?: Record<string, unknown> } | undefined)?.healthProbeSettings;
    if (resource.type === 'Microsoft.Cdn/profiles/originGroups' && resource.name.endsWith('/exports') && probe) {
      copy.properties = { ...resource.properties, healthProbeSettings: { ...probe, probePath: EXPORTS_PROBE_PATH } };
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
    parameters: parameters(profile, names),
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
