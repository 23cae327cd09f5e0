/**
 * One import from one peer: take the peer's lock, read its progress, read its index, then for each
 * file after the last one handled, in index order: fetch it, verify it (verify-peer-file.ts), store
 * its keys into our region with their provenance, and only then record it as handled. A crash
 * between storing and recording stores the same keys again on the next run, which changes nothing:
 * a key's id is its region and key data (`exposureId`), the store keeps the first copy, and a key
 * that came from another peer or a phone first is published once. A refused file is recorded with
 * its code and never fetched again (a published file does not change). A file the peer cannot give
 * now (404, timeout, HTML, an error status) stops the run before it: progress never passes a file
 * that was not handled, and the next run asks again.
 */
import { exposureId, publishAtOf, type Exposure, type ExposureStore } from '../../exposures/exposure-store';
import type { Logger } from '../../platform/log';
import { MAX_EXPORT_FILE_BYTES } from '../../proto/tek';
import type { BlobWriter } from '../blob/blob-writer';
import { acquireLock } from '../lock';
import { FederationError, type FederationCode } from './codes';
import type { Peer } from './peer';
import { fetchFromPeer } from './peer-fetch';
import { MAX_INDEX_BYTES, parsePeerIndex } from './peer-index';
import { emptyProgress, linesAfter, progressBlobName, readProgress, writeProgress, type ProgressVersion } from './import-progress';
import { verifyPeerFile } from './verify-peer-file';

/** Keys per store call: a file may hold 750,000. */
const INSERT_BATCH = 1000;

export interface ImportDeps {
  store: ExposureStore;
  /** The publisher's private state container: progress and lock. */
  state: BlobWriter;
  logger: Logger;
}

export interface ImportOptions {
  /** Bound of each request to the peer. */
  peerTimeoutInMs: number;
  leaseSeconds: number;
  /** Our clock (tests move it); default: now. */
  now?: () => Date;
  /** Called after each file is handled (the CLI's progress bar). */
  onFile?: (file: FileOutcome, total: number) => void;
  abortSignal?: AbortSignal;
}

export interface FileOutcome {
  path: string;
  status: 'imported' | 'refused' | 'deferred';
  /** Keys new to the store (a key stored before, from anywhere, is not counted). */
  keysNew?: number;
  keys?: number;
  code?: FederationCode;
  reason?: string;
}

export interface PeerImportReport {
  peer: string;
  /** done: every file of the index handled; behind: a file was deferred (retried next run); busy: another importer holds the peer; failed: nothing could be done (index, storage). */
  status: 'done' | 'behind' | 'busy' | 'failed';
  files: FileOutcome[];
  filesImported: number;
  keysNew: number;
  refused: Partial<Record<FederationCode, number>>;
  code?: FederationCode;
  error?: string;
  /** The last index line handled after this run. */
  last?: string;
}

function report(peer: string, status: PeerImportReport['status'], files: FileOutcome[], extra: Partial<PeerImportReport> = {}): PeerImportReport {
  const refused: Partial<Record<FederationCode, number>> = {};
  for (const file of files) if (file.status === 'refused' && file.code) refused[file.code] = (refused[file.code] ?? 0) + 1;
  const imported = files.filter((file) => file.status === 'imported');
  return { peer, status, files, filesImported: imported.length, keysNew: imported.reduce((sum, file) => sum + (file.keysNew ?? 0), 0), refused, ...extra };
}

/** Stores a file's keys into `intoRegion`, as an upload at `nowSeconds` would: the publisher puts them in its next files. */
async function storeKeys(store: ExposureStore, peer: Peer, path: string, keys: Exposure['tek'][], nowSeconds: number, abortSignal: AbortSignal): Promise<number> {
  let inserted = 0;
  for (let at = 0; at < keys.length; at += INSERT_BATCH) {
    const batch = keys.slice(at, at + INSERT_BATCH).map(
      (tek): Exposure => ({ id: exposureId(peer.intoRegion, tek.keyData), region: peer.intoRegion, tek, uploadedAt: nowSeconds, publishAt: publishAtOf(tek, nowSeconds), source: { peer: peer.name, file: path } }),
    );
    inserted += (await store.insert(batch, { abortSignal })).inserted;
  }
  return inserted;
}

