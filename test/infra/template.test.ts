/** The compiled deployment templates, read as JSON: the schema-level check and the properties issue 12 asks for. */
import { compileArmTemplate } from '../../edge-config/arm/template';
import { DEFAULT_TTL_SECONDS } from '../../exposures/cosmos-store';
import { ROLES } from '../../infra/api-versions';
import type { ArmResource, ArmTemplate } from '../../infra/arm';
import { checkTemplate } from '../../infra/check';
import { deploymentNames, deploymentProfile, DeploymentProfileError } from '../../infra/profiles';
import { compileDeployment, edgeDeclarationFor, parametersFile, STAGING_DISABLED_SETTING } from '../../infra/template';

const prod = compileDeployment(deploymentProfile('prod'));
const dev = compileDeployment(deploymentProfile('dev'));
const prodNames = deploymentNames(deploymentProfile('prod'));

function ofType(template: ArmTemplate, type: string): ArmResource[] {
  return template.resources.filter((resource) => resource.type === type);
}
function one(template: ArmTemplate, type: string, name: string): ArmResource {
  const found = template.resources.filter((resource) => resource.type === type && resource.name === name);
  expect(found).toHaveLength(1);
  return found[0];
}
function settingsOf(resource: ArmResource): Record<string, string> {
  const list = (resource.properties?.siteConfig as { appSettings: { name: string; value: string }[] }).appSettings;
  return Object.fromEntries(list.map((s) => [s.name, s.value]));
}
function rolesHeldBy(template: ArmTemplate, role: string): string[] {
  return ofType(template, 'Microsoft.Authorization/roleAssignments')
    .filter((assignment) => String((assignment.properties as { roleDefinitionId: string }).roleDefinitionId).includes(role))
    .map((assignment) => String((assignment.properties as { principalId: string }).principalId));
}

describe('deploy compile: schema-level check', () => {
  it.each([
    ['dev', dev],
    ['prod', prod],
  ])('the %s template passes: known types and apiVersions, every reference resolvable, parameters described', (_name, template) => {
    expect(checkTemplate(template)).toEqual([]);
  });

  it('refuses an unknown type, a wrong apiVersion, a dangling reference, an undeclared or undescribed parameter', () => {
    const broken: ArmTemplate = structuredClone(dev);
    broken.resources.push({ type: 'Microsoft.Made/up', apiVersion: '2020-01-01', name: 'x' });
    broken.resources[0] = { ...broken.resources[0], apiVersion: '1999-01-01' };
    broken.resources[1] = { ...broken.resources[1], dependsOn: ["[resourceId('Microsoft.Storage/storageAccounts', 'nosuchaccount')]"] };
    broken.resources[2] = { ...broken.resources[2], properties: { x: "[parameters('nosuch')]" } };
    broken.parameters.undescribed = { type: 'string', metadata: { description: '' } };
    const problems = checkTemplate(broken).join('\n');
    expect(problems).toContain('Microsoft.Made/up x: type not in infra/api-versions.ts');
    expect(problems).toContain('apiVersion 1999-01-01');
    expect(problems).toContain("resourceId('Microsoft.Storage/storageAccounts', 'nosuchaccount') names no resource");
    expect(problems).toContain("parameters('nosuch') is not declared");
    expect(problems).toContain('parameter undescribed: no description');
  });

  it.each([
    ['dev', dev, 'Standard_AzureFrontDoor'],
    ['prod', prod, 'Premium_AzureFrontDoor'],
  ])("includes exactly the Front Door resources of edge-config's compiler (%s)", (name, template, sku) => {
    const profile = deploymentProfile(name);
    const edge = compileArmTemplate(edgeDeclarationFor(profile, deploymentNames(profile))).resources;
    const included = template.resources.filter((r) => r.type.startsWith('Microsoft.Cdn/') || r.type.startsWith('Microsoft.Network/') || (r.type === 'Microsoft.Web/sites/config' && r.name.endsWith('/web')));
    expect(included.map(({ dependsOn, ...rest }) => ({ ...rest, dependsOn: dependsOn?.filter((d) => !d.startsWith("[resourceId('Microsoft.Web/sites',")) }))).toEqual(edge);
    expect(one(template, 'Microsoft.Cdn/profiles', `${profile.namePrefix}-edge`).sku).toEqual({ name: sku });
  });

  it('writes a parameters file naming every parameter without a default', () => {
    const file = parametersFile(prod, { secondaryLocation: 'japanwest' }) as { parameters: Record<string, { value: unknown }> };
    expect(Object.keys(file.parameters).sort()).toEqual(['healthAuthorities', 'secondaryLocation']);
    expect(file.parameters.secondaryLocation.value).toBe('japanwest');
  });

  it('refuses a bad profile or prefix with a message naming the flag', () => {
    expect(() => deploymentProfile('staging')).toThrow(new DeploymentProfileError('--profile must be dev or prod, got "staging"'));
    expect(() => deploymentProfile('prod', 'Bad-Prefix')).toThrow(/--prefix must be 3-11 lower-case letters/);
    expect(() => deploymentProfile('prod', 'waytoolongprefix')).toThrow(/--prefix/);
  });
});

