/**
 * A signing-key rotation on the local stack while phones sync: the publisher wired from its
 * settings (publisher/config.ts, setup.ts) writing to Azurite, the local edge in front of it (the
 * purges go there), and phones syncing through the edge with the phone library. The settings
 * change as `keyfront keys rotate|retire` change them (a Function App restarts on a settings
 * change: a new publisher each time):
 *
 * 1. one key (the single-key settings): files signed by 440/v1;
 * 2. the overlap (KEYFRONT_SIGNERS: v1 until later, v2 from now): every new file signed by both,
 *    while phones configured with v1 and phones switched to v2 sync: 0 failed syncs;
 * 3. retired (KEYFRONT_SIGNERS: v2 only): the old key signs nothing new.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Phone, type PhoneSyncReport, type VerificationKey } from '../../client';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { silentLogger } from '../../platform/log';
import { openExport, verifyExport } from '../../proto/codec';
import { loadPublisherConfig } from '../../publisher/config';
import { publishExports } from '../../publisher/run';
import { createPublisher, prepareStorage } from '../../publisher/setup';
import { signersSettingValue } from '../../publisher/signers/signer-settings';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { exposureAt, HOUR } from '../support/publisher-harness';

jest.setTimeout(90_000);

const REGION = '440';
const FDID = '6a0c3c6e-7d1f-4b1e-9f5d-2a8e4c1b7d30';
/** Six hour-long windows in the recent past: two before the rotation, two in the overlap, two after retirement. */
const H = Math.floor(Date.now() / 1000 / HOUR) * HOUR - 8 * HOUR;
const windowOf = (k: number) => ({ start: H + k * HOUR, path: `v1/${REGION}/${H + k * HOUR}-${H + (k + 1) * HOUR}-00001.zip` });

interface Key {
  file: string;
  publicKey: KeyObject;
  verification: VerificationKey;
}

let dir: string;
let azurite: Azurite;
let edge: LocalEdge;
let store: MemoryExposureStore;
let v1: Key;
let v2: Key;

async function keyPair(version: string): Promise<Key> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const file = path.join(dir, `signing-${version}.pem`);
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, publicKey, verification: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: REGION, keyVersion: version } };
}

/** The publisher as its settings make it, run once closing the windows before `k`. */
async function publishThrough(k: number, signing: Record<string, string>): Promise<void> {
  const config = loadPublisherConfig({
    KEYFRONT_COSMOS_ENDPOINT: 'https://127.0.0.1:9/', // the store is passed in
    KEYFRONT_BLOB_CONNECTION_STRING: azurite.connectionString,
    KEYFRONT_DATA_DIR: dir,
    KEYFRONT_MIN_KEYS_PER_FILE: '10',
    KEYFRONT_PADDING_JITTER: '0',
    KEYFRONT_PURGER: 'local-edge',
    KEYFRONT_EDGE_ADMIN_URL: edge.adminUrl,
    ...signing,
  });
  const publisher = await createPublisher(config, { store, logger: silentLogger });
  try {
    await prepareStorage(publisher);
    const run = await publishExports(publisher, { now: new Date((H + k * HOUR + 301) * 1000) });
    expect(run.regions[0]).toMatchObject({ status: 'done' });
  } finally {
    publisher.close();
  }
}

const phoneWith = (key: VerificationKey | VerificationKey[], state?: Phone['state']) => new Phone({ baseUrl: edge.url, region: REGION, key, retry: { attempts: 2, baseDelayInMs: 10 }, ...(state ? { state } : {}) });

