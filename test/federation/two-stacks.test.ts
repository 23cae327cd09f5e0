/**
 * Issue 27's done-when, end to end on one machine: stack A (a real publisher run of its own keys,
 * signed by A's key) serves its published files over HTTP, plus a tampered file and a file of
 * another region; stack B (Azurite, the Cosmos emulator, B's key, the local edge) runs the real
 * `keyfront federation import --once` process, which is SIGKILLed mid-way and run again. B's
 * publisher then publishes, and a phone synced through B's edge gets every accepted key of A in
 * region 440 files signed by B, each exactly once (a key that also came from a phone of B too),
 * while the two bad files are refused with their codes.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { syncRegion } from '../../client/sync';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { exposureId, publishAtOf, type Exposure } from '../../exposures/exposure-store';
import { silentLogger } from '../../platform/log';
import { openExport } from '../../proto/codec';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import { progressBlobName } from '../../publisher/federation/import-progress';
import type { PeerImportReport } from '../../publisher/federation/import-peer';
import { createMemoryPublisher } from '../../publisher/memory-publisher';
import { LogOnlyPurger } from '../../publisher/purgers/log-only';
import { publishExports } from '../../publisher/run';
import { LocalSigner } from '../../publisher/signers/local';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';
import { KEYFRONT_BIN } from '../support/cli';
import { peerFile, peerKey, tampered, startPeerStandIn, type PeerStandIn } from '../support/peer-stand-in';
import { exposuresInWindow, hex, HOUR, TEST_SETTINGS } from '../support/publisher-harness';

jest.setTimeout(120_000);

const PORTS = { peer: 20903, azurite: 20904, cosmos: 20905, edge: 20906, edgeAdmin: 20907, noApi: 20915 };
const A_REGION = 'DE';
const B_REGION = '440';
const aKey = peerKey('DE', 'v1');

let peer: PeerStandIn;
let azurite: Azurite;
let cosmos: CosmosEmulator;
let edge: LocalEdge | undefined;
let store: CosmosExposureStore;
let dir: string;
let env: NodeJS.ProcessEnv;
let bSigner: LocalSigner;
let bPublicPem: string;
/** A's keys that B must publish, hex. */
let accepted: string[];
/** Keys of the two bad files, hex: never published by B. */
let refusedKeys: string[];
/** A key of A that a phone of B uploaded first. */
let shared: Exposure;
let indexUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keyfront-federation-'));
  [peer, azurite, cosmos] = await Promise.all([startPeerStandIn(PORTS.peer), startAzurite({ port: PORTS.azurite }), startCosmosEmulator({ port: PORTS.cosmos })]);
  store = new CosmosExposureStore({ container: await ensureExposuresContainer(cosmos.client(), { containerId: 'federation' }), shards: 4 });

  // Stack A publishes its keys of two closed windows, three keys a file: five files signed by A.
  const windowStart = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const a = await createMemoryPublisher({ ...TEST_SETTINGS, regions: [A_REGION], maxKeysPerFile: 3 }, { signer: aKey.signer });
  const aExposures = [...exposuresInWindow(A_REGION, windowStart - 4 * HOUR, 8), ...exposuresInWindow(A_REGION, windowStart - 3 * HOUR, 5)];
  await a.store.insert(aExposures);
  const run = await publishExports(a, { now: new Date((windowStart - HOUR) * 1000) });
  expect(run.regions[0]).toMatchObject({ status: 'done' });
  const aIndex = (await a.exports.read(`v1/${A_REGION}/index.txt`))!.data.toString('utf8').split('\n').filter(Boolean);
  expect(aIndex.length).toBe(5);
  // Each file a little slow, so that the kill lands between files.
  for (const name of aIndex) peer.answers.set(`/${name}`, { body: (await a.exports.read(name))!.data, delayInMs: 150 });
  accepted = aExposures.map((e) => hex(e.tek.keyData));

  // Two bad files on the peer, in the middle of its index: one tampered, one of another region.
  const bad = { tampered: `v1/${A_REGION}/${windowStart - 10 * HOUR}-${windowStart - 9 * HOUR}-00001.zip`, wrongRegion: `v1/${A_REGION}/${windowStart - 9 * HOUR}-${windowStart - 8 * HOUR}-00001.zip` };
  const tamperedFile = await tampered((await a.exports.read(aIndex[0]))!.data);
  const wrongKeys = exposuresInWindow('FR', windowStart - 9 * HOUR, 2).map((e) => e.tek);
  peer.answers.set(`/${bad.tampered}`, { body: tamperedFile, delayInMs: 150 });
  peer.answers.set(`/${bad.wrongRegion}`, { body: await peerFile(aKey, 'FR', windowStart - 8 * HOUR, wrongKeys), delayInMs: 150 });
  refusedKeys = wrongKeys.map((tek) => hex(tek.keyData));
  peer.answers.set(`/v1/${A_REGION}/index.txt`, { body: [...aIndex.slice(0, 2), bad.tampered, bad.wrongRegion, ...aIndex.slice(2)].join('\n') });
  indexUrl = `${peer.url}/v1/${A_REGION}/index.txt`;

  // A phone of B uploaded one of A's keys too.
  const tek = aExposures[0].tek;
  const uploadedAt = Math.floor(Date.now() / 1000);
  shared = { id: exposureId(B_REGION, tek.keyData), region: B_REGION, tek, uploadedAt, publishAt: publishAtOf(tek, uploadedAt) };
  await store.insert([shared]);

  // Stack B's key and data directory, as `npm start` writes them.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  bSigner = new LocalSigner(privateKey, { keyId: B_REGION, keyVersion: 'v1' });
  bPublicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const dataDir = path.join(dir, 'b');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dataDir, 'signing-private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(path.join(dir, 'peer-public.pem'), aKey.publicKeyPem);
  await writeFile(path.join(dataDir, 'stack.json'), JSON.stringify({ pid: process.pid, cosmosEndpoint: cosmos.endpoint, blobConnectionString: azurite.connectionString }), { mode: 0o600 });
  env = { ...process.env, KEYFRONT_DATA_DIR: dataDir, KEYFRONT_REGIONS: B_REGION, KEYFRONT_COSMOS_CONTAINER: 'federation', KEYFRONT_COSMOS_SHARDS: '4', KEYFRONT_PUBLISH_LEASE_SECONDS: '15', KEYFRONT_PEER_TIMEOUT_MS: '5000' };
});

