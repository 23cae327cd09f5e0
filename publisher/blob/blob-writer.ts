/**
 * The seam between the publisher and object storage: Azure Blob storage in Azure and on Azurite.
 * Small on purpose: create-only writes for files that must never change, conditional writes for
 * the few that do (index, manifest), reads, listing, idempotent deletes, and a lease for the lock.
 */

export interface BlobRequestOptions {
  abortSignal?: AbortSignal;
}

export interface BlobContent {
  contentType: string;
  cacheControl?: string;
  /** Stored with the blob (names: lower case letters and digits). */
  metadata?: Record<string, string>;
}

export interface BlobInfo {
  name: string;
  etag: string;
  contentLength: number;
  metadata: Record<string, string>;
}

export interface StoredBlob extends BlobInfo {
  data: Buffer;
  contentType?: string;
  cacheControl?: string;
}

export type CreateResult = { created: true; etag: string } | { created: false; existing: BlobInfo };

export interface ReplaceOptions extends BlobRequestOptions {
  /** Replace only this version (`If-Match`); `null` means only if absent (`If-None-Match: *`). */
  ifMatch: string | null;
  /** Required when the blob is leased. */
  leaseId?: string;
}

/** A conditional write lost: someone else changed the blob, or holds its lease. */
export class BlobConditionError extends Error {
  override readonly name = 'BlobConditionError';
  constructor(
    message: string,
    readonly blobName: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BlobLease {
  readonly leaseId: string;
  /** Extends the lease; rejects with `BlobConditionError` once the lease is lost. */
  renew(options?: BlobRequestOptions): Promise<void>;
  release(options?: BlobRequestOptions): Promise<void>;
}

export interface BlobWriter {
  /** For logs and URLs: the container this writer writes to. */
  readonly containerName: string;
  /** Creates the container if missing; `publicRead` lets anyone read its blobs (not list them). */
  ensureContainer(options: { publicRead: boolean } & BlobRequestOptions): Promise<void>;
  /** Writes a blob only if the name is free (`If-None-Match: *`); a taken name is left as it is. */
  create(name: string, data: Buffer, content: BlobContent, options?: BlobRequestOptions): Promise<CreateResult>;
  /** A conditional overwrite; throws `BlobConditionError` when the condition fails. */
  replace(name: string, data: Buffer, content: BlobContent, options: ReplaceOptions): Promise<{ etag: string }>;
  /** The blob, or `undefined` when there is none. */
  read(name: string, options?: BlobRequestOptions): Promise<StoredBlob | undefined>;
  /** Blobs whose names start with `prefix`, with their metadata, in name order. */
  list(prefix: string, options?: BlobRequestOptions): AsyncIterable<BlobInfo>;
  /** Deletes a blob; resolves `false` when it was already gone. */
  delete(name: string, options?: BlobRequestOptions): Promise<boolean>;
  /** Takes a lease on an existing blob; `undefined` when someone else holds one. */
  acquireLease(name: string, durationSeconds: number, options?: BlobRequestOptions): Promise<BlobLease | undefined>;
}
