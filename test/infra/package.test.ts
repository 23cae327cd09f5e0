/**
 * `deploy package`: each zip holds host.json, package.json and one bundle; loaded the way the
 * Functions host loads it (functions-host-stand-in.ts), each registers only its own functions
 * with the right routes, methods, auth levels and timer schedule; the api zip has no signing code.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { devApiEnvironment } from '../../scripts/local-stack/dev-material';
import { createDevMaterial, REGION } from '../support/api-fixture';
import { ALL_METHODS, ROUTES } from '../../api/routes';
import { buildAppPackage, PACKAGED_SITE_DIR, type AppPackage } from '../../infra/package';
import { checkSiteFiles, type SiteFile } from '../../publisher/site';
import { buildSite } from '../../scripts/site/build';
import { FUNCTION_TIMEOUT, TELEMETRY_MODE } from '../../infra/host/host-json';
import { NODE_VERSION } from '../../infra/template';
import { nodeBinary } from '../support/node-binary';
import { loadPackage, readZip } from './functions-host-stand-in';
import { levelOf } from './functions-host-telemetry';

jest.setTimeout(120_000);

let api: AppPackage;
let publisher: AppPackage;
let site: SiteFile[];

/** The publisher's settings as the deployment gives them (enough for it to start). */
const publisherEnv = () => ({
  KEYFRONT_BLOB_ACCOUNT_URL: 'https://kfprodexports.blob.core.windows.net',
  KEYFRONT_COSMOS_ENDPOINT: 'https://kfprod-cosmos.documents.azure.com:443/',
  KEYFRONT_SIGNER: 'key-vault',
  KEYFRONT_KEY_VAULT_KEY_ID: `https://kfprod-kv.vault.azure.net/keys/export-signing/${randomUUID().replace(/-/g, '')}`,
  KEYFRONT_LOG_LEVEL: 'error',
});

beforeAll(async () => {
  site = await buildSite();
  [api, publisher] = await Promise.all([buildAppPackage('api'), buildAppPackage('publisher', { site })]);
});

