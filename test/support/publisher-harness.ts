/**
 * Test support for the publisher: Azurite and (optionally) the Cosmos emulator, a signing key,
 * exposures placed in chosen windows, and the checks of what a publisher must always leave in
 * storage (the crash-safety invariants), used by the integration, fault and SIGKILL tests.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Container } from '@azure/cosmos';
import { silentLogger, type Logger } from '../../platform/log';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { exposureId, publishAtOf, type Exposure, type ExposureStore } from '../../exposures/exposure-store';
import { openExport, verifyExport } from '../../proto/codec';
import type { Tek } from '../../proto/tek';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import type { BlobWriter } from '../../publisher/blob/blob-writer';
import { indexJsonName, indexTxtName, parseExportFileName, regionPrefix } from '../../publisher/export-names';
import { EXPORT_CACHE_CONTROL, EXPORT_CONTENT_TYPE, type IndexJson } from '../../publisher/index-file';
import type { Purger } from '../../publisher/purgers/purger';
import type { PublisherDeps, PublisherSettings } from '../../publisher/publisher-deps';
import { LocalSigner } from '../../publisher/signers/local';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';

/** 2026-11-02T00:00:00Z: a fixed publisher clock in the past, so every range settles at once. */
export const T0 = Date.UTC(2026, 10, 2) / 1000;
export const HOUR = 3600;
export const DAY = 86400;

export const TEST_SETTINGS: PublisherSettings = {
  regions: ['440'],
  windowSeconds: HOUR,
  safetyMarginSeconds: 300,
  privacyFloor: 'pad',
  minKeysPerFile: 0,
  paddingJitter: 0,
  maxHoldSeconds: DAY,
  maxKeysPerFile: 750_000,
  storePageSize: 50,
  fileRetentionDays: 14,
  keyRetentionDays: 15,
  leaseSeconds: 15,
  deadlineSeconds: 600,
  purgeAttempts: 2,
  purgeBackoffInMs: 1,
};

export interface PublisherHarness {
  azurite: Azurite;
  cosmos?: CosmosEmulator;
  exports: AzureBlobWriter;
  state: AzureBlobWriter;
  signer: LocalSigner;
  publicKey: KeyObject;
  /** PEM files of the signing key pair, for the CLI. */
  privateKeyFile: string;
  publicKeyFile: string;
  dir: string;
  /** A fresh Cosmos container (own id) when the emulator runs. */
  cosmosStore(containerId: string): Promise<CosmosExposureStore>;
  stop(): Promise<void>;
}

export async function startPublisherHarness(options: { cosmos?: boolean } = {}): Promise<PublisherHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyfront-publisher-'));
  const azurite = await startAzurite();
  const cosmos = options.cosmos ? await startCosmosEmulator() : undefined;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyFile = path.join(dir, 'signing-private.pem');
  const publicKeyFile = path.join(dir, 'signing-public.pem');
  await writeFile(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const exports = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'exports');
  const state = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'publisher-state');
  await exports.ensureContainer({ publicRead: true });
  await state.ensureContainer({ publicRead: false });
  const containers: Container[] = [];
  return {
    azurite,
    cosmos,
    exports,
    state,
    signer: new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' }),
    publicKey,
    privateKeyFile,
    publicKeyFile,
    dir,
    cosmosStore: async (containerId) => {
      if (!cosmos) throw new Error('the harness was started without the Cosmos emulator');
      const container = await ensureExposuresContainer(cosmos.client(), { containerId });
      containers.push(container);
      return new CosmosExposureStore({ container, shards: 4 });
    },
    stop: async () => {
      await cosmos?.stop();
      await azurite.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A data directory whose stack.json points at the harness's emulators (or at `endpoints` given,
 * such as a switch in front of Azurite), as `npm start` writes it, and the settings for a
 * `keyfront` child process publishing into it (on top of the environment).
 */
export async function stackDataDir(h: PublisherHarness, name: string, settings: Record<string, string>, endpoints: { blobConnectionString?: string } = {}): Promise<{ dataDir: string; env: Record<string, string> }> {
  const dataDir = path.join(h.dir, name);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const blobConnectionString = endpoints.blobConnectionString ?? h.azurite.connectionString;
  await writeFile(path.join(dataDir, 'stack.json'), JSON.stringify({ pid: process.pid, cosmosEndpoint: h.cosmos!.endpoint, blobConnectionString }), { mode: 0o600 });
  return { dataDir, env: { KEYFRONT_DATA_DIR: dataDir, KEYFRONT_SIGNING_KEY_FILE: h.privateKeyFile, KEYFRONT_COSMOS_SHARDS: '4', ...settings } };
}

export function harnessDeps(h: PublisherHarness, store: ExposureStore, settings: Partial<PublisherSettings> = {}, extra: { purger?: Purger; logger?: Logger } = {}): PublisherDeps {
  return {
    store,
    exports: h.exports,
    state: h.state,
    signer: h.signer,
    purger: extra.purger ?? new RecordingPurger(),
    logger: extra.logger ?? silentLogger,
    settings: { ...TEST_SETTINGS, ...settings },
  };
}

/** A purger that records its calls and fails the first `failures` of them. */
export class RecordingPurger implements Purger {
  readonly name = 'recording';
  readonly calls: string[][] = [];
  constructor(public failures = 0) {}

  async purge(contentPaths: readonly string[]): Promise<void> {
    this.calls.push([...contentPaths]);
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('edge unavailable'), { retryable: true });
    }
  }
}

