/**
 * The local stack's publisher service (`npm start`, part 2): Azurite on disk in the data
 * directory, the signing key created there on first run and kept, files appearing in the index
 * on the dev schedule, and the local edge purged.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { verifyExport } from '../../proto/codec';
import { startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';
import { freePort } from '../../scripts/local-stack/ports';
import { startPublisherService } from '../../scripts/local-stack/publisher-service';
import type { RunningService, StackContext } from '../../scripts/local-stack/service';
import { exposureAt } from '../support/publisher-harness';

let cosmos: CosmosEmulator;
let store: CosmosExposureStore;
let dataDir: string;
let edgeAdmin: Server;
const purges: unknown[] = [];

beforeAll(async () => {
  cosmos = await startCosmosEmulator();
  // The API service creates the container in the stack; here the test does.
  store = new CosmosExposureStore({ container: await ensureExposuresContainer(cosmos.client()) });
  dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-stack-'));
  // A stand-in of the local edge's admin endpoint (the edge service starts after the publisher in the stack).
  edgeAdmin = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      purges.push({ method: req.method, url: req.url, body: JSON.parse(body) as unknown });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ purged: 2 }));
    });
  });
  await new Promise<void>((resolve) => edgeAdmin.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => edgeAdmin?.close(resolve));
  await cosmos?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(stack: Record<string, unknown>): Promise<RunningService> {
  const context: StackContext = { config: { dataDir, region: '440', ports: { api: 1, cosmos: cosmos.port, blob: await freePort(), edge: 2, edgeAdmin: 3 } }, stack };
  const env = { KEYFRONT_MIN_KEYS_PER_FILE: '5', KEYFRONT_PADDING_JITTER: '0', KEYFRONT_LOG_LEVEL: 'error' };
  return startPublisherService(context, env, 200);
}

/** Polls the index until it names `count` files (bounded). */
async function indexNaming(url: string, count: number): Promise<string[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await fetch(url);
    const lines = response.ok ? (await response.text()).split('\n').filter((line) => line !== '') : (await response.arrayBuffer(), []);
    if (lines.length >= count) return lines;
    await sleep(200);
  }
  throw new Error(`the index at ${url} never named ${count} files`);
}

it('runs Azurite in the data directory and the publisher on a short schedule: stored keys show up in the index, signed with the key it created, and the local edge is purged', async () => {
  // Two keys in one one-minute window that closed a while ago, stored before the publisher starts.
  // Both sit inside the same window, so exactly one file is published (the restart test counts it).
  const windowStart = Math.floor((Date.now() / 1000 - 600) / 60) * 60;
  await store.insert([exposureAt('440', windowStart + 10), exposureAt('440', windowStart + 20)]);
  const stack: Record<string, unknown> = { cosmosEndpoint: cosmos.endpoint, edgeAdminUrl: `http://127.0.0.1:${(edgeAdmin.address() as AddressInfo).port}` };
  const service = await start(stack);
  try {
    expect(service.name).toBe('publisher');
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/exports\/v1\/440\/index\.txt$/);
    expect(service.stack).toMatchObject({ blobConnectionString: expect.stringContaining('BlobEndpoint=http://127.0.0.1:'), publisherSettings: { KEYFRONT_WINDOW_SECONDS: '60' } });
    const privateKey = await stat(path.join(dataDir, 'signing-private.pem'));
    expect(privateKey.mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'azurite'))).isDirectory()).toBe(true);

    const [first] = await indexNaming(service.url, 1);
    const zip = Buffer.from(await (await fetch(`${String(service.stack!.exportsUrl)}/${first}`)).arrayBuffer());
    const verified = await verifyExport(zip, await readFile(path.join(dataDir, 'signing-public.pem')));
    expect(verified).toMatchObject({ valid: true, keyCount: 5 }); // padded to the floor

    // The index purge (the transparency page, published at start, has its own purge of / and /site/*).
    const indexPurge = { method: 'POST', url: '/purge', body: { contentPaths: ['/v1/440/index.txt', '/v1/440/index.json'] } };
    for (let attempt = 0; attempt < 50 && !purges.some((purge) => JSON.stringify(purge) === JSON.stringify(indexPurge)); attempt++) await sleep(100);
    expect(purges).toContainEqual(indexPurge);
  } finally {
    await service.stop();
  }
}, 60_000);

it('keeps the signing key and the published files across restarts', async () => {
  const key = createHash('sha256').update(await readFile(path.join(dataDir, 'signing-private.pem'))).digest('hex');
  const service = await start({ cosmosEndpoint: cosmos.endpoint });
  try {
    expect(createHash('sha256').update(await readFile(path.join(dataDir, 'signing-private.pem'))).digest('hex')).toBe(key);
    expect(await indexNaming(service.url, 1)).toHaveLength(1);
  } finally {
    await service.stop();
  }
}, 60_000);