describe('deploy package: the zips', () => {
  it.each([
    ['api', ['dist/index.js', 'host.json', 'package.json']],
    ['publisher', ['dist/export.proto', 'dist/index.js', 'host.json', 'package.json']],
  ] as const)('%s.zip holds exactly host.json, package.json, the bundle its main names and the files it reads', async (app, names) => {
    const entries = await readZip(app === 'api' ? api.zip : publisher.zip);
    const sitePage = app === 'publisher' ? site.map((file) => `${PACKAGED_SITE_DIR}/${file.name}`) : [];
    expect([...entries.keys()].sort()).toEqual([...names, ...sitePage].sort());
    // The Node the apps run (WEBSITE_NODE_DEFAULT_VERSION ~22) is the one the package declares.
    expect(JSON.parse(entries.get('package.json')!.toString())).toMatchObject({ name: `keyfront-${app}`, main: 'dist/index.js', engines: { node: `>=${NODE_VERSION.slice(1)}` } });
    expect(JSON.parse(entries.get('host.json')!.toString())).toMatchObject({ version: '2.0', functionTimeout: FUNCTION_TIMEOUT[app] });
  });

  it.each(['api', 'publisher'] as const)("%s.zip's host.json hands the host's telemetry to OpenTelemetry and records the app's Information lines, not the host's per-request ones", async (app) => {
    const hostJson = JSON.parse((await readZip(app === 'api' ? api.zip : publisher.zip)).get('host.json')!.toString()) as { telemetryMode: string; logging: { logLevel: Record<string, string>; applicationInsights?: unknown } };
    expect(hostJson.telemetryMode).toBe(TELEMETRY_MODE);
    // Ignored in this mode ("Use OpenTelemetry with Azure Functions"): not written, so nobody believes it applies.
    expect(hostJson.logging.applicationInsights).toBeUndefined();
    const level = (category: string) => levelOf(category, hostJson.logging.logLevel);
    // The app writes its JSON lines to stdout, which the host logs as Host.Function.Console at Information.
    expect(level('Host.Function.Console')).toBe('Information');
    // ASP.NET Core's request lines (with URLs) and "Executing 'Functions.x'" stay out; warnings and errors come in.
    expect([level('Microsoft.AspNetCore.Hosting.Diagnostics'), level(`Function.${app === 'api' ? 'publish' : 'publishExports'}`), level('Host.Startup')]).toEqual(['Warning', 'Warning', 'Warning']);
  });

  it('publisher.zip carries the built transparency page where the bundle reads it (dist/site beside dist/index.js), and cannot be built without it', async () => {
    const entries = await readZip(publisher.zip);
    const packaged = site.map((file) => ({ name: file.name, data: entries.get(`${PACKAGED_SITE_DIR}/${file.name}`)! }));
    // What publisher/site.ts checks before it publishes the page at start-up.
    expect(() => checkSiteFiles(packaged)).not.toThrow();
    for (const file of site) expect(Buffer.from(file.data).equals(entries.get(`${PACKAGED_SITE_DIR}/${file.name}`)!)).toBe(true);
    expect(path.posix.join(path.posix.dirname(JSON.parse(entries.get('package.json')!.toString()).main), 'site')).toBe(PACKAGED_SITE_DIR);
    await expect(buildAppPackage('publisher')).rejects.toThrow(/needs the built transparency page/);
    await expect(buildAppPackage('api', { site })).rejects.toThrow(/no transparency page/);
  });

  it('api.zip contains no signer and no Key Vault client; publisher.zip does (the check can see them)', async () => {
    const apiCode = (await readZip(api.zip)).get('dist/index.js')!.toString();
    const publisherCode = (await readZip(publisher.zip)).get('dist/index.js')!.toString();
    for (const marker of ['CryptographyClient', 'keyvault-keys', 'publisher/signers/', 'KeyVaultSigner']) {
      expect({ marker, inApi: apiCode.includes(marker) }).toEqual({ marker, inApi: false });
    }
    expect(publisherCode).toContain('CryptographyClient');
    expect(publisherCode).toContain('publisher/signers/');
    expect(api.inputs.filter((input) => /^publisher\/|keyvault-keys/.test(input))).toEqual([]);
    expect(publisher.inputs.some((input) => input.includes('@azure/keyvault-keys/'))).toBe(true);
  });

  it('each app bundles only its own room: no api code in the publisher, no scripts or tests in either', () => {
    expect(publisher.inputs.filter((input) => input.startsWith('api/'))).toEqual([]);
    for (const inputs of [api.inputs, publisher.inputs]) expect(inputs.filter((input) => /^(scripts|test|infra)\//.test(input) && input !== 'infra/host/no-key-vault.ts')).toEqual([]);
  });

  it('the same code gives the same zip bytes', async () => {
    expect((await buildAppPackage('api')).zip.equals(api.zip)).toBe(true);
  });
});

describe('deploy package: loaded by the Functions host stand-in', () => {
  it('api.zip registers the route table: each route anonymous, every method, and the bundled handler answers', async () => {
    const env: Record<string, string> = { ...devApiEnvironment(createDevMaterial(), REGION), KEYFRONT_STORE: 'memory', KEYFRONT_LOG_LEVEL: 'error' };
    const fdid = env.KEYFRONT_FRONT_DOOR_ID.split(',')[0];
    const load = await loadPackage(api.zip, env, [
      { name: 'health', method: 'GET', path: '/api/health', headers: { 'x-azure-fdid': fdid } },
      { name: 'health', method: 'GET', path: '/api/health', headers: {} },
    ]);
    expect(load.functions.map((f) => f.name)).toEqual(ROUTES.map((route) => route.name));
    for (const route of ROUTES) {
      const triggers = Object.values(load.functions.find((f) => f.name === route.name)!.bindings).filter((b) => b.direction === 'in');
      expect(triggers).toEqual([expect.objectContaining({ type: 'httpTrigger', authLevel: 'anonymous', route: route.route, methods: ALL_METHODS })]);
    }
    expect(load.invoked[`health ${JSON.stringify({ 'x-azure-fdid': fdid })}`]).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok', store: 'ok' }) });
    expect(load.invoked['health {}']).toEqual({ status: 403, body: expect.objectContaining({ code: 'front_door_required' }) });
  });

  it('api.zip starts and answers with App Insights on, as the deployment sets it (local auth off)', async () => {
    const env: Record<string, string> = {
      ...devApiEnvironment(createDevMaterial(), REGION),
      KEYFRONT_STORE: 'memory',
      KEYFRONT_LOG_LEVEL: 'error',
      // An ingestion endpoint nothing listens on: the exporter's sends fail quietly, the app runs.
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
    };
    const fdid = env.KEYFRONT_FRONT_DOOR_ID.split(',')[0];
    const load = await loadPackage(api.zip, env, [{ name: 'health', method: 'GET', path: '/api/health', headers: { 'x-azure-fdid': fdid } }]);
    expect(load.functions.map((f) => f.name)).toEqual(ROUTES.map((route) => route.name));
    expect(load.invoked[`health ${JSON.stringify({ 'x-azure-fdid': fdid })}`]).toMatchObject({ status: 200 });
  });

  it('publisher.zip registers only the timer publishExports on its schedule, with no HTTP function', async () => {
    const load = await loadPackage(publisher.zip, { ...publisherEnv(), KEYFRONT_PUBLISH_SCHEDULE: '0 */10 * * * *' });
    expect(load.functions).toEqual([{ name: 'publishExports', bindings: { [Object.keys(load.functions[0].bindings)[0]]: expect.objectContaining({ type: 'timerTrigger', direction: 'in', schedule: '0 */10 * * * *' }) } }]);
  });

  it('publisher.zip registers importFromPeers on its own schedule beside publishExports once KEYFRONT_FEDERATION_PEERS names a peer', async () => {
    const peerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const peers = [{ name: 'de', indexUrl: 'https://peer.example/v1/DE/index.txt', indexFormat: 'keyfront', publicKey: peerKey, keyId: 'DE', keyVersion: 'v1', sourceRegion: 'DE', intoRegion: REGION }];
    const load = await loadPackage(publisher.zip, { ...publisherEnv(), KEYFRONT_REGIONS: REGION, KEYFRONT_FEDERATION_PEERS: JSON.stringify(peers), KEYFRONT_FEDERATION_SCHEDULE: '0 5-59/15 * * * *' });
    expect(load.functions.map((f) => f.name)).toEqual(['publishExports', 'importFromPeers']);
    expect(Object.values(load.functions[1].bindings)).toEqual([expect.objectContaining({ type: 'timerTrigger', direction: 'in', schedule: '0 5-59/15 * * * *' })]);
  });

  it('publisher.zip refuses to start without its settings, naming them (the host shows the start-up error)', async () => {
    await expect(loadPackage(publisher.zip, { KEYFRONT_SIGNER: 'key-vault' })).rejects.toThrow(/KEYFRONT_(BLOB_ACCOUNT_URL|KEY_VAULT_KEY_ID|COSMOS_ENDPOINT)/);
  });
});

describe('deploy package: on Node 22, the Node the Function Apps run', () => {
  let node22: string;
  beforeAll(async () => {
    node22 = await nodeBinary(Number(NODE_VERSION.slice(1)));
  }, 300_000);

  it('api.zip registers the route table and answers health and the swap warm-up', async () => {
    const env: Record<string, string> = { ...devApiEnvironment(createDevMaterial(), REGION), KEYFRONT_STORE: 'memory', KEYFRONT_LOG_LEVEL: 'error' };
    const fdid = env.KEYFRONT_FRONT_DOOR_ID.split(',')[0];
    const load = await loadPackage(api.zip, env, [
      { name: 'health', method: 'GET', path: '/api/health', headers: { 'x-azure-fdid': fdid } },
      { name: 'warmup', method: 'GET', path: '/api/warmup', headers: {} },
    ], { node: node22 });
    expect(load.node.split('.')[0]).toBe('22');
    expect(load.functions.map((f) => f.name)).toEqual(ROUTES.map((route) => route.name));
    expect(load.invoked[`health ${JSON.stringify({ 'x-azure-fdid': fdid })}`]).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });
    expect(load.invoked['warmup {}']).toEqual({ status: 200, body: expect.objectContaining({ status: 'ready' }) });
  });

  it('publisher.zip registers its timer', async () => {
    const load = await loadPackage(publisher.zip, publisherEnv(), [], { node: node22 });
    expect(load.node.split('.')[0]).toBe('22');
    expect(load.functions.map((f) => f.name)).toEqual(['publishExports']);
  });
});
