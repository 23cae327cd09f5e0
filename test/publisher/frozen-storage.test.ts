/**
 * A dependency that stops answering in the middle of a publisher run: the run ends within the
 * bound its settings give (nothing half-published is visible), says which dependency it was, and
 * the next run after the dependency returns publishes every key exactly once. Storage is frozen by
 * a TCP switch in front of Azurite that stops forwarding (connections stay open, nothing answers),
 * right when the run sends its second export file: the issue's `keyfront publish --once`, as a
 * real process. Each Blob operation alone, the store (Cosmos DB) and the geo-replication
 * statistics are frozen the same way.
 */
import { spawn } from 'node:child_process';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import type { ExposureStore } from '../../exposures/exposure-store';
import { AzureBlobWriter, blobPipelineOptions } from '../../publisher/blob/azure-blob-writer';
import { BlobServiceGeoReplication, replicatedFiles } from '../../publisher/geo-replication';
import { manifestBlobName } from '../../publisher/manifest';
import { publishExports } from '../../publisher/run';
import { TcpSwitch } from '../../scripts/drills/local/tcp-switch';
import { azuriteConnectionString } from '../../scripts/local-stack/azurite';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { KEYFRONT_BIN, STACK_TRACE } from '../support/cli';
import { expectComplete, expectConsistent, exposuresInWindow, harnessDeps, hex, HOUR, readPublished, stackDataDir, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: ExposureStore;
let storage: TcpSwitch;

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('frozen-test');
  storage = new TcpSwitch(h.azurite.port);
  await storage.on();
}, 30_000);

afterAll(async () => {
  await storage?.off();
  await h?.stop();
});

interface TimedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** When the process exited (performance.now()). */
  exitedAt: number;
}

function publishOnce(env: NodeJS.ProcessEnv, now: number, wait: number): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEYFRONT_BIN, 'publish', '--once', '--now', new Date(now * 1000).toISOString(), '--wait', String(wait)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A run that hangs fails the test instead of hanging it: the limit.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr, exitedAt: performance.now() });
    });
  });
}

it('storage frozen mid-run: `publish --once` exits non-zero within the Blob bound plus the lease release, in one line naming Blob storage; the next run publishes every key exactly once', async () => {
  const region = 'fz1';
  const keys = [...exposuresInWindow(region, T0, 9), ...exposuresInWindow(region, T0 + HOUR, 5)];
  await store.insert(keys);
  const blobTimeoutInMs = 2000;
  const leaseSeconds = 15;
  const { env } = await stackDataDir(
    h,
    'frozen',
    {
      KEYFRONT_REGIONS: region,
      KEYFRONT_COSMOS_CONTAINER: 'frozen-test',
      KEYFRONT_MAX_KEYS_PER_FILE: '3', // several files per window: the run is frozen between two of them
      KEYFRONT_MIN_KEYS_PER_FILE: '0',
      KEYFRONT_PADDING_JITTER: '0',
      KEYFRONT_BLOB_TIMEOUT_MS: String(blobTimeoutInMs),
      KEYFRONT_PUBLISH_LEASE_SECONDS: String(leaseSeconds),
    },
    { blobConnectionString: azuriteConnectionString(`http://127.0.0.1:${storage.port}/devstoreaccount1`) },
  );
  const now = T0 + 2 * HOUR + 300;

  // Freeze as the second export file is sent: the first is written, the second is on the wire.
  let puts = 0;
  let frozenAt = 0;
  void storage.freezeWhen((bytes) => bytes.includes('PUT /devstoreaccount1/exports/v1/') && ++puts === 2).then(() => (frozenAt = performance.now()));
  const frozenRun = await publishOnce({ ...process.env, ...env }, now, 0);
  expect(frozenAt).toBeGreaterThan(0);
  const boundInMs = blobTimeoutInMs + (leaseSeconds * 1000) / 6; // the write's bound, then the lease release's
  const exitedAfterInMs = frozenRun.exitedAt - frozenAt;
  process.stdout.write(`publish --once exited ${Math.round(exitedAfterInMs)} ms after storage froze (bound ${boundInMs} ms, plus process exit)\n`);
  expect(frozenRun.code).toBe(1);
  expect(exitedAfterInMs).toBeLessThan(boundInMs + 3000);
  // The one line for the operator: the failure, naming the dependency and what it was asked.
  const sentences = frozenRun.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
  expect(sentences).toHaveLength(1);
  expect(sentences[0]).toMatch(new RegExp(`^keyfront: publishing did not complete: ${region}: Blob storage did not answer in 2 s \\(Put Blob exports/v1/${region}/\\d+-\\d+-\\d{5}\\.zip\\)\\. Nothing half-published is visible; run again to finish\\.$`));
  expect(frozenRun.stderr).not.toMatch(STACK_TRACE);
  expect(JSON.parse(frozenRun.stdout)).toMatchObject({ regions: [{ region, status: 'failed', error: expect.stringContaining('Blob storage did not answer') }] });
  // Nothing half-published: no index names a file yet (no window was recorded), and what exists verifies.
  storage.thaw();
  const between = await readPublished(h.exports, region);
  await expectConsistent(between, h.publicKey);
  expect(between.indexTxt).toBeUndefined();

  // Storage is back. The frozen run's lease expires by itself within 15 s (its release was cut); the test
  // lets that time pass by breaking the lease, as the SIGKILL test does.
  await BlobServiceClient.fromConnectionString(h.azurite.connectionString).getContainerClient('publisher-state').getBlobClient(manifestBlobName(region)).getBlobLeaseClient().breakLease(0).catch(() => undefined);
  // The next run (the same publisher in this process, with the CLI's settings) finishes the job.
  const next = await publishExports(harnessDeps(h, store, { regions: [region], maxKeysPerFile: 3, leaseSeconds }), { now: new Date(now * 1000) });
  expect(next.regions[0]).toMatchObject({ region, status: 'done' });
  const view = await readPublished(h.exports, region);
  await expectConsistent(view, h.publicKey);
  expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
}, 90_000);