/** A key whose rolling period ended on the UTC day before `publishAt - 2 h`, uploaded at `publishAt`: it is published in the window containing `publishAt`. */
export function exposureAt(region: string, publishAt: number, overrides: Partial<Tek> = {}): Exposure {
  const dayStart = Math.floor((publishAt - 2 * HOUR) / DAY) * DAY;
  const tek: Tek = { keyData: randomBytes(16), rollingStartIntervalNumber: (dayStart - DAY) / 600, rollingPeriod: 144, transmissionRiskLevel: 4, reportType: 1, ...overrides };
  return { id: exposureId(region, tek.keyData), region, tek, uploadedAt: publishAt, publishAt: publishAtOf(tek, publishAt) };
}

/** `count` keys spread over the window [start, start + windowSeconds). */
export function exposuresInWindow(region: string, start: number, count: number, windowSeconds = HOUR): Exposure[] {
  return Array.from({ length: count }, (_, i) => exposureAt(region, start + Math.floor(((i + 0.5) * windowSeconds) / count)));
}

export function hex(keyData: Uint8Array): string {
  return Buffer.from(keyData).toString('hex');
}

export interface StoredExport {
  name: string;
  zip: Buffer;
  sha256: string;
  keys: string[];
  revisedKeys: string[];
  contentType?: string;
  cacheControl?: string;
  metadata: Record<string, string>;
}

export interface PublishedView {
  indexTxt?: string;
  indexJson?: IndexJson;
  indexHeaders: Array<{ name: string; contentType?: string; cacheControl?: string }>;
  files: Map<string, StoredExport>;
}

/** Everything of a region in the export container, read back through the Blob API. */
export async function readPublished(exports: BlobWriter, region: string): Promise<PublishedView> {
  const view: PublishedView = { indexHeaders: [], files: new Map() };
  for await (const item of exports.list(regionPrefix(region))) {
    const blob = await exports.read(item.name);
    if (!blob) continue; // deleted while listing
    if (item.name === indexTxtName(region)) {
      view.indexTxt = blob.data.toString('utf8');
      view.indexHeaders.push({ name: item.name, contentType: blob.contentType, cacheControl: blob.cacheControl });
    } else if (item.name === indexJsonName(region)) {
      view.indexJson = JSON.parse(blob.data.toString('utf8')) as IndexJson;
      view.indexHeaders.push({ name: item.name, contentType: blob.contentType, cacheControl: blob.cacheControl });
    } else {
      const opened = await openExport(blob.data);
      view.files.set(item.name, {
        name: item.name,
        zip: blob.data,
        sha256: createHash('sha256').update(blob.data).digest('hex'),
        keys: opened.export.keys.map((k) => hex(k.keyData)),
        revisedKeys: opened.export.revisedKeys.map((k) => hex(k.keyData)),
        contentType: blob.contentType,
        cacheControl: blob.cacheControl,
        metadata: blob.metadata,
      });
    }
  }
  return view;
}