async function fileAt(k: number): Promise<Buffer> {
  const response = await fetch(`${edge.url}/${windowOf(k).path}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

const signedBy = async (k: number) => (await openExport(await fileAt(k))).signatures.map((s) => s.signatureInfo?.verificationKeyVersion);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kf-rotation-stack-'));
  azurite = await startAzurite();
  edge = await startLocalEdge(validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: azurite.blobEndpoint })), 'local'), { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  store = new MemoryExposureStore();
  await store.insert([0, 1, 2, 3, 4, 5].flatMap((k) => Array.from({ length: 12 }, (_, i) => exposureAt(REGION, windowOf(k).start + 60 + i * 60))));
  [v1, v2] = await Promise.all([keyPair('v1'), keyPair('v2')]);
});

afterAll(async () => {
  await edge?.stop();
  await azurite?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('phones configured with the old key and with the new key verify every file of the overlap; after retirement the old key signs nothing new', async () => {
  // 1. One key, the single-key settings.
  await publishThrough(2, { KEYFRONT_SIGNING_KEY_FILE: v1.file, KEYFRONT_SIGNATURE_KEY_ID: REGION, KEYFRONT_SIGNATURE_KEY_VERSION: 'v1' });
  const phones = Array.from({ length: 6 }, () => phoneWith(v1.verification));
  for (const phone of phones) expect((await phone.sync()).fetched.map((file) => file.path)).toEqual([windowOf(0).path, windowOf(1).path]);

  // 2. The rotation: both keys sign from now. Half the phones get the new key's configuration.
  const now = Math.floor(Date.now() / 1000);
  const overlap = { KEYFRONT_SIGNERS: signersSettingValue([{ keyId: REGION, keyVersion: 'v1', keyFile: v1.file, notAfter: now + 28 * 86400 }, { keyId: REGION, keyVersion: 'v2', keyFile: v2.file, notBefore: now - 1 }]) };
  const synced = phones.map((phone, i) => (i % 2 === 0 ? phone : phoneWith(v2.verification, phone.state)));
  const reports: PhoneSyncReport[] = [];
  let syncing = true;
  const loops = synced.map(async (phone) => {
    while (syncing) {
      reports.push(await phone.sync());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  await publishThrough(4, overlap);
  syncing = false;
  await Promise.all(loops);
  for (const phone of synced) reports.push(await phone.sync());
  expect(reports.flatMap((report) => report.failed)).toEqual([]);
  for (const phone of synced) expect(phone.state.files).toEqual([0, 1, 2, 3].map((k) => windowOf(k).path));
  // Every file of the overlap carries both signatures, each verifying with its key.
  for (const k of [2, 3]) {
    expect(await signedBy(k)).toEqual(['v1', 'v2']);
    const zip = await fileAt(k);
    expect(await verifyExport(zip, v1.publicKey, { keyId: REGION, keyVersion: 'v1' })).toMatchObject({ valid: true });
    expect(await verifyExport(zip, v2.publicKey, { keyId: REGION, keyVersion: 'v2' })).toMatchObject({ valid: true });
  }

  // 3. Retired: the new key alone. Files published before keep their bytes and their two signatures.
  const before = await fileAt(2);
  await publishThrough(6, { KEYFRONT_SIGNERS: signersSettingValue([{ keyId: REGION, keyVersion: 'v2', keyFile: v2.file, notBefore: now - 1 }]) });
  expect(await Promise.all([4, 5].map(signedBy))).toEqual([['v2'], ['v2']]);
  expect((await fileAt(2)).equals(before)).toBe(true);
  const newKeyPhones = synced.filter((_, i) => i % 2 === 1);
  for (const phone of newKeyPhones) expect(await phone.sync()).toMatchObject({ failed: [], fetched: [expect.objectContaining({ path: windowOf(4).path }), expect.objectContaining({ path: windowOf(5).path })] });
  // A phone that still knows only the old key cannot verify them: why the runbook retires only after the app stores moved every phone.
  expect((await synced[0].sync()).failed.map((failure) => failure.code)).toEqual(['signature_invalid', 'signature_invalid']);

  // A fresh install that accepts both keys (as the page does) verifies everything and sees who signed what.
  const both = await phoneWith([v1.verification, v2.verification]).sync();
  expect(both.failed).toEqual([]);
  expect(both.fetched.map((file) => file.signedBy.map((info) => info.verificationKeyVersion))).toEqual([['v1'], ['v1'], ['v1', 'v2'], ['v1', 'v2'], ['v2'], ['v2']]);
});
