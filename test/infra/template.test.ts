/** The compiled deployment templates, read as JSON: the schema-level check and the properties issue 12 asks for. */
import { compileArmTemplate } from '../../edge-config/arm/template';
import { DEFAULT_TTL_SECONDS } from '../../exposures/cosmos-store';
import { ROLES } from '../../infra/api-versions';
import type { ArmResource, ArmTemplate } from '../../infra/arm';
import { checkTemplate } from '../../infra/check';
import { deploymentNames, deploymentProfile, DeploymentProfileError } from '../../infra/profiles';
import { compileDeployment, edgeDeclarationFor, EXPORTS_PROBE_PATH, NODE_VERSION, notReleasedPackageUrl, parametersFile, STAGING_DISABLED_SETTING, STAGING_IMPORT_DISABLED_SETTING, SWAP_WARMUP } from '../../infra/template';

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
    const included = template.resources.filter((r) => r.type.startsWith('Microsoft.Cdn/') || r.type.startsWith('Microsoft.Network/') || (r.type.startsWith('Microsoft.Web/sites/') && r.type.endsWith('/config') && r.name.endsWith('/web')));
    // Differences: the configs wait for their site or slot, and the exports probe reads the first region of the parameter.
    const probe = (r: ArmResource) => (r.properties as { healthProbeSettings?: { probePath: string } } | undefined)?.healthProbeSettings;
    const normalized = included.map(({ dependsOn, ...rest }) => {
      const copy = structuredClone({ ...rest, dependsOn: dependsOn?.filter((d) => !d.startsWith("[resourceId('Microsoft.Web/sites',") && !d.startsWith("[resourceId('Microsoft.Web/sites/slots',")) });
      if (probe(copy as ArmResource)?.probePath === EXPORTS_PROBE_PATH) probe(copy as ArmResource)!.probePath = '/exports/v1/440/index.txt';
      return copy;
    });
    expect(normalized).toEqual(edge);
    expect(one(template, 'Microsoft.Cdn/profiles', `${profile.namePrefix}-edge`).sku).toEqual({ name: sku });
  });

  it('writes a parameters file naming every parameter without a default', () => {
    const file = parametersFile(prod, { secondaryLocation: 'japanwest' }) as { parameters: Record<string, { value: unknown }> };
    expect(Object.keys(file.parameters).sort()).toEqual(['healthAuthorities', 'secondaryLocation']);
    // What deploy apply sets itself has a default: the operator never fills it in.
    expect(prod.parameters.packageUrls.defaultValue).toMatchObject({ 'kfprod-api-1': notReleasedPackageUrl(prodNames, 'kfprod-api-1'), 'kfprod-api-2/staging': notReleasedPackageUrl(prodNames, 'kfprod-api-2') });
    expect(prod.parameters.keyVaultCreateMode).toMatchObject({ defaultValue: 'default', allowedValues: ['default', 'recover'] });
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
    // Zone redundancy per region, a choice: on in the primary, off in the secondary by default (it may have no zones).
    expect(account.locations).toEqual([
      { locationName: "[parameters('location')]", failoverPriority: 0, isZoneRedundant: "[parameters('cosmosZoneRedundant')]" },
      { locationName: "[parameters('secondaryLocation')]", failoverPriority: 1, isZoneRedundant: "[parameters('cosmosSecondaryZoneRedundant')]" },
    ]);
    expect([prod.parameters.cosmosZoneRedundant.defaultValue, prod.parameters.cosmosSecondaryZoneRedundant.defaultValue]).toEqual([true, false]);
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

  it('two API apps and a publisher app: system identities, identity connections, run from a package URL on Node 22, a staging slot each', () => {
    const sites = ofType(prod, 'Microsoft.Web/sites');
    expect(sites.map((s) => s.name)).toEqual(['kfprod-api-1', 'kfprod-api-2', 'kfprod-publisher']);
    for (const site of sites) {
      expect(site.identity).toEqual({ type: 'SystemAssigned' });
      expect(site.properties).toMatchObject({ httpsOnly: true, siteConfig: { minTlsVersion: '1.2', ftpsState: 'Disabled' } });
      const settings = settingsOf(site);
      expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: `[parameters('packageUrls')['${site.name}']]`, WEBSITE_NODE_DEFAULT_VERSION: '~22', FUNCTIONS_EXTENSION_VERSION: '~4', FUNCTIONS_WORKER_RUNTIME: 'node', 'AzureWebJobsStorage__blobServiceUri': 'https://kfprodhost.blob.core.windows.net', APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD', APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true' });
      expect(settingsOf(one(prod, 'Microsoft.Web/sites/slots', `${site.name}/staging`)).WEBSITE_RUN_FROM_PACKAGE).toBe(`[parameters('packageUrls')['${site.name}/staging']]`);
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
    expect(publisher).toMatchObject({ KEYFRONT_PURGER: 'front-door', KEYFRONT_BLOB_ACCOUNT_URL: 'https://kfprodexports.blob.core.windows.net', [STAGING_DISABLED_SETTING]: 'false' });
    // The signers: those of the running publisher (deploy apply passes them back), else the key's version at the first deployment.
    expect(publisher.KEYFRONT_SIGNERS).toMatch(/^\[if\(empty\(parameters\('signers'\)\), string\(createArray\(createObject\('keyId', parameters\('signatureKeyId'\), 'keyVersion', parameters\('signatureKeyVersion'\), 'keyVaultKeyId', reference\(.*\)\.keyUriWithVersion\)\)\), parameters\('signers'\)\)\]$/);
    expect(Object.keys(publisher).filter((key) => ['KEYFRONT_SIGNER', 'KEYFRONT_KEY_VAULT_KEY_ID', 'KEYFRONT_SIGNATURE_KEY_ID', 'KEYFRONT_SIGNATURE_KEY_VERSION'].includes(key))).toEqual([]);
    expect(settingsOf(one(prod, 'Microsoft.Web/sites/slots', 'kfprod-publisher/staging'))[STAGING_DISABLED_SETTING]).toBe('true');
    expect(one(prod, 'Microsoft.Web/sites/config', 'kfprod-publisher/slotConfigNames').properties).toEqual({ appSettingNames: [STAGING_DISABLED_SETTING, STAGING_IMPORT_DISABLED_SETTING, 'KEYFRONT_SIGNERS'] });
  });

  it("each API app and its staging slot are reachable only from the AzureFrontDoor.Backend service tag with this profile's X-Azure-FDID; their scm sites are closed", () => {
    for (const site of ['kfprod-api-1', 'kfprod-api-2']) {
      const config = one(prod, 'Microsoft.Web/sites/config', `${site}/web`);
      expect(config.properties).toMatchObject({
        ipSecurityRestrictionsDefaultAction: 'Deny',
        ipSecurityRestrictions: [{ action: 'Allow', tag: 'ServiceTag', ipAddress: 'AzureFrontDoor.Backend', headers: { 'x-azure-fdid': ["[reference(resourceId('Microsoft.Cdn/profiles', 'kfprod-edge'), '2024-02-01').frontDoorId]"] } }],
        scmIpSecurityRestrictionsUseMain: false,
        scmIpSecurityRestrictionsDefaultAction: 'Deny',
        scmIpSecurityRestrictions: [],
      });
      expect(config.dependsOn).toContain(`[resourceId('Microsoft.Web/sites', '${site}')]`);
      const slot = one(prod, 'Microsoft.Web/sites/slots/config', `${site}/staging/web`);
      expect(slot.properties).toEqual(config.properties);
      expect(slot.dependsOn).toContain(`[resourceId('Microsoft.Web/sites/slots', '${site}', 'staging')]`);
    }
  });

  it("warms the API's staging slot with App Service's swap warm-up on the route that needs no Front Door header", () => {
    for (const resource of [...ofType(prod, 'Microsoft.Web/sites'), ...ofType(prod, 'Microsoft.Web/sites/slots')].filter((r) => r.name.includes('-api-'))) {
      expect(settingsOf(resource)).toMatchObject({ WEBSITE_SWAP_WARMUP_PING_PATH: '/api/warmup', WEBSITE_SWAP_WARMUP_PING_STATUSES: '200' });
    }
    expect(SWAP_WARMUP.path).toBe('/api/warmup');
  });

  it("runs every app from its region's private packages account, which every site and slot identity may read and none may write", () => {
    for (const account of ['kfprodpackages', 'kfprodpackages2']) {
      expect(one(prod, 'Microsoft.Storage/storageAccounts', account).properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: false });
      expect(one(prod, 'Microsoft.Storage/storageAccounts/blobServices/containers', `${account}/default/packages`).properties).toEqual({ publicAccess: 'None' });
    }
    expect(one(prod, 'Microsoft.Storage/storageAccounts', 'kfprodpackages2').location).toBe("[parameters('secondaryLocation')]");
    const readers = ofType(prod, 'Microsoft.Authorization/roleAssignments').filter((a) => String((a.properties as { roleDefinitionId: string }).roleDefinitionId).includes(ROLES.storageBlobDataReader));
    expect(readers.map((a) => [a.scope, String((a.properties as { principalId: string }).principalId).match(/'(kfprod-[a-z0-9-]+)'(?:, '(staging)')?\)/)!.slice(1).filter(Boolean).join('/')])).toEqual([
      ['Microsoft.Storage/storageAccounts/kfprodpackages', 'kfprod-api-1'],
      ['Microsoft.Storage/storageAccounts/kfprodpackages', 'kfprod-api-1/staging'],
      ['Microsoft.Storage/storageAccounts/kfprodpackages2', 'kfprod-api-2'],
      ['Microsoft.Storage/storageAccounts/kfprodpackages2', 'kfprod-api-2/staging'],
      ['Microsoft.Storage/storageAccounts/kfprodpackages', 'kfprod-publisher'],
      ['Microsoft.Storage/storageAccounts/kfprodpackages', 'kfprod-publisher/staging'],
    ]);
  });

  it('gives the production publisher CDN Profile Contributor on the profile (Front Door purge), and nobody CDN Endpoint Contributor', () => {
    const purge = ofType(prod, 'Microsoft.Authorization/roleAssignments').filter((a) => String((a.properties as { roleDefinitionId: string }).roleDefinitionId).includes('ec156ff8-a8d1-4d15-830c-5b80698ca432'));
    expect(purge.map((a) => [a.scope, (a.properties as { principalId: string }).principalId])).toEqual([['Microsoft.Cdn/profiles/kfprod-edge', "[reference(resourceId('Microsoft.Web/sites', 'kfprod-publisher'), '2023-12-01', 'full').identity.principalId]"]]);
    expect(JSON.stringify(prod)).not.toContain('426e0c7f-0c7e-4658-b36f-ff54d6c29b45');
  });

  it('writes the Cosmos DB role assignments one after another (Cosmos refuses concurrent ones with 412)', () => {
    const assignments = ofType(prod, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
    assignments.forEach((assignment, index) => {
      const chained = assignment.dependsOn!.filter((d) => d.includes('sqlRoleAssignments'));
      if (index === 0) expect(chained).toEqual([]);
      else expect(chained).toEqual([`[resourceId('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments', 'kfprod-cosmos', ${assignments[index - 1].name.slice("[concat('kfprod-cosmos/', ".length, -2)})]`]);
    });
  });

  it('skips query validation on every log alert: a new workspace has no AppMetrics table yet', () => {
    for (const template of [prod, dev]) for (const rule of ofType(template, 'Microsoft.Insights/scheduledQueryRules')) expect((rule.properties as { skipQueryValidation?: boolean }).skipQueryValidation).toBe(true);
  });

  it('reads the exports probe from the first published region, never a fixed one; probes the API only where there is a second origin', () => {
    for (const template of [prod, dev]) {
      const exportsGroup = template.resources.find((r) => r.type === 'Microsoft.Cdn/profiles/originGroups' && r.name.endsWith('/exports'))!;
      expect((exportsGroup.properties as { healthProbeSettings: { probePath: string } }).healthProbeSettings.probePath).toBe("[concat('/exports/v1/', first(split(parameters('regions'), ',')), '/index.txt')]");
      expect(JSON.stringify(template.resources.filter((r) => r.type.startsWith('Microsoft.Cdn/')))).not.toMatch(/\/v1\/440\//);
    }
    const apiGroup = (template: ArmTemplate) => template.resources.find((r) => r.type === 'Microsoft.Cdn/profiles/originGroups' && r.name.endsWith('/api'))!.properties as { healthProbeSettings?: { probePath: string } };
    expect(apiGroup(prod).healthProbeSettings?.probePath).toBe('/api/health');
    expect(apiGroup(dev).healthProbeSettings).toBeUndefined();
  });

  it('runs Node 22 in every app and slot, and recovers a soft-deleted vault on request', () => {
    for (const template of [prod, dev]) {
      for (const resource of [...ofType(template, 'Microsoft.Web/sites'), ...ofType(template, 'Microsoft.Web/sites/slots')]) expect(settingsOf(resource).WEBSITE_NODE_DEFAULT_VERSION).toBe(NODE_VERSION);
      expect(ofType(template, 'Microsoft.KeyVault/vaults')[0].properties).toMatchObject({ createMode: "[parameters('keyVaultCreateMode')]", enablePurgeProtection: true });
    }
    expect(NODE_VERSION).toBe('~22');
  });

  it('device attestation: off by default from a parameter, the Play Integrity keys as Key Vault references the API can start without', () => {
    const settings = settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-api-1'));
    expect(prod.parameters.attestation).toMatchObject({ defaultValue: 'off', allowedValues: ['off', 'report', 'enforce'] });
    expect(settings.KEYFRONT_ATTESTATION).toBe("[parameters('attestation')]");
    expect(settings.KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY).toBe('@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-decryption-key)');
    expect(settings.KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY).toBe('@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-verification-key)');
    expect(settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-publisher')).KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY).toBeUndefined();
  });

  it("links the health authority's fingerprint page from the transparency page through a parameter (empty by default: the page says it does not know)", () => {
    expect(prod.parameters.siteFingerprintUrl).toMatchObject({ type: 'string', defaultValue: '' });
    for (const resource of [one(prod, 'Microsoft.Web/sites', 'kfprod-publisher'), one(prod, 'Microsoft.Web/sites/slots', 'kfprod-publisher/staging')]) {
      expect(settingsOf(resource).KEYFRONT_SITE_FINGERPRINT_URL).toBe("[parameters('siteFingerprintUrl')]");
    }
  });

  it('gives the publisher its federation peers through a parameter (empty by default: no import), and the staging slot never imports', () => {
    expect(prod.parameters.federationPeers).toMatchObject({ type: 'string', defaultValue: '' });
    const production = settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-publisher'));
    const staging = settingsOf(one(prod, 'Microsoft.Web/sites/slots', 'kfprod-publisher/staging'));
    expect([production.KEYFRONT_FEDERATION_PEERS, staging.KEYFRONT_FEDERATION_PEERS]).toEqual(["[parameters('federationPeers')]", "[parameters('federationPeers')]"]);
    expect([production[STAGING_IMPORT_DISABLED_SETTING], staging[STAGING_IMPORT_DISABLED_SETTING]]).toEqual(['false', 'true']);
    expect(settingsOf(one(prod, 'Microsoft.Web/sites', 'kfprod-api-1')).KEYFRONT_FEDERATION_PEERS).toBeUndefined();
  });

  it('Application Insights is workspace-based with local auth off; Elastic Premium hosts the apps', () => {
    expect(one(prod, 'Microsoft.Insights/components', 'kfprod-insights').properties).toMatchObject({ WorkspaceResourceId: "[resourceId('Microsoft.OperationalInsights/workspaces', 'kfprod-logs')]", DisableLocalAuth: true, DisableIpMasking: false });
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
    // One free-tier account per subscription: a parameter turns it off for a second dev deployment.
    expect(cosmos).toMatchObject({ enableFreeTier: "[parameters('cosmosFreeTier')]", enableAutomaticFailover: false });
    expect(dev.parameters.cosmosFreeTier.defaultValue).toBe(true);
    expect(prod.parameters.cosmosFreeTier).toBeUndefined();
    expect(cosmos.locations).toHaveLength(1);
    expect(one(dev, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases', 'kfdev-cosmos/keyfront').properties!.options).toEqual({ throughput: 1000 });
    expect(one(dev, 'Microsoft.Storage/storageAccounts', 'kfdevexports').sku).toEqual({ name: 'Standard_RAGRS' });
    expect(one(dev, 'Microsoft.KeyVault/vaults/keys', 'kfdev-kv/export-signing').properties).toMatchObject({ kty: 'EC', curveName: 'P-256' });
    expect(ofType(dev, 'Microsoft.Web/sites').map((s) => s.name)).toEqual(['kfdev-api-1', 'kfdev-publisher']);
    expect(dev.parameters.secondaryLocation).toBeUndefined();
  });
});