export function indexTxtNames(view: PublishedView): string[] {
  return view.indexTxt ? view.indexTxt.split('\n').filter((line) => line !== '') : [];
}

/**
 * What must hold after any crash: each index names only files that exist, are complete, verify
 * and match index.json's digests; no key is in two files; no file changed since it was first seen
 * (`seen`, updated).
 */
export async function expectConsistent(view: PublishedView, publicKey: KeyObject, seen: Map<string, string> = new Map()): Promise<void> {
  const jsonNames = view.indexJson?.files.map((f) => f.path) ?? [];
  for (const name of [...indexTxtNames(view), ...jsonNames]) {
    const file = view.files.get(name);
    if (!file) throw new Error(`the index names ${name}, which does not exist`);
  }
  for (const entry of view.indexJson?.files ?? []) {
    const file = view.files.get(entry.path)!;
    expect({ path: entry.path, sha256: file.sha256, bytes: file.zip.length, keys: file.keys.length }).toEqual({ path: entry.path, sha256: entry.sha256, bytes: entry.bytes, keys: entry.keys });
  }
  const owner = new Map<string, string>();
  const revisedOwner = new Map<string, string>();
  for (const file of view.files.values()) {
    const result = await verifyExport(file.zip, publicKey);
    if (!result.valid) throw new Error(`${file.name} does not verify: ${result.reason}`);
    expect(parseExportFileName(file.name)).toBeDefined();
    expect({ name: file.name, contentType: file.contentType, cacheControl: file.cacheControl }).toEqual({ name: file.name, contentType: EXPORT_CONTENT_TYPE, cacheControl: EXPORT_CACHE_CONTROL });
    expect(file.metadata.binsha256).toBe(result.binSha256);
    for (const key of file.keys) {
      if (owner.has(key)) throw new Error(`a key is in both ${owner.get(key)} and ${file.name}`);
      owner.set(key, file.name);
    }
    for (const key of file.revisedKeys) {
      if (revisedOwner.has(key)) throw new Error(`a revised key is in both ${revisedOwner.get(key)} and ${file.name}`);
      revisedOwner.set(key, file.name);
    }
    const before = seen.get(file.name);
    if (before !== undefined && before !== file.sha256) throw new Error(`${file.name} was rewritten after it was published`);
    seen.set(file.name, file.sha256);
  }
}

/**
 * What must hold after a successful run: both indexes name the same files, every file in storage
 * (none left out, except files of windows that ended before `retainedFrom`, which have left the
 * index and wait for deletion), and each expected key is in exactly one indexed file; `revised`
 * likewise.
 */
export function expectComplete(view: PublishedView, expected: { keys: Iterable<string>; revisedKeys?: Iterable<string>; retainedFrom?: number }): void {
  const retainedFrom = expected.retainedFrom ?? -Infinity;
  const names = [...view.files.keys()].filter((name) => parseExportFileName(name)!.end >= retainedFrom).sort();
  expect(indexTxtNames(view)).toEqual(view.indexJson?.files.map((f) => f.path));
  expect([...indexTxtNames(view)].sort()).toEqual(names);
  const published = new Map<string, number>();
  const revised = new Map<string, number>();
  for (const file of view.files.values()) {
    if (!names.includes(file.name)) continue;
    for (const key of file.keys) published.set(key, (published.get(key) ?? 0) + 1);
    for (const key of file.revisedKeys) revised.set(key, (revised.get(key) ?? 0) + 1);
  }
  const missing = [...expected.keys].filter((key) => published.get(key) !== 1);
  expect(missing).toEqual([]);
  const missingRevised = [...(expected.revisedKeys ?? [])].filter((key) => revised.get(key) !== 1);
  expect(missingRevised).toEqual([]);
}