afterAll(async () => {
  await edge?.stop();
  await Promise.all([peer?.stop(), azurite?.stop(), cosmos?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `keyfront federation import --once` of peer A; SIGKILLed once `killAfterFiles` files were imported, when given. */
function importOnce(killAfterFiles?: number, output: '--json' | '--verbose' = '--json'): Promise<Run> {
  const args = ['federation', 'import', '--once', output, '--verbose', '--peer', 'de', '--from', indexUrl, '--public-key', path.join(dir, 'peer-public.pem'), '--key-id', 'DE', '--key-version', 'v1', '--source-region', A_REGION, '--into-region', B_REGION];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEYFRONT_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killAfterFiles !== undefined && stderr.split('"peer file imported"').length - 1 >= killAfterFiles) child.kill('SIGKILL');
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

it("B's phones get A's keys in B's signed region-440 files, each once, after a SIGKILL of the import and a restart; the tampered and wrong-region files are refused with their codes", async () => {
  const killed = await importOnce(2);
  expect(killed.signal).toBe('SIGKILL');
  // The killed importer's lease would hold the peer for up to 15 s: let it go, as its expiry would.
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('publisher-state').getBlobClient(progressBlobName('de')).getBlobLeaseClient().breakLease(0);

  const restarted = await importOnce();
  expect({ code: restarted.code, stderr: restarted.stderr.split('\n').filter((line) => line.includes('"level":"error"')) }).toEqual({ code: 0, stderr: [] });
  const report = JSON.parse(restarted.stdout) as PeerImportReport;
  expect(report).toMatchObject({ status: 'done', refused: { signature_invalid: 1, wrong_region: 1 } });
  // The restart began after what the killed run recorded: every line of the index handled, at most
  // one (whose record the kill cut off) twice, and that one stored nothing twice (same ids).
  const killedPaths = killed.stderr.split('\n').flatMap((line) => (/"peer file (imported|refused)"/.test(line) ? [(JSON.parse(line) as { file: string }).file] : []));
  const restartedPaths = report.files.map((file) => file.path);
  const lines = (peer.answers.get(`/v1/${A_REGION}/index.txt`)!.body as string).split('\n');
  expect(new Set([...killedPaths, ...restartedPaths])).toEqual(new Set(lines));
  expect(killedPaths.filter((file) => restartedPaths.includes(file)).length).toBeLessThanOrEqual(1);
  expect(restartedPaths).toEqual(lines.slice(lines.length - restartedPaths.length));

  // Run again: nothing new, said in a line.
  const again = await importOnce(undefined, '--verbose');
  expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: "peer de: 0 files imported (0 new keys); up to date with the peer's index\n" });

  // The Cosmos store keeps each imported key's provenance; the key a phone of B uploaded first keeps none.
  const [imported] = await store.get(B_REGION, [exposureId(B_REGION, Buffer.from(accepted[accepted.length - 1], 'hex'))]);
  expect(imported.source).toEqual({ peer: 'de', file: expect.stringMatching(/^v1\/DE\/\d+-\d+-\d{5}\.zip$/) });
  expect((await store.get(B_REGION, [shared.id]))[0].source).toBeUndefined();

  // B's publisher publishes the current window (the imported keys' publish time is the import).
  const exports = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'exports');
  const state = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'publisher-state');
  await exports.ensureContainer({ publicRead: true });
  const publishNow = Math.floor(Date.now() / 1000 / HOUR) * HOUR + HOUR + TEST_SETTINGS.safetyMarginSeconds + 1;
  const published = await publishExports({ store, exports, state, signer: bSigner, purger: new LogOnlyPurger(silentLogger), logger: silentLogger, settings: { ...TEST_SETTINGS, regions: [B_REGION] } }, { now: new Date(publishNow * 1000) });
  expect(published.regions[0]).toMatchObject({ status: 'done' });

  // A phone of B syncs through B's edge and verifies every file with B's key.
  const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: `http://127.0.0.1:${PORTS.noApi}`, blobPrimary: azurite.blobEndpoint })), 'local');
  edge = await startLocalEdge(declaration, { frontDoorId: 'federation-test', port: PORTS.edge, adminPort: PORTS.edgeAdmin, probeIntervalInMs: 60_000, logger: silentLogger });
  const { report: sync } = await syncRegion({ baseUrl: edge.url, region: B_REGION, key: { publicKey: bPublicPem, keyId: B_REGION, keyVersion: 'v1' } });
  expect(sync.failed).toEqual([]);
  expect(sync.fetched.length).toBeGreaterThan(0);
  expect(sync.fetched.every((file) => file.region === B_REGION && file.signatureInfo.verificationKeyId === B_REGION)).toBe(true);

  const counts = new Map<string, number>();
  for (const file of sync.fetched) {
    for (const key of (await openExport((await exports.read(file.path))!.data)).export.keys) counts.set(hex(key.keyData), (counts.get(hex(key.keyData)) ?? 0) + 1);
  }
  expect(accepted.filter((key) => counts.get(key) !== 1)).toEqual([]);
  expect(refusedKeys.filter((key) => counts.has(key))).toEqual([]);
  expect(counts.get(hex(shared.tek.keyData))).toBe(1);
  expect(counts.size).toBe(accepted.length);
});
