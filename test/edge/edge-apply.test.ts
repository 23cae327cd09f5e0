/**
 * `keyfront edge apply` and `edge purge` against the ARM stand-in: real `@azure/arm-cdn` and
 * `@azure/arm-frontdoor` clients over HTTPS, checked by the stand-in for paths, api-versions and
 * bodies. The stand-in stores what the SDKs serialized, so comparing it with the compiled template
 * shows that every property name of the template is one the 2024-02-01 SDK models know.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { Command } from 'commander';
import { applyEdgePlan, createEdgeClients, formatPlan, planEdge, type EdgeClientOptions } from '../../edge-config/arm/apply';
import { compileArmTemplate } from '../../edge-config/arm/template';
import { loadAzureEdgeConfig } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { main } from '../../scripts/cli';
import { CliError } from '../../scripts/cli-error';
import { registerEdgeCommands, type EdgeCommandDeps } from '../../scripts/commands/edge';
import { seedEndpoint, seedSite, startArmStandIn, type ArmStandIn } from '../support/arm-stand-in';

const RG = 'rg-keyfront';
const SITES = ['kf-api-jpe', 'kf-api-jpw'];

describe('edge apply against the ARM stand-in', () => {
  let arm: ArmStandIn;
  let env: Record<string, string>;
  let azure: EdgeClientOptions;

  beforeAll(async () => {
    arm = await startArmStandIn({ pollsBeforeDone: 1 });
    env = {
      KEYFRONT_EDGE_SUBSCRIPTION_ID: arm.subscriptionId,
      KEYFRONT_EDGE_RESOURCE_GROUP: RG,
      KEYFRONT_EDGE_API_SITES: SITES.join(','),
      KEYFRONT_EDGE_STORAGE_ACCOUNT: 'kfexports',
      KEYFRONT_EDGE_CUSTOM_DOMAINS: 'exports.example.org',
    };
    azure = { credential: arm.credential, clientOptions: arm.clientOptions(), pollIntervalInMs: 5 };
    for (const site of SITES) seedSite(arm, RG, site, ['staging']);
  });
  afterAll(() => arm.stop());

  const declaration = () => validateEdgeDeclaration(keyfrontEdge(loadAzureEdgeConfig(env).environment), 'azure');
  const clients = () => createEdgeClients(arm.subscriptionId, azure);
  const target = () => ({ subscriptionId: arm.subscriptionId, resourceGroupName: RG });

  /** Runs `keyfront edge ...` with the stand-in's credential; resolves to its output, or throws its CliError. */
  async function cli(...args: string[]): Promise<string> {
    let out = '';
    const deps: EdgeCommandDeps = { env, write: (text) => (out += text), azure };
    const program = new Command('keyfront').exitOverride();
    registerEdgeCommands(program, deps);
    await program.parseAsync(args, { from: 'user' });
    return out;
  }

  it('plans every resource as a create on an empty resource group, and a dry run writes nothing', async () => {
    arm.reset();
    const out = await cli('edge', 'apply', '--dry-run');
    expect(out).toContain(`Plan for Front Door profile keyfront-edge (resource group ${RG}`);
    expect(out).toContain('+ create    Microsoft.Cdn/profiles keyfront-edge');
    expect(out).toContain('+ create    Microsoft.Cdn/profiles/afdEndpoints/routes keyfront-edge/keyfront/exports');
    expect(out).toContain('~ update    Microsoft.Web/sites/config kf-api-jpe/web');
    expect(out).toContain('~ update    Microsoft.Web/sites/slots/config kf-api-jpe/staging/web');
    expect(out).toMatch(/30 to create, 4 to update, 0 to delete, 0 unchanged\./);
    expect(out).toContain('Dry run: nothing was changed.');
    expect(arm.writes()).toEqual([]);
    expect(arm.violations).toEqual([]);
  });

  it('creates parents before children, and Azure then holds exactly the compiled properties', async () => {
    arm.reset();
    const out = await cli('edge', 'apply');
    expect(arm.violations).toEqual([]);
    const frontDoorId = [...arm.resources.values()].find((r) => r.type === 'Microsoft.Cdn/profiles')?.properties.frontDoorId as string;
    expect(out).toContain(`Front Door ID: ${frontDoorId}`);
    expect(out).toMatch(/Applied 34 change\(s\)\. Endpoint: keyfront-[0-9a-f]+\.z01\.azurefd\.net/);

    // The stand-in answers ParentResourceNotFound and rejects dangling references, so a successful
    // run proves the order; every write went to a documented api-version.
    for (const write of arm.writes()) {
      expect(write.apiVersion).toBe(write.path.includes('/Microsoft.Web/') ? '2023-12-01' : '2024-02-01');
    }
    const template = compileArmTemplate(declaration());
    for (const resource of template.resources) {
      if (resource.type === 'Microsoft.Web/sites/config' || resource.type === 'Microsoft.Web/sites/slots/config') continue;
      const id = `/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/${resource.type.split('/')[0]}/${resource.type
        .split('/')
        .slice(1)
        .map((type, index) => `${type}/${resource.name.split('/')[index]}`)
        .join('/')}`;
      const stored = arm.resources.get(id.toLowerCase());
      expect(stored).toBeDefined();
      // What Azure adds: states, the profile's Front Door ID, the endpoint's host name.
      const { provisioningState: _p, deploymentStatus: _d, frontDoorId: _f, ...properties } = stored?.properties ?? {};
      if (resource.type === 'Microsoft.Cdn/profiles/afdEndpoints') delete properties.hostName;
      // References are template functions in the template and concrete ids in Azure.
      const concrete = JSON.parse(JSON.stringify(resource.properties ?? {}).replace(/\[resourceId\('([^']+)', ([^\]]+)\)\]/g, (_m, type: string, names: string) => {
        const parts = [...names.matchAll(/'([^']+)'/g)].map((m) => m[1]);
        const [namespace, ...types] = type.split('/');
        return `/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/${namespace}/${types.map((t, i) => `${t}/${parts[i]}`).join('/')}`;
      }));
      expect({ type: resource.type, name: resource.name, properties }).toEqual({ type: resource.type, name: resource.name, properties: concrete });
      if (resource.sku) expect(stored?.sku).toEqual(resource.sku);
    }
    // The site and its staging slot get the same restriction; their scm sites are closed.
    for (const config of SITES.flatMap((site) => [`sites/${site}/config/web`, `sites/${site}/slots/staging/config/web`])) {
      const stored = arm.resources.get(`/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/${config}`.toLowerCase());
      expect(stored?.properties).toMatchObject({
        ipSecurityRestrictionsDefaultAction: 'Deny',
        ipSecurityRestrictions: [{ ipAddress: 'AzureFrontDoor.Backend', tag: 'ServiceTag', action: 'Allow', headers: { 'x-azure-fdid': [frontDoorId] } }],
        scmIpSecurityRestrictionsUseMain: false,
        scmIpSecurityRestrictionsDefaultAction: 'Deny',
        scmIpSecurityRestrictions: [],
      });
    }
    expect(arm.writes().filter((w) => w.path.includes('/Microsoft.Web/')).every((w) => w.method === 'PATCH')).toBe(true);
  });

  it('is idempotent: a second apply changes nothing', async () => {
    // Azure reads back each site's restrictions with its implicit "Deny all" rule appended.
    const site = createPipelineRequest({ url: `${arm.endpoint}/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITES[0]}/config/web?api-version=2023-12-01` });
    const view = JSON.parse((await clients().cdn.sendRequest(site)).bodyAsText ?? '{}') as { properties: { ipSecurityRestrictions: { name: string; priority: number }[] } };
    expect(view.properties.ipSecurityRestrictions.map((r) => [r.name, r.priority])).toEqual([['AllowKeyfrontFrontDoor', 100], ['Deny all', 2147483647]]);
    arm.reset();
    const out = await cli('edge', 'apply');
    expect(out).toMatch(/0 to create, 0 to update, 0 to delete, 34 unchanged\./);
    expect(out).toContain('Nothing to change.');
    expect(arm.writes()).toEqual([]);
  });

  it('plans an update naming the drifted field, and a delete for what the declaration no longer has', async () => {
    const routeId = `/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Cdn/profiles/keyfront-edge/afdEndpoints/keyfront/routes/exports`.toLowerCase();
    const route = arm.resources.get(routeId);
    if (!route) throw new Error('route missing');
    route.properties = { ...route.properties, cacheConfiguration: { queryStringCachingBehavior: 'UseQueryString', compressionSettings: { isCompressionEnabled: true, contentTypesToCompress: ['text/plain', 'application/json'] } } };
    const strayId = `/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Cdn/profiles/keyfront-edge/afdEndpoints/keyfront/routes/legacy`;
    arm.resources.set(strayId.toLowerCase(), { id: strayId, name: 'legacy', type: 'Microsoft.Cdn/profiles/afdendpoints/routes', properties: { patternsToMatch: ['/old/*'] } });
    arm.reset();

    const plan = await planEdge(declaration(), clients(), target(), azure);
    const text = formatPlan(plan);
    expect(text).toContain('~ update    Microsoft.Cdn/profiles/afdEndpoints/routes keyfront-edge/keyfront/exports  (cacheConfiguration.queryStringCachingBehavior)');
    expect(text).toContain('- delete    Microsoft.Cdn/profiles/afdEndpoints/routes keyfront-edge/keyfront/legacy  (not in the declaration)');
    expect(arm.writes()).toEqual([]);

    const steps: string[] = [];
    await applyEdgePlan(plan, declaration(), clients(), { ...azure, onStep: (line) => steps.push(line) });
    expect(steps).toEqual(['~ updated Microsoft.Cdn/profiles/afdEndpoints/routes keyfront-edge/keyfront/exports', '- deleted Microsoft.Cdn/profiles/afdEndpoints/routes keyfront-edge/keyfront/legacy']);
    expect(arm.writes().map((w) => `${w.method} ${w.path.split('/').slice(-2).join('/')}`)).toEqual(['PUT routes/exports', 'DELETE routes/legacy']);
    expect(arm.resources.has(strayId.toLowerCase())).toBe(false);
    expect(arm.violations).toEqual([]);
  });

  it('stops at the first refused change and says which, after how many', async () => {
    const groupId = `/subscriptions/${arm.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Cdn/profiles/keyfront-edge/originGroups/api`.toLowerCase();
    const group = arm.resources.get(groupId);
    if (!group) throw new Error('group missing');
    group.properties = { ...group.properties, sessionAffinityState: 'Enabled' };
    arm.failNext({ method: 'PUT', pathIncludes: '/originGroups/api', status: 403, code: 'AuthorizationFailed', message: 'The client does not have authorization' });
    arm.reset();
    const failure = cli('edge', 'apply').catch((error: unknown) => error);
    const error = (await failure) as CliError;
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('update of Microsoft.Cdn/profiles/originGroups keyfront-edge/api failed after 0 change(s): HTTP 403 AuthorizationFailed');
  });

  it('purges through Front Door with `edge purge --paths`', async () => {
    seedEndpoint(arm, RG, 'keyfront-edge', 'keyfront');
    arm.reset();
    const out = await cli('edge', 'purge', '--paths', '/v1/440/index.txt', '/v1/440/index.json');
    expect(out).toBe('purged /v1/440/index.txt /v1/440/index.json from front-door:keyfront-edge/keyfront\n');
    expect(arm.purges).toEqual([{ endpointId: expect.stringMatching(/\/afdEndpoints\/keyfront$/), contentPaths: ['/v1/440/index.txt', '/v1/440/index.json'] }]);
    expect(arm.violations).toEqual([]);
  });

  it('refuses bad purge paths before calling Azure, with the usage exit code', async () => {
    arm.reset();
    await expect(cli('edge', 'purge', '--paths', 'v1/440/index.txt')).rejects.toMatchObject({ exitCode: 2, message: '--paths must start with "/", got "v1/440/index.txt"' });
    expect(arm.requests).toEqual([]);
  });
});

