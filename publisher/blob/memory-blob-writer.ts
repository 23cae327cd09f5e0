/**
 * `BlobWriter` in memory, for unit tests: it answers as `AzureBlobWriter` does on Azurite (held to
 * that by `blob-writer.contract.test.ts`, which runs the same cases against both). Put Blob
 * replaces content, headers and metadata at once; `If-None-Match: *` and `If-Match` conflicts,
 * lease rules and their error codes are Azure's; listing is in name order with the unquoted
 * ETags the List Blobs XML carries. Leases are timed by an injectable clock, so a test can let a
 * lease run out without waiting for it.
 */
import { randomUUID } from 'node:crypto';
import { BlobConditionError, type BlobContent, type BlobInfo, type BlobLease, type BlobRequestOptions, type BlobWriter, type CreateResult, type ReplaceOptions, type StoredBlob } from './blob-writer';

/** A failure Azure answers with a status other than a lost condition (404, 400), carrying the service's code. */
export class BlobServiceError extends Error {
  override readonly name = 'BlobServiceError';
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface MemoryBlobWriterOptions {
  /** The clock leases are timed by, in ms (default `Date.now`). */
  clock?: () => number;
}

interface Lease {
  id: string;
  /** ms; `Infinity` for an infinite lease. */
  expiresAt: number;
}

interface Entry {
  data: Buffer;
  etag: string;
  contentType: string;
  cacheControl?: string;
  metadata: Record<string, string>;
  /** The last lease taken, kept after it expires: Azure renews an expired lease until the blob is written or leased again. */
  lease?: Lease;
}

/** Azure accepts 15 to 60 seconds, or -1 for a lease that never expires. */
function leaseExpiry(now: number, durationSeconds: number): number {
  if (durationSeconds === -1) return Infinity;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 15 || durationSeconds > 60) {
    throw new BlobServiceError(`lease duration ${durationSeconds} s is outside 15..60 (or -1)`, 400, 'InvalidHeaderValue');
  }
  return now + durationSeconds * 1000;
}

let etagCounter = 0;

/** A new strong ETag, in the quoted form Get/Put Blob answer with. */
function nextEtag(): string {
  etagCounter++;
  return `"0x8DD${etagCounter.toString(16).toUpperCase().padStart(12, '0')}"`;
}

export class MemoryBlobWriter implements BlobWriter {
  private readonly blobs = new Map<string, Entry>();
  private readonly clock: () => number;
  private exists = false;
  private access: 'blob' | 'private' | undefined;

