/**
 * `deploy release` and `deploy apply` against the ARM deploy stand-in (documented REST shapes,
 * real @azure/arm-appservice and @azure/arm-resources clients over HTTPS).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ZipFile } from 'yazl';
import { applyCommand, releaseCommand, type DeployCommandDeps } from '../../scripts/commands/deploy';
import { CliError } from '../../scripts/cli-error';
import { BROKEN_HEALTH_MARKER, startArmDeployStandIn, type ArmDeployStandIn } from '../support/arm-deploy-stand-in';

let standIn: ArmDeployStandIn;
let dir: string;

function zipOf(content: string): Promise<Buffer> {
  const file = new ZipFile();
  // Stored, not deflated: the stand-in looks for its marker in the package bytes.
  file.addBuffer(Buffer.from(content), 'dist/index.js', { mtime: new Date('2020-01-01T00:00:00Z'), compress: false });
  file.addBuffer(Buffer.from('{"version":"2.0"}'), 'host.json', { mtime: new Date('2020-01-01T00:00:00Z') });
  file.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    file.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function depsFor(out: string[], notes: string[]): DeployCommandDeps {
  return {
    env: {},
    write: (text) => out.push(text),
    note: (text) => notes.push(text),
    isTTY: false,
    // `$host`: the base URL of @azure/arm-resources' (older) client; `endpoint` that of the others.
    azure: { credential: standIn.credential, clientOptions: { ...standIn.clientOptions(), $host: standIn.endpoint }, fetch: standIn.fetch, hostUrl: standIn.hostUrl, pollIntervalInMs: 1, healthAttempts: 2 },
  };
}

async function writePackage(name: string, content: string): Promise<{ file: string; zip: Buffer }> {
  const zip = await zipOf(content);
  const file = path.join(dir, name);
  await writeFile(file, zip);
  return { file, zip };
}

beforeAll(async () => {
  standIn = await startArmDeployStandIn();
  dir = await mkdtemp(path.join(tmpdir(), 'kf-release-'));
});
afterAll(() => standIn.stop());
beforeEach(() => {
  standIn.sites.clear();
  standIn.requests.length = 0;
});
afterEach(() => expect(standIn.violations).toEqual([]));

const flags = (extra: Record<string, string>) => ({ profile: 'prod', resourceGroup: 'rg', subscription: standIn.subscriptionId, ...extra }) as Parameters<typeof releaseCommand>[0];

describe('deploy release', () => {
  it('releases the API to both regions: zip to staging, warm, swap, check production', async () => {
    const old = await zipOf('old');
    const api1 = standIn.seedSite('kfprod-api-1', 'api', old);
    const api2 = standIn.seedSite('kfprod-api-2', 'api', old);
    const next = await writePackage('api.zip', 'new api');
    const out: string[] = [];
    const notes: string[] = [];
    await releaseCommand(flags({ app: 'api', package: next.file }), depsFor(out, notes));
    expect(out.join('')).toBe('released api to production on kfprod-api-1, kfprod-api-2\n');
    for (const site of [api1, api2]) {
      expect(site.production.packageBytes?.equals(next.zip)).toBe(true);
      expect(site.staging.packageBytes?.equals(old)).toBe(true);
    }
    const swaps = standIn.requests.filter((r) => r.path.endsWith('/slotsswap'));
    expect(swaps.map((r) => [r.method, r.path.split('/sites/')[1], r.apiVersion])).toEqual([
      ['POST', 'kfprod-api-1/slots/staging/slotsswap', '2025-05-01'],
      ['POST', 'kfprod-api-2/slots/staging/slotsswap', '2025-05-01'],
    ]);
    expect(notes.join('')).toContain('kfprod-api-1: upload done');
  });

  it('a package that fails its health check in staging ends with production unchanged and no swap', async () => {
    const old = await zipOf('old');
    const api1 = standIn.seedSite('kfprod-api-1', 'api', old);
    standIn.seedSite('kfprod-api-2', 'api', old);
    const broken = await writePackage('broken.zip', `new api ${BROKEN_HEALTH_MARKER}`);
    const out: string[] = [];
    await expect(releaseCommand(flags({ app: 'api', package: broken.file }), depsFor(out, []))).rejects.toMatchObject({ exitCode: 1 });
    expect(out.join('')).toBe('release of api FAILED on kfprod-api-1 at warm: /api/health answered 500 (failing); production unchanged; not started: kfprod-api-2\n');
    expect(api1.production.packageBytes?.equals(old)).toBe(true);
    expect(standIn.requests.filter((r) => r.path.endsWith('/slotsswap'))).toEqual([]);
  });

  it('a production that fails its check after the swap is swapped back to the previous package', async () => {
    const old = await zipOf('old');
    const api1 = standIn.seedSite('kfprod-api-1', 'api', old);
    standIn.seedSite('kfprod-api-2', 'api', old);
    standIn.breakProductionAfterSwap('kfprod-api-1');
    const next = await writePackage('next.zip', 'new api, fine in staging');
    const out: string[] = [];
    await expect(releaseCommand(flags({ app: 'api', package: next.file }), depsFor(out, []))).rejects.toThrow(CliError);
    expect(out.join('')).toMatch(/^release of api FAILED on kfprod-api-1 at check: \/api\/health answered 500 \(failing\); swapped back: production runs the previous package/);
    expect(api1.production.packageBytes?.equals(old)).toBe(true);
    expect(standIn.requests.filter((r) => r.path.endsWith('/slotsswap'))).toHaveLength(2);
  });

  it('releases the publisher once its staging host indexed publishExports', async () => {
    const publisher = standIn.seedSite('kfprod-publisher', 'publisher', await zipOf('old'));
    const next = await writePackage('publisher.zip', 'new publisher');
    const out: string[] = [];
    await releaseCommand(flags({ app: 'publisher', package: next.file }), depsFor(out, []));
    expect(out.join('')).toBe('released publisher to production on kfprod-publisher\n');
    expect(publisher.production.packageBytes?.equals(next.zip)).toBe(true);
    expect(publisher.staging.settings['AzureWebJobs.publishExports.Disabled']).toBe('true');
  });

  it.each([
    [{ app: 'web' }, '--app must be api or publisher, got "web"'],
    [{ app: 'api', profile: 'test' }, '--profile must be dev or prod, got "test"'],
    [{ app: 'api', subscription: 'not-a-guid' }, '--subscription must be a GUID'],
    [{ app: 'api', resourceGroup: 'bad/group' }, '--resource-group must be'],
  ])('refuses bad input %j with exit 2 before any call', async (extra, message) => {
    const next = await writePackage('ok.zip', 'x');
    await expect(releaseCommand({ ...flags({ package: next.file }), ...extra } as Parameters<typeof releaseCommand>[0], depsFor([], []))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(message) });
    expect(standIn.requests).toEqual([]);
  });

  it('refuses a package that is not a zip, or missing, with exit 2', async () => {
    const text = path.join(dir, 'not.zip');
    await writeFile(text, 'hello');
    await expect(releaseCommand(flags({ app: 'api', package: text }), depsFor([], []))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('is not a zip') });
    await expect(releaseCommand(flags({ app: 'api', package: path.join(dir, 'missing.zip') }), depsFor([], []))).rejects.toMatchObject({ exitCode: 2 });
    expect(standIn.requests).toEqual([]);
  });

  it('a site that does not exist fails the release at upload with exit 1, nothing swapped', async () => {
    const next = await writePackage('ok.zip', 'x');
    const out: string[] = [];
    await expect(releaseCommand(flags({ app: 'publisher', package: next.file }), depsFor(out, []))).rejects.toMatchObject({ exitCode: 1 });
    expect(out.join('')).toMatch(/^release of publisher FAILED on kfprod-publisher at upload: .*was not found.*; production unchanged/);
  });
});

describe('deploy apply', () => {
  const params = async (values: Record<string, unknown>): Promise<string> => {
    const file = path.join(dir, `params-${Math.random().toString(16).slice(2)}.json`);
    await writeFile(file, JSON.stringify({ $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', contentVersion: '1.0.0.0', parameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])) }));
    return file;
  };
  const applyFlags = (extra: Record<string, unknown>) => ({ profile: 'prod', resourceGroup: 'rg-apply', subscription: standIn.subscriptionId, location: 'japaneast', ...extra }) as Parameters<typeof applyCommand>[0];

  it('deploys the prod template (resource group, then the deployment polled to Succeeded) and prints its outputs; what-if then shows no change', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' });
    const out: string[] = [];
    await applyCommand(applyFlags({ parameters }), depsFor(out, []));
    expect(out.join('')).toContain('deployed keyfront-prod to rg-apply: Succeeded');
    expect(out.join('')).toContain('frontDoorId: frontDoorId-value');
    const sent = standIn.deployments.get('keyfront-prod')!;
    expect(sent.parameters).toEqual({ secondaryLocation: { value: 'japanwest' }, healthAuthorities: { value: '[]' } });
    expect((sent.template.resources as unknown[]).length).toBeGreaterThan(60);

    const plan: string[] = [];
    await applyCommand(applyFlags({ parameters, whatIf: true }), depsFor(plan, []));
    expect(plan.join('')).toMatch(/what-if: \d+ NoChange\n$/);
  });

  it('what-if on an empty group prints every resource to create, and changes nothing', async () => {
    const parameters = await params({ healthAuthorities: '[]' });
    standIn.resourceGroups.add('rg-empty');
    const out: string[] = [];
    await applyCommand(applyFlags({ profile: 'dev', resourceGroup: 'rg-empty', parameters, whatIf: true, name: 'plan-dev' }), depsFor(out, []));
    const text = out.join('');
    expect(text).toContain('+ Create   Microsoft.KeyVault/vaults/kfdev-kv\n');
    expect(text).toMatch(/what-if: \d+ Create\n$/);
    expect(standIn.deployments.has('plan-dev')).toBe(false);
    expect(standIn.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('a deployment that fails in Azure is exit 1 with ARM\'s error', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]' });
    standIn.failDeployment({ code: 'InsufficientQuota', message: 'no Elastic Premium quota in japanwest' });
    await expect(applyCommand(applyFlags({ parameters, name: 'failing' }), depsFor([], []))).rejects.toMatchObject({ exitCode: 1, message: 'the deployment failed: InsufficientQuota no Elastic Premium quota in japanwest' });
  });

  it.each([
    [{}, '--parameters must give secondaryLocation, healthAuthorities'],
    [{ location: 'Japan East' }, '--location must be an Azure region name'],
    [{ subscription: undefined }, '--subscription (or AZURE_SUBSCRIPTION_ID) is required'],
  ])('refuses %j with exit 2 before any call', async (extra, message) => {
    standIn.requests.length = 0;
    await expect(applyCommand(applyFlags(extra), depsFor([], []))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(message) });
    expect(standIn.requests).toEqual([]);
  });

  it('refuses a parameters file naming a parameter the template lacks', async () => {
    const parameters = await params({ secondaryLocation: 'japanwest', healthAuthorities: '[]', adminPassword: 'x' });
    await expect(applyCommand(applyFlags({ parameters }), depsFor([], []))).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('no parameter "adminPassword"') });
  });
});
