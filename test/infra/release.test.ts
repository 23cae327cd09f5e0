/**
 * `deploy apply` and `deploy release` against the ARM deploy stand-in: the real
 * @azure/arm-resources, @azure/arm-appservice, @azure/arm-cdn and @azure/storage-blob clients over
 * HTTPS, a template the stand-in evaluates and provisions with Azure's refusals, apps whose access
 * restrictions admit only the stand-in's Front Door, and packages in Azurite read with each slot's
 * identity. One prod deployment is shared by the release cases.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROUTES } from '../../api/routes';
import { deploymentNames, deploymentProfile } from '../../infra/profiles';
import { APP_FUNCTIONS } from '../../infra/release';
import { notReleasedPackageUrl, packagesUrl } from '../../infra/template';
import { applyCommand, releaseCommand, type DeployCommandDeps } from '../../scripts/commands/deploy';
import { BROKEN_HEALTH_MARKER, BROKEN_START_MARKER, startArmDeployStandIn, type ArmDeployStandIn } from '../support/arm-deploy-stand-in';
import { writeStandInPackage } from '../support/stand-in-packages';

jest.setTimeout(60_000);

const prod = deploymentNames(deploymentProfile('prod'));
const dev = deploymentNames(deploymentProfile('dev'));
let standIn: ArmDeployStandIn;
let dir: string;

function writePackage(app: 'api' | 'publisher', content: string): Promise<{ file: string; zip: Buffer; digest: string }> {
  return writeStandInPackage(dir, app, content);
}

function depsFor(out: string[], notes: string[] = []): DeployCommandDeps {
  return {
    env: {},
    write: (text) => out.push(text),
    note: (text) => notes.push(text),
    isTTY: false,
    // `$host`: the base URL of @azure/arm-resources' (older) client; `endpoint` that of the others.
    azure: { credential: standIn.credential, clientOptions: { ...standIn.clientOptions(), $host: standIn.endpoint }, fetch: standIn.fetch, hostUrl: standIn.hostUrl, blobClient: standIn.blobClient, pollIntervalInMs: 1, healthAttempts: 3 },
  };
}

const params = async (values: Record<string, unknown>): Promise<string> => {
  const file = path.join(dir, `params-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])) }));
  return file;
};
const applyFlags = (extra: Record<string, unknown>) => ({ profile: 'prod', resourceGroup: 'rg', subscription: standIn.subscriptionId, location: 'japaneast', ...extra }) as Parameters<typeof applyCommand>[0];
const releaseFlags = (extra: Record<string, unknown>) => ({ profile: 'prod', resourceGroup: 'rg', subscription: standIn.subscriptionId, ...extra }) as Parameters<typeof releaseCommand>[0];
const production = (site: string) => standIn.appService.slotOf(site, 'production')!;
const staging = (site: string) => standIn.appService.slotOf(site, 'staging')!;
const urlOf = (site: string, digest: string) => `${packagesUrl(prod, site)}/${digest}.zip`;
const throughFrontDoor = async (requestPath: string, headers: Record<string, string> = {}) => {
  const host = standIn.world.resourceGroups.get('rg')!.resources.get(`/subscriptions/${standIn.subscriptionId}/resourceGroups/rg/providers/Microsoft.Cdn/profiles/${prod.frontDoorProfile}/afdEndpoints/${prod.frontDoorEndpoint}`.toLowerCase())!.runtime.hostName as string;
  return standIn.fetch(`${standIn.hostUrl(host)}${requestPath}`, { headers });
};

beforeAll(async () => {
  standIn = await startArmDeployStandIn({ blobAccounts: [prod.packagesAccount('primary'), prod.packagesAccount('secondary'), dev.packagesAccount('primary'), 'kfrecoverpackages'] });
  dir = await mkdtemp(path.join(tmpdir(), 'kf-release-'));
});
afterAll(() => standIn.stop());
afterEach(() => expect(standIn.violations).toEqual([]));

describe('deploy apply', () => {
  it('what-if on a resource group that does not exist says so in one line with the command to run, and creates nothing', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' });
    const failure = applyCommand(applyFlags({ parameters, whatIf: true }), depsFor([]));
    await expect(failure).rejects.toMatchObject({ exitCode: 1, message: `resource group rg does not exist in subscription ${standIn.subscriptionId}: create it (az group create --name rg --location japaneast; needs rights on the subscription) or run again with --create-resource-group` });
    expect(standIn.world.resourceGroups.has('rg')).toBe(false);
  });

  it('what-if --create-resource-group creates the empty group and plans every resource as a create', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' });
    const out: string[] = [];
    const notes: string[] = [];
    await applyCommand(applyFlags({ parameters, whatIf: true, createResourceGroup: true }), depsFor(out, notes));
    expect(notes.join('')).toContain('created the empty resource group rg in japaneast');
    expect(out.join('')).toContain(`+ Create   Microsoft.KeyVault/vaults/${prod.keyVault}\n`);
    expect(out.join('')).toMatch(/what-if: \d+ Create\n$/);
    expect(standIn.world.resourceGroups.get('rg')!.resources.size).toBe(0);
  });

  it('deploys prod (every refusal of the stand-in passes), prints its outputs; what-if then shows no change', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' });
    const out: string[] = [];
    await applyCommand(applyFlags({ parameters }), depsFor(out));
    expect(out.join('')).toContain('deployed keyfront-prod to rg: Succeeded');
    expect(out.join('')).toContain(`frontDoorId: ${standIn.frontDoorId(prod.frontDoorProfile)}`);
    expect(standIn.deployments.get('keyfront-prod')!.problems).toEqual([]);
    // Until a release, each app runs a package no release writes: it does not start.
    expect(production(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(notReleasedPackageUrl(prod, prod.apiSites[0]));
    expect(production(prod.apiSites[0]).host).toMatchObject({ started: false, reason: expect.stringContaining('BlobNotFound') });

    const plan: string[] = [];
    await applyCommand(applyFlags({ parameters, whatIf: true }), depsFor(plan));
    expect(plan.join('')).toMatch(/what-if: \d+ NoChange\n$/);
  });

  it('refuses a parameters file that sets what apply sets itself, or a parameter the template lacks (exit 2, no call)', async () => {
    const before = standIn.requests.length;
    await expect(applyCommand(applyFlags({ parameters: await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]', packageUrls: {} }) }), depsFor([]))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('packageUrls is set by deploy apply itself') });
    await expect(applyCommand(applyFlags({ parameters: await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]', adminPassword: 'x' }) }), depsFor([]))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('no parameter "adminPassword"') });
    expect(standIn.requests.length).toBe(before);
  });

  it.each([
    [{}, '--parameters must give secondaryLocation, healthAuthorities'],
    [{ location: 'Japan East' }, '--location must be an Azure region name'],
    [{ subscription: undefined }, '--subscription (or AZURE_SUBSCRIPTION_ID) is required'],
  ])('refuses %j with exit 2 before any call', async (extra, message) => {
    const before = standIn.requests.length;
    await expect(applyCommand(applyFlags(extra), depsFor([]))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(message) });
    expect(standIn.requests.length).toBe(before);
  });

  it('a second dev deployment in the subscription fails on the free tier with ARM\'s details (exit 1), and deploys with cosmosFreeTier false', async () => {
    standIn.world.freeTierAccounts.add('/subscriptions/other/free-tier-account');
    try {
      const failing = applyCommand(applyFlags({ profile: 'dev', resourceGroup: 'rg-dev', parameters: await params({ healthAuthorities: '[]' }) }), depsFor([]));
      await expect(failing).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('BadRequest: Free tier has already been applied to another Azure Cosmos DB account in this subscription') });
      const out: string[] = [];
      await applyCommand(applyFlags({ profile: 'dev', resourceGroup: 'rg-dev', parameters: await params({ healthAuthorities: '[]', cosmosFreeTier: false }) }), depsFor(out));
      expect(out.join('')).toContain('deployed keyfront-dev to rg-dev: Succeeded');
    } finally {
      standIn.world.freeTierAccounts.delete('/subscriptions/other/free-tier-account');
    }
  });

  it('after a deleted resource group the vault name is taken: apply says so, and --recover-key-vault brings the vault back with its signing key', async () => {
    const parameters = await params({ healthAuthorities: '[]', cosmosFreeTier: false });
    const flags = applyFlags({ profile: 'dev', prefix: 'kfrecover', resourceGroup: 'rg-recover', parameters });
    const first: string[] = [];
    await applyCommand(flags, depsFor(first));
    const keyUri = /signingKeyUri: (\S+)/.exec(first.join(''))![1];
    standIn.deleteResourceGroup('rg-recover');

    await expect(applyCommand(flags, depsFor([]))).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/^the Key Vault name kfrecover-kv is held by a soft-deleted vault in japaneast \(purge protection keeps it 90 days\): run again with --recover-key-vault/) });
    const recovered: string[] = [];
    await applyCommand({ ...flags, recoverKeyVault: true }, depsFor(recovered));
    expect(recovered.join('')).toContain(`signingKeyUri: ${keyUri}`);
    // Once recovered, the next apply is an ordinary one; asking to recover again is refused.
    await applyCommand(flags, depsFor([]));
    await expect(applyCommand({ ...flags, recoverKeyVault: true }, depsFor([]))).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('there is no soft-deleted vault kfrecover-kv') });
  });
});

describe('deploy release', () => {
  it('the release knows the functions each package registers', () => {
    expect(APP_FUNCTIONS.api).toEqual(ROUTES.map((route) => route.name));
  });

  it('releases the API to both regions through staging and a warmed swap, checked through Front Door, never calling an app host', async () => {
    const next = await writePackage('api', 'api 1');
    const out: string[] = [];
    const notes: string[] = [];
    const from = standIn.requests.length;
    await releaseCommand(releaseFlags({ app: 'api', package: next.file }), depsFor(out, notes));
    expect(out.join('')).toBe(`released api to production on ${prod.apiSites.join(', ')} (package ${next.digest})\n`);
    for (const site of prod.apiSites) {
      // Each region's apps run the package from their own region's container.
      expect(production(site).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(urlOf(site, next.digest));
      expect(production(site).host.started).toBe(true);
      expect(staging(site).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(notReleasedPackageUrl(prod, site));
    }
    expect(urlOf(prod.apiSites[1], next.digest)).toContain(`https://${prod.packagesAccount('secondary')}.blob.core.windows.net/`);
    const made = standIn.requests.slice(from);
    expect(made.filter((r) => r.host?.endsWith('.azurewebsites.net'))).toEqual([]);
    expect(made.filter((r) => r.path.endsWith('/syncfunctiontriggers')).map((r) => r.path.split('/sites/')[1])).toEqual(prod.apiSites.map((s) => `${s}/slots/staging/syncfunctiontriggers`));
    expect(made.filter((r) => r.path.endsWith('/slotsswap')).map((r) => [r.method, r.path.split('/sites/')[1], r.apiVersion])).toEqual(prod.apiSites.map((s) => ['POST', `${s}/slots/staging/slotsswap`, '2025-05-01']));
    expect(made.filter((r) => r.host && !r.host.endsWith('.azurewebsites.net')).every((r) => r.path === '/__host/' + r.host + '/api/health')).toBe(true);
    expect(notes.join('')).toContain(`${prod.apiSites[0]}: stage done`);
  });

  it("refuses an operator's direct request to production, staging and scm with 403 even with the right X-Azure-FDID; Front Door's answers", async () => {
    const fdid = standIn.frontDoorId(prod.frontDoorProfile);
    for (const host of [`${prod.apiSites[0]}.azurewebsites.net`, `${prod.apiSites[0]}-staging.azurewebsites.net`, `${prod.apiSites[1]}-staging.azurewebsites.net`, `${prod.apiSites[0]}.scm.azurewebsites.net`]) {
      const direct = await standIn.fetch(`${standIn.hostUrl(host)}/api/health`, { headers: { 'x-azure-fdid': fdid } });
      expect([host, direct.status]).toEqual([host, 403]);
      await direct.arrayBuffer();
    }
    const edge = await throughFrontDoor('/api/health', { 'x-azure-fdid': '00000000-0000-0000-0000-000000000000' });
    expect(edge.status).toBe(200);
    expect(await edge.json()).toMatchObject({ status: 'ok' });
  });

  it('a package whose health fails after the swap is swapped back, and production answers through Front Door again', async () => {
    const good = production(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE;
    const broken = await writePackage('api', `api 2 ${BROKEN_HEALTH_MARKER}`);
    const out: string[] = [];
    await expect(releaseCommand(releaseFlags({ app: 'api', package: broken.file }), depsFor(out))).rejects.toMatchObject({ exitCode: 1 });
    expect(out.join('')).toBe(`release of api FAILED on ${prod.apiSites[0]} at check: /api/health through Front Door answered 500 (failing); swapped back: production runs the previous package; not started: ${prod.apiSites[1]}\n`);
    expect(production(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(good);
    expect(staging(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(urlOf(prod.apiSites[0], broken.digest));
    expect((await throughFrontDoor('/api/health')).status).toBe(200);
  });

  it('a package that does not start fails before the swap: production unchanged, no swap', async () => {
    const good = production(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE;
    const broken = await writePackage('api', `api 3 ${BROKEN_START_MARKER}`);
    const out: string[] = [];
    const from = standIn.requests.length;
    await expect(releaseCommand(releaseFlags({ app: 'api', package: broken.file }), depsFor(out))).rejects.toMatchObject({ exitCode: 1 });
    expect(out.join('')).toMatch(new RegExp(`^release of api FAILED on ${prod.apiSites[0]} at warm: the staging host lists no function; missing register, publish, health, warmup; production unchanged`));
    expect(standIn.requests.slice(from).filter((r) => r.path.endsWith('/slotsswap'))).toEqual([]);
    expect(production(prod.apiSites[0]).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(good);
  });

  it("App Service's own warm-up stops the swap when the ping path needs Front Door's header: production unchanged", async () => {
    const site = prod.apiSites[0];
    const good = production(site).settings.WEBSITE_RUN_FROM_PACKAGE;
    // As if the ping pointed at /api/health, which answers only requests carrying the Front Door ID.
    for (const slot of [production(site), staging(site)]) slot.settings.WEBSITE_SWAP_WARMUP_PING_PATH = '/api/health';
    try {
      const next = await writePackage('api', 'api 4');
      const out: string[] = [];
      await expect(releaseCommand(releaseFlags({ app: 'api', package: next.file }), depsFor(out))).rejects.toMatchObject({ exitCode: 1 });
      expect(out.join('')).toContain(`release of api FAILED on ${site} at swap: Cannot swap slots for site '${site}' because the application initialization in 'staging' slot either took too long or failed (warm-up /api/health answered 403).`);
      expect(out.join('')).toContain('; production unchanged');
      expect(production(site).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(good);
    } finally {
      for (const slot of [production(site), staging(site)]) slot.settings.WEBSITE_SWAP_WARMUP_PING_PATH = '/api/warmup';
    }
  });

  it('a slot set back to the old shape (WEBSITE_RUN_FROM_PACKAGE=1, no content share) does not start', async () => {
    const site = prod.apiSites[0];
    await standIn.appService.replaceSettings(staging(site), { ...staging(site).settings, WEBSITE_RUN_FROM_PACKAGE: '1' });
    expect(staging(site).host).toMatchObject({ started: false, reason: expect.stringContaining('no Azure Files content share and WEBSITE_RUN_FROM_PACKAGE="1" is not a package URL') });
    await standIn.appService.replaceSettings(staging(site), { ...staging(site).settings, WEBSITE_RUN_FROM_PACKAGE: notReleasedPackageUrl(prod, site) });
  });

  it('applying the template again keeps the package each app runs', async () => {
    const running = prod.apiSites.map((site) => production(site).settings.WEBSITE_RUN_FROM_PACKAGE);
    await applyCommand(applyFlags({ parameters: await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' }) }), depsFor([]));
    expect(prod.apiSites.map((site) => production(site).settings.WEBSITE_RUN_FROM_PACKAGE)).toEqual(running);
    expect((await throughFrontDoor('/api/health')).status).toBe(200);
  });

  it('releases the publisher: its staging slot never runs the timer, production lists publishExports', async () => {
    const next = await writePackage('publisher', 'publisher 1');
    const out: string[] = [];
    await releaseCommand(releaseFlags({ app: 'publisher', package: next.file }), depsFor(out));
    expect(out.join('')).toBe(`released publisher to production on ${prod.publisherSite} (package ${next.digest})\n`);
    expect(production(prod.publisherSite).settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: urlOf(prod.publisherSite, next.digest), 'AzureWebJobs.publishExports.Disabled': 'false' });
    expect(staging(prod.publisherSite).settings['AzureWebJobs.publishExports.Disabled']).toBe('true');
  });

  it('--digest releases a package released before (a known package restored by hand); an unknown one fails at upload with nothing changed', async () => {
    const first = await writePackage('api', 'api 1');
    const second = await writePackage('api', 'api 5');
    await releaseCommand(releaseFlags({ app: 'api', package: second.file }), depsFor([]));
    const out: string[] = [];
    await releaseCommand(releaseFlags({ app: 'api', digest: first.digest.toUpperCase() }), depsFor(out));
    expect(out.join('')).toBe(`released api to production on ${prod.apiSites.join(', ')} (package ${first.digest})\n`);
    expect(production(prod.apiSites[1]).settings.WEBSITE_RUN_FROM_PACKAGE).toBe(urlOf(prod.apiSites[1], first.digest));

    const missing = 'f'.repeat(64);
    const failed: string[] = [];
    await expect(releaseCommand(releaseFlags({ app: 'api', digest: missing }), depsFor(failed))).rejects.toMatchObject({ exitCode: 1 });
    expect(failed.join('')).toMatch(new RegExp(`^release of api FAILED on ${prod.apiSites[0]} at upload: no released package ${missing} in ${packagesUrl(prod, prod.apiSites[0]).replace(/[.]/g, '\\.')}: release it from its zip \\(--package\\); production unchanged`));
  });

  it.each([
    [{ app: 'web' }, '--app must be api or publisher, got "web"'],
    [{ app: 'api', profile: 'test' }, '--profile must be dev or prod, got "test"'],
    [{ app: 'api', subscription: 'not-a-guid' }, '--subscription must be a GUID'],
    [{ app: 'api', resourceGroup: 'bad/group' }, '--resource-group must be'],
    [{ app: 'api', package: undefined }, 'give either --package ZIP (a new package) or --digest SHA256'],
    [{ app: 'api', digest: 'abc' }, 'give either --package ZIP (a new package) or --digest SHA256'],
    [{ app: 'api', package: undefined, digest: 'abc' }, '--digest must be the 64 hex digits'],
  ])('refuses bad input %j with exit 2 before any call', async (extra, message) => {
    const next = await writePackage('api', 'x');
    const before = standIn.requests.length;
    await expect(releaseCommand({ ...releaseFlags({ package: next.file }), ...extra } as Parameters<typeof releaseCommand>[0], depsFor([]))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(message) });
    expect(standIn.requests.length).toBe(before);
  });

  it('without a sign-in, release and apply stop with one line saying what to run, before any call', async () => {
    const next = await writePackage('api', 'x');
    const deps = depsFor([]);
    deps.azure!.credential = { getToken: () => Promise.reject(new Error('ChainedTokenCredential authentication failed.\nCredentialUnavailableError: Azure CLI could not be found.')) };
    const before = standIn.requests.length;
    const expected = { exitCode: 1, message: 'cannot sign in to Azure (ChainedTokenCredential authentication failed.): run az login, or set the environment of a workload identity or service principal (AZURE_CLIENT_ID, AZURE_TENANT_ID, ...)' };
    await expect(releaseCommand(releaseFlags({ app: 'api', package: next.file }), deps)).rejects.toMatchObject(expected);
    await expect(applyCommand(applyFlags({ parameters: await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' }) }), deps)).rejects.toMatchObject(expected);
    expect(standIn.requests.length).toBe(before);
  });

  it('refuses a package that is not a zip, or missing, with exit 2', async () => {
    const text = path.join(dir, 'not.zip');
    await writeFile(text, 'hello');
    const before = standIn.requests.length;
    await expect(releaseCommand(releaseFlags({ app: 'api', package: text }), depsFor([]))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('is not a zip') });
    await expect(releaseCommand(releaseFlags({ app: 'api', package: path.join(dir, 'missing.zip') }), depsFor([]))).rejects.toMatchObject({ exitCode: 2 });
    expect(standIn.requests.length).toBe(before);
  });
});
