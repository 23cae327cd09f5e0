/**
 * The publisher's record of what it published, one JSON blob per region in the private state
 * container (`{region}/manifest.json`). Why a blob manifest rather than a Cosmos container: it
 * lives next to the files it describes, in the same storage account and failure domain; it is
 * small (one entry per window with files, 14 days: a few hundred entries); it is written with the
 * same conditional-write semantics as the index; and its blob lease is the lock between
 * publishers, so every manifest write proves the writer still holds the lock.
 *
 * What it records: how far publication got (`publishedThrough`, the cursor: every key with
 * `publishAt` below it is in a recorded file or was in an empty window), each published range
 * with its files and its real/padding counts (never public: the counts would undo the padding),
 * whether a range could still receive late keys, when its files left the index and when the edge
 * was purged after that, and whether the last index change still needs a purge.
 */
import type { BlobInfo, BlobRequestOptions, BlobWriter } from './blob/blob-writer';
import { parseExportFileName } from './export-names';

/** One export file, as the manifest and the index know it. */
export interface PublishedFile {
  name: string;
  start: number;
  end: number;
  n: number;
  /** Keys in the file, padding included. */
  keys: number;
  revisedKeys: number;
  /** Zip size in bytes. */
  bytes: number;
  /** SHA-256 of the zip, hex. */
  sha256: string;
  /** SHA-256 of export.bin, hex: what makes two builds of a file the same file. */
  binSha256: string;
  keyId: string;
  keyVersion: string;
  /** Wall clock (epoch seconds) once the blob existed; absent when unknown. The index waits for geo-replication to pass it. */
  createdAt?: number;
}

export interface RangeRecord {
  start: number;
  end: number;
  files: PublishedFile[];
  /** Stored keys published in the range's files. */
  realKeys: number;
  realRevisedKeys: number;
  paddingKeys: number;
  /** Publisher clock (seconds) of the last pass over the range. */
  publishedAt: number;
  /**
   * No key can still arrive in the range: it was read after its end plus the safety margin by the
   * wall clock. A range closed early (`--now` ahead of the clock) stays unsettled and is read
   * again by later runs, which publish any late keys as further files of the range.
   */
  settled: boolean;
  /** Clock (seconds, never ahead of the wall clock) once both index files stopped naming the range's files. */
  unlistedAt?: number;
  /** Wall clock (seconds; `--now` if later) once the first purge to succeed after `unlistedAt` ended: the files' grace period starts here. */
  purgedAt?: number;
}

export interface Manifest {
  version: 1;
  region: string;
  publishedThrough: number | null;
  ranges: RangeRecord[];
  /** The index changed and the edge may still serve the old one. */
  purgePending: boolean;
  updatedAt: number;
}

export function emptyManifest(region: string): Manifest {
  return { version: 1, region, publishedThrough: null, ranges: [], purgePending: false, updatedAt: 0 };
}

export function manifestBlobName(region: string): string {
  return `${region}/manifest.json`;
}

/** Metadata stored on each export blob: enough to rebuild its `PublishedFile` from a listing. */
export function fileMetadata(file: PublishedFile): Record<string, string> {
  return {
    sha256: file.sha256,
    binsha256: file.binSha256,
    keys: String(file.keys),
    revisedkeys: String(file.revisedKeys),
    keyid: file.keyId,
    keyversion: file.keyVersion,
  };
}

/** The `PublishedFile` of a listed export blob; `undefined` for blobs that are not export files or lack our metadata. */
export function publishedFileFromBlob(blob: BlobInfo): PublishedFile | undefined {
  const name = parseExportFileName(blob.name);
  const m = blob.metadata;
  if (!name || !m.sha256 || !m.binsha256 || m.keys === undefined) return undefined;
  return {
    name: blob.name,
    start: name.start,
    end: name.end,
    n: name.n,
    keys: Number(m.keys),
    revisedKeys: Number(m.revisedkeys ?? 0),
    bytes: blob.contentLength,
    sha256: m.sha256,
    binSha256: m.binsha256,
    keyId: m.keyid ?? '',
    keyVersion: m.keyversion ?? '',
  };
}

function parseManifest(text: string, region: string): Manifest {
  const parsed = JSON.parse(text) as Partial<Manifest>;
  if (parsed.version !== 1 || parsed.region !== region || !Array.isArray(parsed.ranges)) {
    throw new Error(`the publisher manifest of region ${region} is not a version 1 manifest of that region`);
  }
  return parsed as Manifest;
}

/** The manifest of a region, read under the region's lock and written only with its lease. */
export class ManifestHandle {
  private constructor(
    private readonly state: BlobWriter,
    readonly manifest: Manifest,
    private etag: string,
    private readonly leaseId: string,
  ) {}

  static async load(state: BlobWriter, region: string, leaseId: string, options: BlobRequestOptions = {}): Promise<ManifestHandle> {
    const blob = await state.read(manifestBlobName(region), options);
    if (!blob) throw new Error(`the publisher manifest of region ${region} is missing although its lock is held`);
    const text = blob.data.toString('utf8');
    const manifest = text.trim() === '' ? emptyManifest(region) : parseManifest(text, region);
    return new ManifestHandle(state, manifest, blob.etag, leaseId);
  }

  /** Writes the manifest; fails (and changes nothing) unless this run still holds the lease and nobody wrote in between. */
  async save(now: number, options: BlobRequestOptions = {}): Promise<void> {
    this.manifest.updatedAt = now;
    this.manifest.ranges.sort((a, b) => a.start - b.start);
    const data = Buffer.from(JSON.stringify(this.manifest));
    const { etag } = await this.state.replace(manifestBlobName(this.manifest.region), data, { contentType: 'application/json' }, { ifMatch: this.etag, leaseId: this.leaseId, abortSignal: options.abortSignal });
    this.etag = etag;
  }
}