/** Our side failed (the state container, the store, an abort): logged, and reported as the peer's failed import. */
function failed(logger: Logger, peer: string, error: unknown, files: FileOutcome[] = [], last?: string): PeerImportReport {
  const message = (error as Error).message;
  logger.error('import from the peer failed; the next run continues from what is recorded', { error: message });
  return report(peer, 'failed', files, { error: message, last });
}

/** Imports what is new at one peer; never throws (the peer's answers and our own failures are in the report). */
export async function importFromPeer(peer: Peer, deps: ImportDeps, options: ImportOptions): Promise<PeerImportReport> {
  const logger = deps.logger.child({ peer: peer.name });
  const clock = options.now ?? (() => new Date());
  const lock = await acquireLock(deps.state, progressBlobName(peer.name), { leaseSeconds: options.leaseSeconds, initialContent: Buffer.from(JSON.stringify(emptyProgress(peer.name))), logger, abortSignal: options.abortSignal }).catch((error: unknown) => error as Error);
  if (lock instanceof Error) return failed(logger, peer.name, lock);
  if (!lock) {
    logger.info('another importer holds this peer; leaving it the work');
    return report(peer.name, 'busy', []);
  }
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, lock.signal]) : lock.signal;
  const files: FileOutcome[] = [];
  let version: ProgressVersion;
  try {
    version = await readProgress(deps.state, peer.name, { abortSignal: signal });
  } catch (error) {
    await lock.release().catch(() => undefined);
    return failed(logger, peer.name, error);
  }
  try {
    let listed;
    try {
      const text = (await fetchFromPeer(peer.indexUrl, { peer: peer.name, timeoutInMs: options.peerTimeoutInMs, maxBytes: MAX_INDEX_BYTES, kind: 'index', abortSignal: signal })).toString('utf8');
      listed = parsePeerIndex(text, { indexUrl: peer.indexUrl, format: peer.indexFormat, sourceRegion: peer.sourceRegion });
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      logger.warn('peer index not usable; nothing imported', { code: error.code, reason: error.message });
      return report(peer.name, 'failed', [], { code: error.code, error: error.message, last: version.progress.last });
    }
    const pending = linesAfter(listed, version.progress.last);
    for (const file of pending) {
      let outcome: FileOutcome;
      try {
        const zip = await fetchFromPeer(file.url, { peer: peer.name, timeoutInMs: options.peerTimeoutInMs, maxBytes: MAX_EXPORT_FILE_BYTES, kind: 'file', abortSignal: signal });
        const now = clock();
        const verified = await verifyPeerFile(zip, peer, now);
        const keysNew = await storeKeys(deps.store, peer, file.path, verified.keys, Math.floor(now.getTime() / 1000), signal);
        outcome = { path: file.path, status: 'imported', keys: verified.keys.length, keysNew };
        logger.info('peer file imported', { file: file.path, keyCount: verified.keys.length, keysNew, expired: verified.expired, revisedKeysSkipped: verified.revisedKeys });
      } catch (error) {
        if (!(error instanceof FederationError)) throw error;
        outcome = { path: file.path, status: error.retry ? 'deferred' : 'refused', code: error.code, reason: error.message };
        logger.warn(error.retry ? 'peer file deferred to the next run' : 'peer file refused', { file: file.path, code: error.code, reason: error.message });
      }
      files.push(outcome);
      if (outcome.status === 'deferred') {
        options.onFile?.(outcome, pending.length);
        return report(peer.name, 'behind', files, { code: outcome.code, error: outcome.reason, last: version.progress.last });
      }
      const progress = { ...version.progress, last: file.path, refused: { ...version.progress.refused } };
      if (outcome.status === 'imported') {
        progress.filesImported++;
        progress.keysImported += outcome.keysNew ?? 0;
      } else if (outcome.code) progress.refused[outcome.code] = (progress.refused[outcome.code] ?? 0) + 1;
      version = await writeProgress(deps.state, progress, { etag: version.etag, leaseId: lock.leaseId, abortSignal: signal });
      options.onFile?.(outcome, pending.length);
    }
    version = await writeProgress(deps.state, { ...version.progress, lastSuccessAt: Math.floor(clock().getTime() / 1000) }, { etag: version.etag, leaseId: lock.leaseId, abortSignal: signal });
    return report(peer.name, 'done', files, { last: version.progress.last });
  } catch (error) {
    return failed(logger, peer.name, signal.aborted && signal.reason instanceof Error ? signal.reason : error, files, version.progress.last);
  } finally {
    await lock.release().catch(() => undefined);
  }
}
