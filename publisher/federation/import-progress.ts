/**
 * A peer's durable progress, one private blob per peer in the publisher's state container
 * (`federation/{peer}.json`): the last index line handled (imported or refused) and counts. Each
 * write carries the importer's lease on that blob (publisher/lock.ts: two importers of one peer
 * never run at once) and the version it read, so a run that lost its lease records nothing.
 */
import type { BlobRequestOptions, BlobWriter } from '../blob/blob-writer';

export interface PeerProgress {
  peer: string;
  /** The last index line handled: the next run starts after it. Absent: nothing handled yet. */
  last?: string;
  /** UTC seconds of the last run that handled every file of the index. */
  lastSuccessAt?: number;
  filesImported: number;
  keysImported: number;
  /** Files refused for good, by code. */
  refused: Record<string, number>;
}

export interface ProgressVersion {
  progress: PeerProgress;
  etag: string;
}

export function progressBlobName(peer: string): string {
  return `federation/${peer}.json`;
}

export function emptyProgress(peer: string): PeerProgress {
  return { peer, filesImported: 0, keysImported: 0, refused: {} };
}

/** The progress as stored (the blob exists: the lock created it). */
export async function readProgress(state: BlobWriter, peer: string, options: BlobRequestOptions = {}): Promise<ProgressVersion> {
  const blob = await state.read(progressBlobName(peer), options);
  if (!blob) throw new Error(`the federation progress of peer ${peer} is missing although its lock is held`);
  const stored = JSON.parse(blob.data.toString('utf8')) as Partial<PeerProgress>;
  return { progress: { ...emptyProgress(peer), ...stored, peer }, etag: blob.etag };
}

/** Writes the progress; fails with `BlobConditionError`, changing nothing, unless this run still holds the lease and nobody wrote in between. */
export async function writeProgress(state: BlobWriter, progress: PeerProgress, options: BlobRequestOptions & { etag: string; leaseId: string }): Promise<ProgressVersion> {
  const { etag } = await state.replace(progressBlobName(progress.peer), Buffer.from(JSON.stringify(progress)), { contentType: 'application/json' }, { ifMatch: options.etag, leaseId: options.leaseId, abortSignal: options.abortSignal });
  return { progress, etag };
}

/** The index lines after `last`, in index order. When `last` has left the index (older than the peer keeps), the lines named after it. */
export function linesAfter<T extends { path: string }>(files: readonly T[], last: string | undefined): T[] {
  if (last === undefined) return [...files];
  const at = files.findIndex((file) => file.path === last);
  if (at >= 0) return files.slice(at + 1);
  const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  // `{start}-{end}-{n}.zip`: equal-width numbers of seconds sort as text.
  return files.filter((file) => base(file.path) > base(last));
}