it('every Blob operation ends within its bound when storage stops answering, naming Blob storage and the operation', async () => {
  const writer = AzureBlobWriter.fromConnectionString(azuriteConnectionString(`http://127.0.0.1:${storage.port}/devstoreaccount1`), 'exports', { timeoutInMs: 300 });
  await writer.create('frozen/a.txt', Buffer.from('a'), { contentType: 'text/plain' });
  storage.freeze();
  try {
    const started = performance.now();
    const failures = await Promise.all([
      writer.create('frozen/b.txt', Buffer.from('b'), { contentType: 'text/plain' }).catch((error: Error) => error.message),
      writer.read('frozen/a.txt').catch((error: Error) => error.message),
      (async () => {
        for await (const blob of writer.list('frozen/')) void blob;
      })().catch((error: Error) => error.message),
      writer.delete('frozen/a.txt').catch((error: Error) => error.message),
      writer.acquireLease('frozen/a.txt', 15).catch((error: Error) => error.message),
      writer.ensureContainer({ publicRead: true }).catch((error: Error) => error.message),
    ]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(failures).toEqual([
      'Blob storage did not answer in 300 ms (Put Blob exports/frozen/b.txt)',
      'Blob storage did not answer in 300 ms (Get Blob exports/frozen/a.txt)',
      'Blob storage did not answer in 300 ms (List Blobs exports/frozen/*)',
      'Blob storage did not answer in 300 ms (Delete Blob exports/frozen/a.txt)',
      'Blob storage did not answer in 300 ms (Lease Blob (acquire) exports/frozen/a.txt)',
      'Blob storage did not answer in 300 ms (Create Container exports)',
    ]);
  } finally {
    storage.thaw();
  }
});

it('the store frozen mid-run: the run fails within the store bound naming Cosmos DB, and the next run publishes every key exactly once', async () => {
  const region = 'fz2';
  const keys = [...exposuresInWindow(region, T0, 4), ...exposuresInWindow(region, T0 + HOUR, 4)];
  await store.insert(keys);
  const cosmosSwitch = new TcpSwitch(h.cosmos!.port);
  await cosmosSwitch.on();
  const timeoutInMs = 800;
  const client = new CosmosClient(cosmosEmulatorClientOptions(`https://127.0.0.1:${cosmosSwitch.port}`, timeoutInMs / 2));
  try {
    const frozenStore = new CosmosExposureStore({ container: client.database('keyfront').container('frozen-test'), shards: 4, timeoutInMs });
    const deps = harnessDeps(h, frozenStore, { regions: [region] });
    const now = new Date((T0 + 2 * HOUR + 300) * 1000);
    // Frozen once the first window's file is written: the second window's keys are asked of a silent store.
    let frozenAt = 0;
    const run = await publishExports(deps, {
      now,
      onStep: (step) => {
        if (step === 'file-written' && frozenAt === 0) {
          cosmosSwitch.freeze();
          frozenAt = performance.now();
        }
      },
    });
    const failedAfterInMs = performance.now() - frozenAt;
    expect(run.regions[0]).toMatchObject({ region, status: 'failed' });
    // The SDK's own request timeout (half the bound) or the bound itself, whichever ends the request: either names Cosmos DB.
    expect(run.regions[0].error).toMatch(/^Cosmos DB did not answer in (800 ms \(a page of exposures of fz2\|\d\)|time \(list exposures\))$/);
    expect(failedAfterInMs).toBeLessThan(timeoutInMs + 2000);
    cosmosSwitch.thaw();
    const next = await publishExports(deps, { now });
    expect(next.regions[0].status).toBe('done');
    const view = await readPublished(h.exports, region);
    await expectConsistent(view, h.publicKey);
    expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
  } finally {
    client.dispose();
    await cosmosSwitch.off();
  }
}, 30_000);

it('the secondary frozen: its Last Sync Time is not known within the bound, so new files wait (the gate holds them back, the run goes on)', async () => {
  const secondary = new TcpSwitch(h.azurite.port);
  await secondary.on();
  try {
    secondary.freeze();
    const url = `http://127.0.0.1:${secondary.port}/devstoreaccount1-secondary`;
    const client = BlobServiceClient.fromConnectionString(azuriteConnectionString(url), blobPipelineOptions(300));
    const source = new BlobServiceGeoReplication(client, { timeoutInMs: 300 });
    const started = performance.now();
    await expect(source.lastSyncTime()).rejects.toThrow('Blob storage (secondary) did not answer in 300 ms (Get Blob Service Stats)');
    expect(performance.now() - started).toBeLessThan(2000);
    const file = { name: 'v1/440/a.zip', createdAt: T0 };
    await expect(replicatedFiles([file], { source, maxWaitSeconds: 900 }, T0 + 10)).resolves.toEqual({ listable: [], waiting: 1 });
  } finally {
    secondary.thaw();
    await secondary.off();
  }
});