  constructor(
    readonly containerName: string,
    options: MemoryBlobWriterOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** How the container was created: `blob` (anyone reads blobs), `private`, or `undefined` before `ensureContainer`. */
  get publicAccess(): 'blob' | 'private' | undefined {
    return this.access;
  }

  async ensureContainer(options: { publicRead: boolean } & BlobRequestOptions): Promise<void> {
    options.abortSignal?.throwIfAborted();
    // Create-if-not-exists: a second call changes nothing, as on Azure.
    if (this.exists) return;
    this.exists = true;
    this.access = options.publicRead ? 'blob' : 'private';
  }

  async create(name: string, data: Buffer, content: BlobContent, options: BlobRequestOptions = {}): Promise<CreateResult> {
    this.checkContainer(options);
    const existing = this.blobs.get(name);
    if (existing) return { created: false, existing: this.info(name, existing, true) };
    return { created: true, etag: this.write(name, data, content) };
  }

  async replace(name: string, data: Buffer, content: BlobContent, options: ReplaceOptions): Promise<{ etag: string }> {
    this.checkContainer(options);
    const existing = this.blobs.get(name);
    if (existing) this.checkLeaseForWrite(name, existing, options.leaseId, 'conditional write lost on');
    if (options.ifMatch === null && existing) throw new BlobConditionError(`conditional write lost on ${name}: BlobAlreadyExists`, name, 'BlobAlreadyExists');
    if (options.ifMatch !== null && existing?.etag !== options.ifMatch) throw new BlobConditionError(`conditional write lost on ${name}: ConditionNotMet`, name, 'ConditionNotMet');
    return { etag: this.write(name, data, content, existing) };
  }

  async read(name: string, options: BlobRequestOptions = {}): Promise<StoredBlob | undefined> {
    options.abortSignal?.throwIfAborted();
    const entry = this.exists ? this.blobs.get(name) : undefined;
    if (!entry) return undefined;
    return { ...this.info(name, entry, true), data: Buffer.from(entry.data), contentType: entry.contentType, cacheControl: entry.cacheControl };
  }

  async *list(prefix: string, options: BlobRequestOptions = {}): AsyncIterable<BlobInfo> {
    this.checkContainer(options);
    const names = [...this.blobs.keys()].filter((name) => name.startsWith(prefix)).sort();
    for (const name of names) {
      options.abortSignal?.throwIfAborted();
      const entry = this.blobs.get(name);
      if (entry) yield this.info(name, entry, false);
    }
  }

  async delete(name: string, options: BlobRequestOptions = {}): Promise<boolean> {
    this.checkContainer(options);
    const entry = this.blobs.get(name);
    if (!entry) return false;
    if (this.activeLease(entry)) throw new BlobConditionError(`delete refused on ${name}: LeaseIdMissing`, name, 'LeaseIdMissing');
    this.blobs.delete(name);
    return true;
  }

  async acquireLease(name: string, durationSeconds: number, options: BlobRequestOptions = {}): Promise<BlobLease | undefined> {
    this.checkContainer(options);
    const entry = this.blobs.get(name);
    if (!entry) throw new BlobServiceError(`no blob ${name} to lease`, 404, 'BlobNotFound');
    const expiresAt = leaseExpiry(this.clock(), durationSeconds);
    if (this.activeLease(entry)) return undefined;
    const lease: Lease = { id: randomUUID(), expiresAt };
    entry.lease = lease;
    return {
      leaseId: lease.id,
      renew: async (renewOptions: BlobRequestOptions = {}) => {
        const current = this.leasedEntry(name, renewOptions);
        if (current.lease?.id !== lease.id) throw new BlobConditionError(`lease lost on ${name}: LeaseIdMismatchWithLeaseOperation`, name, 'LeaseIdMismatchWithLeaseOperation');
        current.lease = { id: lease.id, expiresAt: leaseExpiry(this.clock(), durationSeconds) };
      },
      release: async (releaseOptions: BlobRequestOptions = {}) => {
        const current = this.leasedEntry(name, releaseOptions);
        // A lease that is already gone needs no release.
        if (current.lease?.id === lease.id) current.lease = undefined;
      },
    };
  }

  private checkContainer(options: BlobRequestOptions): void {
    options.abortSignal?.throwIfAborted();
    if (!this.exists) throw new BlobServiceError(`the container ${this.containerName} does not exist`, 404, 'ContainerNotFound');
  }

  private leasedEntry(name: string, options: BlobRequestOptions): Entry {
    this.checkContainer(options);
    const entry = this.blobs.get(name);
    if (!entry) throw new BlobServiceError(`no blob ${name}`, 404, 'BlobNotFound');
    return entry;
  }

  private activeLease(entry: Entry): Lease | undefined {
    return entry.lease && entry.lease.expiresAt > this.clock() ? entry.lease : undefined;
  }

  /** Azure's lease rules for a write to an existing blob. */
  private checkLeaseForWrite(name: string, entry: Entry, leaseId: string | undefined, what: string): void {
    const active = this.activeLease(entry);
    const code = active ? (leaseId === undefined ? 'LeaseIdMissing' : leaseId !== active.id ? 'LeaseIdMismatchWithBlobOperation' : undefined) : leaseId !== undefined ? 'LeaseNotPresentWithBlobOperation' : undefined;
    if (code) throw new BlobConditionError(`${what} ${name}: ${code}`, name, code);
  }

  /** One Put Blob: content, headers and metadata replaced together; an expired lease can no longer be renewed. */
  private write(name: string, data: Buffer, content: BlobContent, previous?: Entry): string {
    const etag = nextEtag();
    const lease = previous && this.activeLease(previous);
    this.blobs.set(name, { data: Buffer.from(data), etag, contentType: content.contentType, cacheControl: content.cacheControl, metadata: { ...content.metadata }, lease });
    return etag;
  }

  private info(name: string, entry: Entry, quotedEtag: boolean): BlobInfo {
    return { name, etag: quotedEtag ? entry.etag : entry.etag.slice(1, -1), contentLength: entry.data.length, metadata: { ...entry.metadata } };
  }
}
