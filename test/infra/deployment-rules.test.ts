/**
 * The deployment stand-in refuses what Azure refuses: the compiled templates pass every rule, and
 * each rule fails the regression it exists for, written against resource types so that an alert,
 * a role or an assignment added later is checked the same way. Also: App Service's access
 * restriction (source first, then header) as the compiled template configures it, and Front Door's
 * purge authorized by the roles the template gives the publisher.
 */
import type { ArmResource, ArmTemplate } from '../../infra/arm';
import { ROLES } from '../../infra/api-versions';
import { deploymentNames, deploymentProfile } from '../../infra/profiles';
import { compileDeployment } from '../../infra/template';
import { FrontDoorPurger } from '../../publisher/purgers/front-door';
import { newWorld, principalOf, roleGrants, runDeployment, type AzureWorld, type DeploymentProblem } from '../support/arm-deployment';
import { accessAllowed, FRONT_DOOR_SOURCE, OUTSIDE_SOURCE } from '../support/app-service-stand-in';
import { seedEndpoint, startArmStandIn } from '../support/arm-stand-in';

const PROD_PARAMETERS = { secondaryLocation: { value: 'japanwest' }, healthAuthorities: { value: '[]' } };
const DEV_PARAMETERS = { healthAuthorities: { value: '[]' } };

function worldWithGroup(options: { subscriptionId?: string } = {}): AzureWorld {
  const world = newWorld(options);
  world.resourceGroups.set('rg', { name: 'rg', location: 'japaneast', resources: new Map() });
  return world;
}

function deployed(template: ArmTemplate, parameters: Record<string, { value: unknown }>, world = worldWithGroup()): DeploymentProblem[] {
  return runDeployment(world, 'rg', template, parameters).problems;
}

function changed(profile: 'dev' | 'prod', edit: (resources: ArmResource[]) => void): ArmTemplate {
  const template = structuredClone(compileDeployment(deploymentProfile(profile)));
  edit(template.resources);
  return template;
}

const codes = (problems: DeploymentProblem[]) => [...new Set(problems.map((p) => p.code))];

