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

/** A key that signed a file, as phones know it. */
export interface SignatureRef {
  readonly keyId: string;
  readonly keyVersion: string;
}

/** One export file, as the manifest and the index know it. */
export interface PublishedFile {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly n: number;
  /** Keys in the file, padding included. */
  readonly keys: number;
  readonly revisedKeys: number;
  /** Zip size in bytes. */
  readonly bytes: number;
  /** SHA-256 of the zip, hex. */
  readonly sha256: string;
  /** SHA-256 of export.bin, hex: what makes two builds of a file the same file. */
  readonly binSha256: string;
  /** The first key that signed the file. */
  readonly keyId: string;
  readonly keyVersion: string;
  /** Every key that signed the file, in export.sig's order (absent in records of files signed by one key before rotations existed). */
  readonly signatures?: readonly SignatureRef[];
  /** Wall clock (epoch seconds) once the blob existed; absent when unknown. The index waits for geo-replication to pass it. */
  readonly createdAt?: number;
}

export interface RangeRecord {
  readonly start: number;
  readonly end: number;
  readonly files: readonly PublishedFile[];
  /** Stored keys published in the range's files. */
  readonly realKeys: number;
  readonly realRevisedKeys: number;
  readonly paddingKeys: number;
  /** Publisher clock (seconds) of the last pass over the range. */
  readonly publishedAt: number;
  /**
   * No key can still arrive in the range: it was read after its end plus the safety margin by the
   * wall clock. A range closed early (`--now` ahead of the clock) stays unsettled and is read
   * again by later runs, which publish any late keys as further files of the range.
   */
  readonly settled: boolean;
  /** Clock (seconds, never ahead of the wall clock) once both index files stopped naming the range's files. */
  readonly unlistedAt?: number;
  /** Wall clock (seconds; `--now` if later) once the first purge to succeed after `unlistedAt` ended: the files' grace period starts here. */
  readonly purgedAt?: number;
}

export interface Manifest {
  readonly version: 1;
  readonly region: string;
  readonly publishedThrough: number | null;
  readonly ranges: readonly RangeRecord[];
  /** The index changed and the edge may still serve the old one. */
  readonly purgePending: boolean;
  readonly updatedAt: number;
}

/** Every key that signed a file, in order. */
export function signaturesOf(file: Pick<PublishedFile, 'keyId' | 'keyVersion' | 'signatures'>): readonly SignatureRef[] {
  return file.signatures ?? [{ keyId: file.keyId, keyVersion: file.keyVersion }];
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
    // Key ids and versions are [A-Za-z0-9_]: "440/v1,440/v2" is unambiguous.
    signatures: signaturesOf(file).map((ref) => `${ref.keyId}/${ref.keyVersion}`).join(','),
  };
}

function signaturesFromMetadata(value: string | undefined): SignatureRef[] | undefined {
  if (!value) return undefined;
  const refs = value.split(',').map((entry) => entry.split('/'));
  return refs.every((ref) => ref.length === 2) ? refs.map(([keyId, keyVersion]) => ({ keyId, keyVersion })) : undefined;
}

/** The `PublishedFile` of a listed export blob; `undefined` for blobs that are not export files or lack our metadata. */
export function publishedFileFromBlob(blob: BlobInfo): PublishedFile | undefined {
  const name = parseExportFileName(blob.name);
  const m = blob.metadata;
  if (!name || !m.sha256 || !m.binsha256 || m.keys === undefined) return undefined;
  const signatures = signaturesFromMetadata(m.signatures);
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
    ...(signatures ? { signatures } : {}),
  };
}

function parseManifest(text: string, region: string): Manifest {
  const parsed = JSON.parse(text) as Partial<Manifest>;
  if (parsed.version !== 1 || parsed.region !== region || !Array.isArray(parsed.ranges)) {
    throw new Error(`the publisher manifest of region ${region} is not a version 1 manifest of that region`);
  }
  return parsed as Manifest;
}

/** A manifest and the ETag of the blob it was read from or written as: the version a conditional write must name. */
export interface ManifestVersion {
  readonly manifest: Manifest;
  readonly etag: string;
}

/** Reads a region's manifest under the region's lock (the lock created the blob, empty, if there was none). */
export async function readManifest(state: BlobWriter, region: string, options: BlobRequestOptions = {}): Promise<ManifestVersion> {
  const blob = await state.read(manifestBlobName(region), options);
  if (!blob) throw new Error(`the publisher manifest of region ${region} is missing although its lock is held`);
  const text = blob.data.toString('utf8');
  return { manifest: text.trim() === '' ? emptyManifest(region) : parseManifest(text, region), etag: blob.etag };
}

export interface WriteManifestOptions extends BlobRequestOptions {
  /** The version this run holds: a write after anybody else's fails. */
  etag: string;
  /** The region lock's lease: a run that lost it can record nothing. */
  leaseId: string;
  /** Publisher clock (seconds), stored as `updatedAt`. */
  now: number;
}

/** Writes a manifest (ranges in start order); fails with `BlobConditionError`, changing nothing, unless the run still holds the lease and nobody wrote in between. Answers the manifest as written. */
export async function writeManifest(state: BlobWriter, manifest: Manifest, options: WriteManifestOptions): Promise<ManifestVersion> {
  const written: Manifest = { ...manifest, ranges: [...manifest.ranges].sort((a, b) => a.start - b.start), updatedAt: options.now };
  const data = Buffer.from(JSON.stringify(written));
  const { etag } = await state.replace(manifestBlobName(manifest.region), data, { contentType: 'application/json' }, { ifMatch: options.etag, leaseId: options.leaseId, abortSignal: options.abortSignal });
  return { manifest: written, etag };
}
