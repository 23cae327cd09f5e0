/**
 * `npm start` as a user runs it (tsx scripts/start.ts in a child process, on free ports and a
 * temporary data directory): what it prints, stack.json, the API answering through the emulator,
 * `keyfront publish --once` publishing into the running stack, the refusal of a second stack, a
 * port in use, and a clean stop on SIGTERM.
 */
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { request } from 'undici';
import { CosmosClient } from '@azure/cosmos';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { ensurePortFree } from '../../scripts/local-stack/ports';
import { runKeyfront } from '../support/cli';
import { exposureAt } from '../support/publisher-harness';
import { start, until, type Run } from '../support/npm-start';
import { freeStackEnvironment } from '../support/stack-environment';

const exists = (file: string) => access(file).then(() => true, () => false);

describe('npm start', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let first: Run | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-start-'));
    env = await freeStackEnvironment(dataDir);
  });

  afterAll(async () => {
    if (first && first.child.exitCode === null) {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the emulator and the API, prints what runs where, and writes stack.json', async () => {
    first = start(env);
    await until(first, 'ready.');
    expect(first.output()).toMatch(new RegExp(`cosmos +https://127\\.0\\.0\\.1:${env.KEYFRONT_COSMOS_PORT}`));
    expect(first.output()).toMatch(new RegExp(`api +http://127\\.0\\.0\\.1:${env.KEYFRONT_API_PORT}`));
    expect(first.output()).toMatch(new RegExp(`edge +http://127\\.0\\.0\\.1:${env.KEYFRONT_EDGE_PORT}`));
    expect(first.output()).toMatch(new RegExp(`publisher +http://127\\.0\\.0\\.1:${env.KEYFRONT_BLOB_PORT}/devstoreaccount1/exports/v1/440/index\\.txt`));
    const stackFile = path.join(dataDir, 'stack.json');
    expect((await stat(stackFile)).mode & 0o777).toBe(0o600);
    const stack = JSON.parse(await readFile(stackFile, 'utf8')) as Record<string, string>;
    expect(stack).toMatchObject({ cosmosEndpoint: `https://127.0.0.1:${env.KEYFRONT_COSMOS_PORT}`, apiUrl: `http://127.0.0.1:${env.KEYFRONT_API_PORT}`, region: '440', blobEndpoint: `http://127.0.0.1:${env.KEYFRONT_BLOB_PORT}/devstoreaccount1` });
    const frontDoorId = (await readFile(path.join(dataDir, 'front-door-id'), 'utf8')).trim();
    expect(stack.frontDoorId).toBe(frontDoorId);
    const health = await request(`${stack.apiUrl}/api/health`, { headers: { 'x-azure-fdid': frontDoorId } });
    expect(health.statusCode).toBe(200);
    expect((await health.body.json()) as Record<string, unknown>).toMatchObject({ store: 'ok' });
  });

  it('serves the API and the exports through the local edge, which sets the Front Door ID and takes the publisher\'s purges', async () => {
    const stack = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as Record<string, string>;
    expect(stack).toMatchObject({ edgeUrl: `http://127.0.0.1:${env.KEYFRONT_EDGE_PORT}`, edgeAdminUrl: `http://127.0.0.1:${env.KEYFRONT_EDGE_ADMIN_PORT}` });
    // A phone sends no X-Azure-FDID: the edge adds the stack's.
    const health = await request(`${stack.edgeUrl}/api/health`);
    expect([health.statusCode, health.headers['x-cache']]).toEqual([200, 'CONFIG_NOCACHE']);
    await health.body.dump();
    // The publisher's first run writes the index and purges it on the edge.
    const metrics = async () => (await (await request(`${stack.edgeAdminUrl}/metrics`)).body.json()) as { cache: { purges: number } };
    for (let i = 0; i < 600 && (await metrics()).cache.purges === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await metrics()).cache.purges).toBeGreaterThan(0);
    const index = await request(`${stack.edgeUrl}/v1/${stack.region}/index.txt`);
    expect([index.statusCode, index.headers['x-cache'], index.headers['access-control-allow-origin']]).toEqual([200, 'TCP_MISS', '*']);
    await index.body.dump();
    const again = await request(`${stack.edgeUrl}/v1/${stack.region}/index.txt`);
    expect(again.headers['x-cache']).toBe('TCP_HIT');
    await again.body.dump();
  });

  it('lets `keyfront publish --once` publish into its emulators, `--now` closing the current window', async () => {
    const stack = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { cosmosEndpoint: string; edgeUrl: string; region: string };
    // A key whose one-minute window the real clock closes only in a minute or two: the stack's own publisher leaves it alone meanwhile.
    const client = new CosmosClient(cosmosEmulatorClientOptions(stack.cosmosEndpoint));
    const now = Math.floor(Date.now() / 1000);
    await new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }).insert([exposureAt(stack.region, now + 60)]);
    client.dispose();
    const published = await runKeyfront(['publish', '--once', '--now', new Date((now + 240) * 1000).toISOString()], { env });
    expect({ status: published.status, stderr: published.status === 0 ? '' : published.stderr }).toEqual({ status: 0, stderr: '' });
    const outcome = (JSON.parse(published.stdout) as { regions: Array<{ region: string; status: string; filesWritten: string[] }> }).regions[0];
    expect(outcome).toMatchObject({ region: stack.region, status: 'done', filesWritten: [expect.stringMatching(new RegExp(`^v1/${stack.region}/\\d+-\\d+-00001\\.zip$`))] });
    // The publisher purged the edge: a phone sees the new index at once.
    const index = await request(`${stack.edgeUrl}/v1/${stack.region}/index.txt`);
    expect((await index.body.text()).split('\n')).toContain(outcome.filesWritten[0]);
  });

  it('refuses a second stack on the same data directory with a clear message, not a stack trace', async () => {
    const second = start(env);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/keyfront start: a local stack already runs with data directory .* \(pid \d+\)/);
    expect(second.output()).not.toMatch(/\n\s+at /);
    // The running stack is untouched.
    expect(await exists(path.join(dataDir, 'stack.json'))).toBe(true);
  });

  it('stops everything on SIGTERM and removes stack.json', async () => {
    first!.child.kill('SIGTERM');
    expect(await first!.exited).toBe(0);
    expect(first!.output()).toContain('stopped.');
    expect(await exists(path.join(dataDir, 'stack.json'))).toBe(false);
    expect(await exists(path.join(dataDir, 'stack.lock'))).toBe(false);
    // Nothing outlives the stack: every port is free again (Azurite's included).
    for (const name of ['KEYFRONT_API_PORT', 'KEYFRONT_COSMOS_PORT', 'KEYFRONT_BLOB_PORT', 'KEYFRONT_EDGE_PORT', 'KEYFRONT_EDGE_ADMIN_PORT']) await expect(ensurePortFree(Number(env[name]))).resolves.toBeUndefined();
    const publish = await runKeyfront(['publish', '--once'], { env });
    expect([publish.status, publish.stderr]).toEqual([1, expect.stringMatching(/^keyfront: no local stack runs with data directory .*\(.*stack\.json not found\)/)]);
  });

  it('names a port that is in use instead of failing with a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(env.KEYFRONT_API_PORT), '127.0.0.1', resolve));
    try {
      const run = start(env);
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(new RegExp(`keyfront start: cannot start the local stack: api: port ${env.KEYFRONT_API_PORT} is already in use`));
      expect(run.output()).not.toMatch(/\n\s+at /);
      expect(await exists(path.join(dataDir, 'stack.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
