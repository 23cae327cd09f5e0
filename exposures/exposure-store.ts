/**
 * The seam between keyfront and wherever keys are stored: Cosmos DB in Azure and against the
 * emulator, memory in unit tests and benchmarks. The write API inserts and revises; the
 * publisher lists by publication time and deletes old keys.
 */
import { hash } from 'node:crypto';
import { embargoEndOf } from '../proto/embargo';
import type { ReportType, Tek } from '../proto/tek';

/** A change of a stored key's report type by a later upload that presented its revision token. */
export interface ExposureRevision {
  reportType: ReportType;
  daysSinceOnsetOfSymptoms?: number;
  /** Server clock, UTC seconds. */
  revisedAt: number;
  /** When the revision may be published: the later of `revisedAt` and the exposure's own `publishAt`, so a revision never goes out before the key it revises. */
  publishAt: number;
}

/** A key as the store holds it. */
export interface Exposure {
  /** Derived from region and key bytes (`exposureId`), so that uploading a key twice stores it once. */
  id: string;
  region: string;
  tek: Tek;
  /** Server clock at the first upload, UTC seconds. */
  uploadedAt: number;
  /**
   * UTC seconds from which the key may be published: the later of `uploadedAt` and the end of
   * its rolling period plus the embargo. The publisher puts a key in the file of the window that
   * contains this instant, so each key belongs to exactly one window, whatever the run history.
   */
  publishAt: number;
  healthAuthorityId?: string;
  traveler?: boolean;
  revision?: ExposureRevision;
  /** The `uploadId` of the certificate that first stored the key: only that uploader gets a revision token naming it. */
  uploadId?: string;
  /** Where an imported key came from (federation): the peer's name and the file's path in its index. Absent: a local upload. */
  source?: ExposureSource;
}

/** The provenance of a key imported from a peer server (publisher/federation/). */
export interface ExposureSource {
  peer: string;
  file: string;
}

export interface StoreOptions {
  abortSignal?: AbortSignal;
}

export interface ListOptions extends StoreOptions {
  /** Exposures per page (the store may return fewer). */
  pageSize?: number;
}

export interface ExposureStore {
  /**
   * Stores new keys. A key whose id is already stored is left exactly as it is (no second copy,
   * no change of its times). Resolves to the number of keys that were new, and their ids.
   */
  insert(exposures: readonly Exposure[], options?: StoreOptions): Promise<{ inserted: number; insertedIds: string[] }>;
  /** The stored exposures with these ids in `region`; ids not stored are left out. */
  get(region: string, ids: readonly string[], options?: StoreOptions): Promise<Exposure[]>;
  /**
   * Records revisions of stored keys (each exposure carries its new `revision`). A key already
   * revised is left as it is: a key is revised at most once (GAEN). Resolves to how many changed.
   */
  revise(exposures: readonly Exposure[], options?: StoreOptions): Promise<{ revised: number }>;
  /** Keys of `region` whose `publishAt` is in [fromSeconds, toSeconds), page by page, never all at once. */
  listForPublication(region: string, fromSeconds: number, toSeconds: number, options?: ListOptions): AsyncIterable<Exposure[]>;
  /** Keys of `region` whose `revision.publishAt` is in [fromSeconds, toSeconds), page by page. */
  listRevisionsForPublication(region: string, fromSeconds: number, toSeconds: number, options?: ListOptions): AsyncIterable<Exposure[]>;
  /**
   * Deletes keys of `region` uploaded before `beforeSeconds`, except a key whose revision may be
   * published at or after it (`revision.publishAt >= beforeSeconds`): a revision made near the end
   * of its key's retention must outlive its own publication. Such a key goes once its revision is
   * as old. Resolves to how many were deleted.
   */
  deleteUploadedBefore(region: string, beforeSeconds: number, options?: StoreOptions): Promise<{ deleted: number }>;
  /** Resolves when the store answers; rejects with `StoreUnavailableError` when it does not. */
  ping(options?: StoreOptions): Promise<void>;
}

/** The store is throttled or unreachable: callers answer 503 with `Retry-After`, never 500. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    message: string,
    readonly retryAfterInMs: number = 1000,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Scratch space for `exposureId`'s input: it runs for every key of every upload. */
const idInput = Buffer.alloc(256);

/** The stable id of a key in a region: a hash, so ids (which may appear in logs) reveal no key data. */
export function exposureId(region: string, keyData: Uint8Array): string {
  // sha256(region, 0x00, key data) with the one-shot hash, without allocating its input.
  const prefix = idInput.write(region, 'utf8');
  if (prefix + 1 + keyData.length > idInput.length) return hash('sha256', Buffer.concat([Buffer.from(`${region}\0`), keyData]), 'base64url');
  idInput[prefix] = 0;
  idInput.set(keyData, prefix + 1);
  return hash('sha256', idInput.subarray(0, prefix + 1 + keyData.length), 'base64url');
}

/** When a key may be published: not before its upload, nor before its embargo ended. */
export function publishAtOf(tek: Tek, uploadedAt: number): number {
  return Math.max(uploadedAt, embargoEndOf(tek));
}