describe('deploy compile: prod', () => {
  it('Cosmos DB: two regions, automatic failover, session consistency, no keys', () => {
    const account = one(prod, 'Microsoft.DocumentDB/databaseAccounts', 'kfprod-cosmos').properties!;
    expect(account.locations).toEqual([
      { locationName: "[parameters('location')]", failoverPriority: 0, isZoneRedundant: true },
      { locationName: "[parameters('secondaryLocation')]", failoverPriority: 1, isZoneRedundant: true },
    ]);
    expect(account.enableAutomaticFailover).toBe(true);
    expect(account.consistencyPolicy).toEqual({ defaultConsistencyLevel: 'Session' });
    expect(account.disableLocalAuth).toBe(true);
  });

  it('the exposures container has the partition key, TTL and index the store expects', () => {
    const container = one(prod, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', 'kfprod-cosmos/keyfront/exposures').properties!.resource as Record<string, unknown>;
    expect(container.partitionKey).toEqual({ paths: ['/pk'], kind: 'Hash' });
    expect(container.defaultTtl).toBe(DEFAULT_TTL_SECONDS);
    expect((container.indexingPolicy as { excludedPaths: unknown }).excludedPaths).toEqual([{ path: '/*' }]);
  });

  it('every app identity (sites and staging slots) has a data-plane role on the database, and no app setting carries a key', () => {
    const assignments = ofType(prod, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
    expect(assignments).toHaveLength(2 * (prodNames.apiSites.length + 1));
    for (const assignment of assignments) expect(String(assignment.properties!.scope)).toContain("/dbs/keyfront'");
    for (const site of [...ofType(prod, 'Microsoft.Web/sites'), ...ofType(prod, 'Microsoft.Web/sites/slots')]) {
      const settings = settingsOf(site);
      // Secrets only as Key Vault references (the API's register, revision-token and Play Integrity keys).
      expect(Object.keys(settings).filter((name) => /KEYS?$|CONNECTIONSTRING$|AccountKey/i.test(name) && !/^@Microsoft\.KeyVault\(VaultName=kfprod-kv;SecretName=[a-z-]+\)$/.test(String(settings[name])))).toEqual([]);
      expect(JSON.stringify(settings)).not.toMatch(/AccountKey=|listKeys/);
      expect(settings.KEYFRONT_COSMOS_KEY).toBeUndefined();
    }
  });

  it('exports storage: RA-GZRS, shared keys off, the public exports container and the private state container', () => {
    const account = one(prod, 'Microsoft.Storage/storageAccounts', 'kfprodexports');
    expect(account.sku).toEqual({ name: 'Standard_RAGZRS' });
    expect(account.properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: true, minimumTlsVersion: 'TLS1_2', supportsHttpsTrafficOnly: true });
    expect(one(prod, 'Microsoft.Storage/storageAccounts/blobServices/containers', 'kfprodexports/default/exports').properties).toEqual({ publicAccess: 'Blob' });
    expect(one(prod, 'Microsoft.Storage/storageAccounts/blobServices/containers', 'kfprodexports/default/publisher-state').properties).toEqual({ publicAccess: 'None' });
    expect(one(prod, 'Microsoft.Storage/storageAccounts', 'kfprodhost').properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: false });
  });

  it('Key Vault Premium with RBAC and an EC-HSM P-256 key; only the production publisher holds Crypto User', () => {
    expect(one(prod, 'Microsoft.KeyVault/vaults', 'kfprod-kv').properties).toMatchObject({ sku: { family: 'A', name: 'premium' }, enableRbacAuthorization: true, enablePurgeProtection: true });
    expect(one(prod, 'Microsoft.KeyVault/vaults/keys', 'kfprod-kv/export-signing').properties).toMatchObject({ kty: 'EC-HSM', curveName: 'P-256', keyOps: ['sign', 'verify'] });
    expect(rolesHeldBy(prod, ROLES.keyVaultCryptoUser)).toEqual(["[reference(resourceId('Microsoft.Web/sites', 'kfprod-publisher'), '2023-12-01', 'full').identity.principalId]"]);
    expect(rolesHeldBy(prod, ROLES.storageBlobDataContributor)).toEqual(["[reference(resourceId('Microsoft.Web/sites', 'kfprod-publisher'), '2023-12-01', 'full').identity.principalId]"]);
  });

  it('two API apps and a publisher app: system identities, identity connections, run-from-package, a staging slot each', () => {
    const sites = ofType(prod, 'Microsoft.Web/sites');
    expect(sites.map((s) => s.name)).toEqual(['kfprod-api-1', 'kfprod-api-2', 'kfprod-publisher']);
    for (const site of sites) {
      expect(site.identity).toEqual({ type: 'SystemAssigned' });
      expect(site.properties).toMatchObject({ httpsOnly: true, siteConfig: { minTlsVersion: '1.2', ftpsState: 'Disabled' } });
      const settings = settingsOf(site);
      expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: '1', FUNCTIONS_EXTENSION_VERSION: '~4', FUNCTIONS_WORKER_RUNTIME: 'node', 'AzureWebJobsStorage__blobServiceUri': 'https://kfprodhost.blob.core.windows.net', APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' });
      expect(settings.AzureWebJobsStorage).toBeUndefined();
      expect(settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toContain("resourceId('Microsoft.Insights/components', 'kfprod-insights')");
      one(prod, 'Microsoft.Web/sites/slots', `${site.name}/staging`);
    }
    expect(settingsOf(sites[0]).KEYFRONT_FRONT_DOOR_ID).toBe("[reference(resourceId('Microsoft.Cdn/profiles', 'kfprod-edge'), '2024-02-01').frontDoorId]");
    expect(one(prod, 'Microsoft.Web/sites', 'kfprod-api-2').location).toBe("[parameters('secondaryLocation')]");
  });

  it('the API apps hold no signing setting; the publisher signs with the vault key and its staging slot never runs the timer', () => {
    for (const name of ['kfprod-api-1', 'kfprod-api-2']) {
      const settings = settingsOf(one(prod, 'Microsoft.Web/sites', name));
      expect(Object.keys(settings).filter((key) => /SIGN|KEY_VAULT|PURGER|BLOB_ACCOUNT/.test(key))).toEqual([]);
    }
    const publisher = settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-publisher'));
    expect(publisher).toMatchObject({ KEYFRONT_SIGNER: 'key-vault', KEYFRONT_PURGER: 'front-door', KEYFRONT_BLOB_ACCOUNT_URL: 'https://kfprodexports.blob.core.windows.net', [STAGING_DISABLED_SETTING]: 'false' });
    expect(publisher.KEYFRONT_KEY_VAULT_KEY_ID).toContain('keyUriWithVersion');
    expect(settingsOf(one(prod, 'Microsoft.Web/sites/slots', 'kfprod-publisher/staging'))[STAGING_DISABLED_SETTING]).toBe('true');
    expect(one(prod, 'Microsoft.Web/sites/config', 'kfprod-publisher/slotConfigNames').properties).toEqual({ appSettingNames: [STAGING_DISABLED_SETTING] });
  });

  it("each API app is reachable only from the AzureFrontDoor.Backend service tag with this profile's X-Azure-FDID", () => {
    for (const site of ['kfprod-api-1', 'kfprod-api-2']) {
      const config = one(prod, 'Microsoft.Web/sites/config', `${site}/web`);
      expect(config.properties).toMatchObject({
        ipSecurityRestrictionsDefaultAction: 'Deny',
        ipSecurityRestrictions: [{ action: 'Allow', tag: 'ServiceTag', ipAddress: 'AzureFrontDoor.Backend', headers: { 'x-azure-fdid': ["[reference(resourceId('Microsoft.Cdn/profiles', 'kfprod-edge'), '2024-02-01').frontDoorId]"] } }],
      });
      expect(config.dependsOn).toContain(`[resourceId('Microsoft.Web/sites', '${site}')]`);
    }
  });

  it('device attestation: off by default from a parameter, the Play Integrity keys as Key Vault references the API can start without', () => {
    const settings = settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-api-1'));
    expect(prod.parameters.attestation).toMatchObject({ defaultValue: 'off', allowedValues: ['off', 'report', 'enforce'] });
    expect(settings.KEYFRONT_ATTESTATION).toBe("[parameters('attestation')]");
    expect(settings.KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY).toBe('@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-decryption-key)');
    expect(settings.KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY).toBe('@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-verification-key)');
    expect(settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-publisher')).KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY).toBeUndefined();
  });

  it('Application Insights is workspace-based with local auth off; Elastic Premium hosts the apps', () => {
    expect(one(prod, 'Microsoft.Insights/components', 'kfprod-insights').properties).toMatchObject({ WorkspaceResourceId: "[resourceId('Microsoft.OperationalInsights/workspaces', 'kfprod-logs')]", DisableLocalAuth: true });
    expect(ofType(prod, 'Microsoft.Web/serverfarms').map((plan) => plan.sku)).toEqual([
      { name: 'EP1', tier: 'ElasticPremium' },
      { name: 'EP1', tier: 'ElasticPremium' },
    ]);
  });
});

describe('deploy compile: dev', () => {
  it('the cheapest tiers: Consumption, Cosmos free tier in one region, RA-GRS (for the edge secondary origin), a software key in a Standard vault', () => {
    expect(ofType(dev, 'Microsoft.Web/serverfarms').map((plan) => plan.sku)).toEqual([{ name: 'Y1', tier: 'Dynamic' }]);
    const cosmos = one(dev, 'Microsoft.DocumentDB/databaseAccounts', 'kfdev-cosmos').properties!;
    expect(cosmos).toMatchObject({ enableFreeTier: true, enableAutomaticFailover: false });
    expect(cosmos.locations).toHaveLength(1);
    expect(one(dev, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases', 'kfdev-cosmos/keyfront').properties!.options).toEqual({ throughput: 1000 });
    expect(one(dev, 'Microsoft.Storage/storageAccounts', 'kfdevexports').sku).toEqual({ name: 'Standard_RAGRS' });
    expect(one(dev, 'Microsoft.KeyVault/vaults/keys', 'kfdev-kv/export-signing').properties).toMatchObject({ kty: 'EC', curveName: 'P-256' });
    expect(ofType(dev, 'Microsoft.Web/sites').map((s) => s.name)).toEqual(['kfdev-api-1', 'kfdev-publisher']);
    expect(dev.parameters.secondaryLocation).toBeUndefined();
  });
});