describe('the deployment stand-in', () => {
  it.each([
    ['prod', PROD_PARAMETERS],
    ['dev', DEV_PARAMETERS],
  ] as const)('deploys the compiled %s template: every rule passes', (profile, parameters) => {
    expect(deployed(compileDeployment(deploymentProfile(profile)), parameters)).toEqual([]);
  });

  it('refuses Cosmos DB role assignments written at the same time on one account (412), once per unordered pair', () => {
    const template = changed('prod', (resources) => {
      for (const r of resources) if (r.type.endsWith('/sqlRoleAssignments')) r.dependsOn = r.dependsOn!.filter((d) => !d.includes('sqlRoleAssignments'));
    });
    const problems = deployed(template, PROD_PARAMETERS);
    expect(codes(problems)).toEqual(['PreconditionFailed']);
    expect(problems).toHaveLength((6 * 5) / 2);
    expect(problems[0].message).toMatch(/^There is another user operation in progress which requires an exclusive lock on \[kfprod-cosmos\]/);
  });

  it("refuses a log alert naming a table the new workspace has not received, unless validation is skipped; an alert added later is checked the same way", () => {
    const unskipped = changed('prod', (resources) => {
      for (const r of resources) if (r.type === 'Microsoft.Insights/scheduledQueryRules') delete (r.properties as Record<string, unknown>).skipQueryValidation;
    });
    const problems = deployed(unskipped, PROD_PARAMETERS);
    expect(codes(problems)).toEqual(['BadRequest']);
    expect(problems.map((p) => p.message)).toContain("The query of scheduled query rule kfprod-publish-lag is invalid: 'where' operator: Failed to resolve table or column expression named 'AppMetrics'");
    // Once the apps have sent metrics, the same rules validate.
    const world = worldWithGroup();
    world.workspaceTables.set(`/subscriptions/${world.subscriptionId}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/kfprod-logs`.toLowerCase(), new Set(['AppMetrics']));
    expect(deployed(unskipped, PROD_PARAMETERS, world)).toEqual([]);

    const extra = changed('prod', (resources) => {
      const alert = structuredClone(resources.find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules')!);
      alert.name = 'kfprod-new-alert';
      delete (alert.properties as Record<string, unknown>).skipQueryValidation;
      (alert.properties as { criteria: { allOf: { query: string }[] } }).criteria.allOf[0].query = 'AppRequests | summarize Failures = countif(Success == false)';
      resources.push(alert);
    });
    expect(deployed(extra, PROD_PARAMETERS).map((p) => p.message)).toEqual(["The query of scheduled query rule kfprod-new-alert is invalid: 'where' operator: Failed to resolve table or column expression named 'AppRequests'"]);
  });

  it('refuses the old shape: a Windows Elastic Premium or Consumption app with neither a content share nor a package URL', () => {
    for (const profile of ['prod', 'dev'] as const) {
      const template = changed(profile, (resources) => {
        for (const r of resources.filter((x) => x.type === 'Microsoft.Web/sites' || x.type === 'Microsoft.Web/sites/slots')) {
          for (const setting of (r.properties as { siteConfig: { appSettings: { name: string; value: string }[] } }).siteConfig.appSettings) if (setting.name === 'WEBSITE_RUN_FROM_PACKAGE') setting.value = '1';
        }
      });
      const problems = deployed(template, profile === 'prod' ? PROD_PARAMETERS : DEV_PARAMETERS);
      expect(codes(problems)).toEqual(['BadRequest']);
      expect(problems[0].message).toMatch(/needs an Azure Files content share \(WEBSITE_CONTENTAZUREFILECONNECTIONSTRING, WEBSITE_CONTENTSHARE\) or WEBSITE_RUN_FROM_PACKAGE set to a package URL; it has WEBSITE_RUN_FROM_PACKAGE="1"$/);
    }
  });

  it('refuses a reference() to a resource of the deployment it does not depend on', () => {
    const template = changed('prod', (resources) => {
      const assignment = resources.find((r) => r.type === 'Microsoft.Authorization/roleAssignments')!;
      assignment.dependsOn = assignment.dependsOn!.filter((d) => !d.includes("'Microsoft.Web/sites'"));
    });
    const problems = deployed(template, PROD_PARAMETERS);
    expect(codes(problems)).toEqual(['ResourceNotFound']);
    expect(problems[0].message).toContain("reads reference('/subscriptions/");
  });

  it('refuses a role assignment of a role whose actions it does not know, naming where to read them', () => {
    const template = changed('prod', (resources) => {
      const assignment = resources.find((r) => r.type === 'Microsoft.Authorization/roleAssignments')!;
      (assignment.properties as { roleDefinitionId: string }).roleDefinitionId = "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00000000-0000-0000-0000-00000000beef')]";
    });
    expect(deployed(template, PROD_PARAMETERS).map((p) => p.message)).toEqual([expect.stringContaining('built-in-roles')]);
  });

  it('refuses zone redundancy in a region without availability zones: the secondary is a choice, off by default', () => {
    const world = worldWithGroup();
    world.regionsWithoutZones.add('japanwest');
    const template = compileDeployment(deploymentProfile('prod'));
    expect(deployed(template, PROD_PARAMETERS, world)).toEqual([]);
    const problems = deployed(template, { ...PROD_PARAMETERS, cosmosSecondaryZoneRedundant: { value: true } }, world);
    expect(problems.map((p) => p.message)).toEqual(['Zone Redundant Accounts are not supported in japanwest Location yet. (kfprod-cosmos)']);
  });

  it('refuses a parameter of the wrong type or outside its allowed values', () => {
    const template = compileDeployment(deploymentProfile('prod'));
    expect(codes(deployed(template, { ...PROD_PARAMETERS, keyVaultCreateMode: { value: 'purge' } }))).toEqual(['InvalidTemplate']);
    expect(codes(deployed(template, { ...PROD_PARAMETERS, cosmosZoneRedundant: { value: 'yes' } }))).toEqual(['InvalidTemplate']);
  });
});

describe('App Service access restrictions as the template configures them (source first, then header)', () => {
  const world = worldWithGroup();
  const result = runDeployment(world, 'rg', compileDeployment(deploymentProfile('prod')), PROD_PARAMETERS);
  const names = deploymentNames(deploymentProfile('prod'));
  const frontDoorId = String(result.resources.find((r) => r.type === 'Microsoft.Cdn/profiles')!.deployed!.runtime.frontDoorId);
  const configOf = (type: string, name: string) => result.resources.find((r) => r.type === type && r.name === name)!.deployed!.properties;

  it.each([
    { who: 'Front Door with its ID', source: FRONT_DOOR_SOURCE, fdid: frontDoorId, allowed: true },
    { who: "Front Door with another profile's ID", source: FRONT_DOOR_SOURCE, fdid: '11111111-2222-3333-4444-555555555555', allowed: false },
    { who: 'Front Door without the header', source: FRONT_DOOR_SOURCE, fdid: undefined, allowed: false },
    { who: 'an operator with the right ID', source: OUTSIDE_SOURCE, fdid: frontDoorId, allowed: false },
    { who: 'an operator without it', source: OUTSIDE_SOURCE, fdid: undefined, allowed: false },
  ])('$who: allowed $allowed on each site and staging slot; the scm sites are closed to all', ({ source, fdid, allowed }) => {
    for (const site of names.apiSites) {
      for (const config of [configOf('Microsoft.Web/sites/config', `${site}/web`), configOf('Microsoft.Web/sites/slots/config', `${site}/staging/web`)]) {
        const headers: Record<string, string> = fdid ? { 'x-azure-fdid': fdid } : {};
        const request = { method: 'GET', path: '/api/health', headers, source };
        expect(accessAllowed(config, request, false)).toBe(allowed);
        expect(accessAllowed(config, request, true)).toBe(false);
      }
    }
  });
});

describe("Front Door purge with the publisher's roles from the template", () => {
  const names = deploymentNames(deploymentProfile('prod'));

  it.each([
    { role: 'CDN Profile Contributor (the template)', replacement: undefined, allowed: true },
    { role: 'CDN Endpoint Contributor (classic CDN endpoints only)', replacement: '426e0c7f-0c7e-4658-b36f-ff54d6c29b45', allowed: false },
  ])('$role: purge allowed $allowed', async ({ replacement, allowed }) => {
    const template = structuredClone(compileDeployment(deploymentProfile('prod')));
    for (const resource of template.resources) {
      const properties = resource.properties as { roleDefinitionId?: string } | undefined;
      if (replacement && properties?.roleDefinitionId?.includes(ROLES.cdnProfileContributor)) properties.roleDefinitionId = properties.roleDefinitionId.replace(ROLES.cdnProfileContributor, replacement);
    }
    // The ARM stand-in serves the world's subscription, so the grants' scopes name its resources.
    const world = worldWithGroup();
    expect(runDeployment(world, 'rg', template, PROD_PARAMETERS).problems).toEqual([]);
    const arm = await startArmStandIn({ subscriptionId: world.subscriptionId, caller: { principalId: principalOf(world, 'rg', names.publisherSite), grants: roleGrants(world, 'rg') } });
    try {
      seedEndpoint(arm, 'rg', names.frontDoorProfile, names.frontDoorEndpoint);
      const purger = new FrontDoorPurger(
        { subscriptionId: arm.subscriptionId, resourceGroupName: 'rg', profileName: names.frontDoorProfile, endpointName: names.frontDoorEndpoint },
        { credential: arm.credential, clientOptions: arm.clientOptions(), pollIntervalInMs: 5 },
      );
      const outcome = await purger.purge(['/v1/440/index.txt']).then(
        () => 'purged',
        (error: { code?: string; retryable?: boolean }) => `${error.code} (retryable: ${error.retryable})`,
      );
      expect(outcome).toBe(allowed ? 'purged' : 'AuthorizationFailed (retryable: false)');
    } finally {
      await arm.stop();
    }
  });

  it('a purge by the staging slot or an API identity is refused: only the production publisher may purge', async () => {
    const world = worldWithGroup();
    runDeployment(world, 'rg', compileDeployment(deploymentProfile('prod')), PROD_PARAMETERS);
    for (const [site, slot] of [[names.publisherSite, 'staging'], [names.apiSites[0], undefined]] as const) {
      const arm = await startArmStandIn({ subscriptionId: world.subscriptionId, caller: { principalId: principalOf(world, 'rg', site, slot), grants: roleGrants(world, 'rg') } });
      try {
        seedEndpoint(arm, 'rg', names.frontDoorProfile, names.frontDoorEndpoint);
        const purger = new FrontDoorPurger({ subscriptionId: arm.subscriptionId, resourceGroupName: 'rg', profileName: names.frontDoorProfile, endpointName: names.frontDoorEndpoint }, { credential: arm.credential, clientOptions: arm.clientOptions(), pollIntervalInMs: 5 });
        await expect(purger.purge(['/v1/440/index.txt'])).rejects.toMatchObject({ code: 'AuthorizationFailed' });
      } finally {
        await arm.stop();
      }
    }
  });
});
