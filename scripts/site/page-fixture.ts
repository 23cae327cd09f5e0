/**
 * A published region at full scale for the page's browser test and `npm run bench:page`: files
 * signed in this process (14 days x 24 hourly windows by default, each padded to the floor as the
 * publisher pads), their index and manifest, and the page published by the publisher's own
 * `publishSite` into in-memory containers. A small Blob-shaped origin serves those containers and
 * the real local edge (the declaration of edge-config/keyfront.ts, its WAF, rules, cache and
 * headers) stands in front, so the browser reads the page exactly as through `npm start`, without
 * the seconds Azurite and the Cosmos emulator would add.
 */
import { createHash, generateKeyPairSync, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { silentLogger } from '../../platform/log';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { MemoryBlobWriter } from '../../publisher/blob/memory-blob-writer';
import { exportFileName, indexJsonName, indexTxtName } from '../../publisher/export-names';
import { buildIndex, EXPORT_CACHE_CONTROL, EXPORT_CONTENT_TYPE, INDEX_CACHE_CONTROL, INDEX_JSON_CONTENT_TYPE, INDEX_TXT_CONTENT_TYPE } from '../../publisher/index-file';
import { manifestBlobName, type Manifest, type PublishedFile, type RangeRecord } from '../../publisher/manifest';
import type { Purger } from '../../publisher/purgers/purger';
import { LocalSigner } from '../../publisher/signers/local';
import { SignerSchedule } from '../../publisher/signers/schedule';
import { publishSite, type SiteFile } from '../../publisher/site';
import { buildSite } from './build';

const DAY = 86400;
const HOUR = 3600;

export interface PageFixtureOptions {
  region?: string;
  days?: number;
  filesPerDay?: number;
  /** Keys per file: the floor plus up to `jitter` at random, as padding makes them. */
  floor?: number;
  jitter?: number;
  /** Keys from phones per file on day `d` (0 = the newest): the manifest's real counts. */
  realKeysPerFile?: (day: number) => number;
  fingerprintUrl?: string;
  /** A build to publish (the test and the bench build it once). */
  site?: SiteFile[];
  /** A key rotation in progress: the newest day's files are signed by the old key (v1) and a new one (v2), the older days' by v1 alone. */
  rotation?: boolean;
}

export interface PageFixture {
  /** The local edge: the page's address. */
  url: string;
  edge: LocalEdge;
  region: string;
  exports: MemoryBlobWriter;
  /** Every file, oldest first, as the index lists it. */
  files: PublishedFile[];
  manifest: Manifest;
  fingerprintSha256: string;
  /** The health authority's signer of these files (to sign a file the way the publisher would). */
  signer: LocalSigner;
  /** Paths the origin was asked for (below the container), in order. */
  originRequests: string[];
  /**
   * Replaces a blob's bytes at the origin (same headers) and purges its path on the edge: what
   * someone with write access to storage could do. Browsers keep what they cached.
   */
  replaceBlob(name: string, bytes: Buffer): Promise<void>;
  stop(): Promise<void>;
}

/** Blob storage's answer shape for what the page needs: GET/HEAD of a blob with its headers and ETag, `304`, and `404 BlobNotFound`. */
function serveContainer(container: MemoryBlobWriter, requests: string[]): Promise<{ server: Server; url: string }> {
  const prefix = `/${container.containerName}/`;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    requests.push(path.startsWith(prefix) ? path.slice(prefix.length) : path);
    void (async () => {
      const blob = path.startsWith(prefix) && (req.method === 'GET' || req.method === 'HEAD') ? await container.read(decodeURIComponent(path.slice(prefix.length))) : undefined;
      if (!blob) {
        res.writeHead(404, { 'content-type': 'application/xml', 'x-ms-error-code': 'BlobNotFound' });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>');
        return;
      }
      const headers: Record<string, string> = { etag: blob.etag, 'content-type': blob.contentType ?? 'application/octet-stream', 'last-modified': new Date(0).toUTCString() };
      if (blob.cacheControl) headers['cache-control'] = blob.cacheControl;
      if (req.headers['if-none-match'] === blob.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': String(blob.data.length) });
      res.end(req.method === 'HEAD' ? undefined : blob.data);
    })().catch(() => res.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

const noPurge: Purger = { name: 'none', purge: async () => undefined };

/** Signs, indexes and publishes a region's files and the page, and serves them through the local edge. */
export async function startPageFixture(options: PageFixtureOptions = {}): Promise<PageFixture> {
  const region = options.region ?? '440';
  const days = options.days ?? 14;
  const perDay = options.filesPerDay ?? 24;
  const floor = options.floor ?? 1000;
  const jitter = options.jitter ?? 100;
  const realKeysPerFile = options.realKeysPerFile ?? ((day: number) => (day % 3 === 0 ? 20 : 60));
  const authority = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = new LocalSigner(authority.privateKey, { keyId: region, keyVersion: 'v1' });
  const next = options.rotation ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : undefined;
  const nextSigner = next ? new LocalSigner(next.privateKey, { keyId: region, keyVersion: 'v2' }) : undefined;
  const exports = new MemoryBlobWriter('exports');
  const state = new MemoryBlobWriter('publisher-state');
  await exports.ensureContainer({ publicRead: true });
  await state.ensureContainer({ publicRead: false });

  // The newest day is yesterday (UTC): every one of its windows is closed.
  const newestDay = Math.floor(Date.now() / 1000 / DAY) * DAY - DAY;
  const files: PublishedFile[] = [];
  const ranges: RangeRecord[] = [];
  const windowSeconds = DAY / perDay;
  for (let day = days - 1; day >= 0; day--) {
    for (let w = 0; w < perDay; w++) {
      const start = newestDay - day * DAY + w * windowSeconds;
      const end = start + windowSeconds;
      const keyCount = floor + randomInt(jitter + 1);
      const built = await buildExport({ region, startTimestamp: start, endTimestamp: end, keys: realisticKeys(keyCount) }, day === 0 && nextSigner ? [signer, nextSigner] : signer);
      const name = exportFileName({ region, start, end, n: 1 });
      await exports.create(name, built.zip, { contentType: EXPORT_CONTENT_TYPE, cacheControl: EXPORT_CACHE_CONTROL });
      const signatures = built.signatureInfos.map((info) => ({ keyId: region, keyVersion: info.verificationKeyVersion ?? '' }));
      const file: PublishedFile = { name, start, end, n: 1, keys: keyCount, revisedKeys: 0, bytes: built.zip.length, sha256: createHash('sha256').update(built.zip).digest('hex'), binSha256: built.binSha256, keyId: region, keyVersion: 'v1', signatures };
      files.push(file);
      const real = Math.min(keyCount, realKeysPerFile(day));
      ranges.push({ start, end, files: [file], realKeys: real, realRevisedKeys: 0, paddingKeys: keyCount - real, publishedAt: end + HOUR, settled: true });
    }
  }
  const index = buildIndex(region, files, new Date((newestDay + DAY + 2 * HOUR) * 1000));
  const indexContent = { cacheControl: INDEX_CACHE_CONTROL };
  await exports.replace(indexTxtName(region), Buffer.from(index.txt), { ...indexContent, contentType: INDEX_TXT_CONTENT_TYPE }, { ifMatch: null });
  await exports.replace(indexJsonName(region), Buffer.from(index.json), { ...indexContent, contentType: INDEX_JSON_CONTENT_TYPE }, { ifMatch: null });
  const manifest: Manifest = { version: 1, region, publishedThrough: newestDay + DAY, ranges, purgePending: false, updatedAt: newestDay + DAY };
  await state.replace(manifestBlobName(region), Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' }, { ifMatch: null });

  const now = Math.floor(Date.now() / 1000);
  await publishSite(
    {
      exports,
      state,
      signer: nextSigner ? new SignerSchedule([{ signer, window: { notAfter: now + 28 * DAY } }, { signer: nextSigner, window: { notBefore: now - DAY } }]) : signer,
      purger: noPurge,
      logger: silentLogger,
      settings: { regions: [region], minKeysPerFile: floor, purgeAttempts: 1, purgeBackoffInMs: 0 },
      site: { fingerprintUrl: options.fingerprintUrl },
    },
    options.site ?? (await buildSite()),
    next ? [authority.publicKey, next.publicKey] : authority.publicKey,
  );

  const originRequests: string[] = [];
  const origin = await serveContainer(exports, originRequests);
  let edge: LocalEdge;
  try {
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: origin.url, blobSecondary: origin.url, probeRegion: region })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: '00000000-0000-4000-8000-000000000000', probeIntervalInMs: 600_000, logger: silentLogger });
  } catch (error) {
    await new Promise<void>((resolve) => origin.server.close(() => resolve()));
    throw error;
  }
  const spki = authority.publicKey.export({ type: 'spki', format: 'der' });
  return {
    url: edge.url,
    edge,
    region,
    exports,
    files,
    manifest,
    fingerprintSha256: createHash('sha256').update(spki).digest('hex'),
    signer,
    originRequests,
    replaceBlob: async (name, bytes) => {
      const current = await exports.read(name);
      if (!current) throw new Error(`no blob ${name} to replace`);
      await exports.replace(name, bytes, { contentType: current.contentType ?? 'application/octet-stream', cacheControl: current.cacheControl }, { ifMatch: current.etag });
      edge.purge(name === 'site/index.html' ? ['/', `/${name}`] : [`/${name}`]);
    },
    stop: async () => {
      await edge.stop();
      origin.server.closeAllConnections();
      await new Promise<void>((resolve) => origin.server.close(() => resolve()));
    },
  };
}