describe('keyfront edge on the command line', () => {
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  const written = (spy: jest.SpyInstance) => spy.mock.calls.map((call) => String(call[0])).join('');
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });

  it('compiles the ARM template to a file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'keyfront-edge-'));
    try {
      const file = path.join(dir, 'edge.json');
      await expect(main(['edge', 'compile', '--out', file])).resolves.toBe(0);
      expect(written(stdout)).toBe(`wrote ${file}\n`);
      const template = JSON.parse(await readFile(file, 'utf8')) as { resources: { type: string }[] };
      expect(template.resources.map((r) => r.type)).toContain('Microsoft.Network/FrontDoorWebApplicationFirewallPolicies');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings with the usage exit code, naming the variable and no stack trace', async () => {
    const saved = process.env.KEYFRONT_EDGE_SKU;
    process.env.KEYFRONT_EDGE_SKU = 'Standard_Verizon';
    try {
      await expect(main(['edge', 'compile'])).resolves.toBe(2);
      expect(written(stderr)).toContain('KEYFRONT_EDGE_SKU must be Standard_AzureFrontDoor or Premium_AzureFrontDoor, got "Standard_Verizon"');
      expect(written(stderr)).not.toMatch(/\n\s+at /);
      expect(written(stdout)).toBe('');
    } finally {
      if (saved === undefined) delete process.env.KEYFRONT_EDGE_SKU;
      else process.env.KEYFRONT_EDGE_SKU = saved;
    }
  });

  it.each([
    [['--admin-url', 'notaurl'], '--admin-url must be an http:// or https:// URL such as http://127.0.0.1:8089, got "notaurl"'],
    [['--admin-url', 'ftp://127.0.0.1:8089'], '--admin-url must be an http:// or https:// URL such as http://127.0.0.1:8089, got "ftp://127.0.0.1:8089"'],
  ])('refuses purge %j with the usage exit code, naming the option', async (flags, message) => {
    await expect(main(['edge', 'purge', ...flags, '--paths', '/v1/440/*'])).resolves.toBe(2);
    expect(written(stderr)).toBe(`keyfront: ${message}\n`);
    expect(written(stdout)).toBe('');
  });

  it('names --paths, not the API field, for a bad purge path', async () => {
    await expect(main(['edge', 'purge', '--local', '--paths', '/v1/440/index.txt', '/v1/*.zip'])).resolves.toBe(2);
    expect(written(stderr)).toBe('keyfront: --paths may hold "*" only as a final "/*", got "/v1/*.zip"\n');
  });

  it('fails apply without a subscription and resource group, naming the variables', async () => {
    const saved = { ...process.env };
    delete process.env.KEYFRONT_EDGE_SUBSCRIPTION_ID;
    delete process.env.KEYFRONT_EDGE_RESOURCE_GROUP;
    try {
      await expect(main(['edge', 'apply', '--dry-run'])).resolves.toBe(2);
      expect(written(stderr)).toContain('edge apply needs KEYFRONT_EDGE_SUBSCRIPTION_ID and KEYFRONT_EDGE_RESOURCE_GROUP');
    } finally {
      process.env = saved;
    }
  });
});
