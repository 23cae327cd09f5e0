/**
 * Publishes one range of `publishAt` of one region: streams the range's keys and revised keys
 * from the store page by page into files of at most `maxKeysPerFile`, builds and signs each with
 * the codec, and writes it create-only. Keys that a file of the range already carries (written
 * by a run that crashed, or before late keys arrived) are skipped, so finishing a range never
 * publishes a key twice. The caller decides where the range ends (`finish`), which is how hold
 * mode extends a range over held windows.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../platform/log';
import { embargoEndOf } from '../proto/embargo';
import type { Exposure, ExposureStore } from '../exposures/exposure-store';
import { buildExport } from '../proto/codec';
import { checkTekFormat, type Tek } from '../proto/tek';
import { FileBatcher } from './batch';
import type { BlobWriter } from './blob/blob-writer';
import { exportFileName } from './export-names';
import { EXPORT_CACHE_CONTROL, EXPORT_CONTENT_TYPE } from './index-file';
import { fileMetadata, publishedFileFromBlob, type PublishedFile } from './manifest';
import { appendPadding, CRYPTO_RANDOM, paddingCount, type FloorRandom } from './privacy-floor';
import { PublishedKeys } from './published-keys';
import { scheduleOf, type PublisherSigning } from './signers/schedule';
import type { StepHook } from './steps/boundaries';

export interface RangeSettings {
  maxKeysPerFile: number;
  minKeysPerFile: number;
  paddingJitter: number;
  storePageSize: number;
}

export interface RangeDeps {
  store: ExposureStore;
  exports: BlobWriter;
  /** Every key valid for the region when a file is built signs it (wall clock). */
  signer: PublisherSigning;
  logger: Logger;
  onStep: StepHook;
  random?: FloorRandom;
  /** The real clock in ms: a key whose embargo has not ended by it is left for a later run, whatever the publisher clock says. */
  wallClock: () => number;
}

export interface RangeResult {
  start: number;
  end: number;
  /** Every file of the range, earlier ones included, in order. */
  files: PublishedFile[];
  /** Files this pass wrote. */
  newFiles: PublishedFile[];
  realKeys: number;
  realRevisedKeys: number;
  paddingKeys: number;
  /** Keys and revised keys this pass put into files (not those earlier files carry). */
  publishedKeys: number;
  publishedRevisedKeys: number;
  /** The latest `publishAt` (embargo end or upload) of those keys: where the publish lag counts from. */
  newestPublishAt?: number;
}

/** A file name of the range was taken by a file with other content: another publisher is at work. The published file stays. */
export class PublishConflictError extends Error {
  override readonly name = 'PublishConflictError';
}

/** The key as a revision publishes it: its own bytes and interval, the revised report type and onset. */
function revisedTek(exposure: Exposure): Tek {
  const revision = exposure.revision!;
  const tek: Tek = { ...exposure.tek, reportType: revision.reportType };
  if (revision.daysSinceOnsetOfSymptoms !== undefined) tek.daysSinceOnsetOfSymptoms = revision.daysSinceOnsetOfSymptoms;
  return tek;
}

export class RangePublisher {
  private readonly batcher: FileBatcher;
  private readonly files: PublishedFile[];
  private readonly newFiles: PublishedFile[] = [];
  private nextN: number;
  private alreadyKeys = 0;
  private alreadyRevisedKeys = 0;
  private newKeys = 0;
  private newRevisedKeys = 0;
  private dropped = 0;
  private embargoed = 0;
  private newestPublishAt: number | undefined;
  private oldestPublishAt: number | undefined;

  private constructor(
    private readonly deps: RangeDeps,
    private readonly settings: RangeSettings,
    readonly region: string,
    readonly start: number,
    prior: readonly PublishedFile[],
    private readonly published: PublishedKeys | undefined,
    private readonly abortSignal: AbortSignal | undefined,
    lastN: number,
  ) {
    this.batcher = new FileBatcher(settings.maxKeysPerFile);
    this.files = [...prior].sort((a, b) => a.n - b.n);
    this.nextN = this.files.reduce((max, file) => Math.max(max, file.n), lastN) + 1;
  }

  /**
   * Starts a range at `start`; `prior` are files of the range already in storage, whose keys are
   * read back and skipped; new files are numbered after them and after `lastN` (a name once used).
   */
  static async open(deps: RangeDeps, settings: RangeSettings, region: string, start: number, prior: readonly PublishedFile[], abortSignal?: AbortSignal, lastN = 0): Promise<RangePublisher> {
    const published = prior.length > 0 ? await PublishedKeys.read(deps.exports, prior.map((file) => file.name), { abortSignal }) : undefined;
    return new RangePublisher(deps, settings, region, start, prior, published, abortSignal, lastN);
  }

  /** Real keys (and revised keys) read but not yet in a file. */
  get pendingKeys(): number {
    return this.batcher.primaryKeys;
  }

  get pendingRevisedKeys(): number {
    return this.batcher.revisedKeys;
  }

  /** The earliest `publishAt` of the keys and revised keys this pass read: how long the longest-waiting of them has waited. */
  get oldestPendingSince(): number | undefined {
    return this.oldestPublishAt;
  }

  /** Files of the range in storage (earlier ones and this pass's). */
  get fileCount(): number {
    return this.files.length;
  }

  /**
   * Reads the keys and revised keys of [from, to) (a part of the range; `to` is where the range
   * ends if a file fills up now). Full files are written as they fill.
   */
  async read(from: number, to: number): Promise<void> {
    const options = { pageSize: this.settings.storePageSize, abortSignal: this.abortSignal };
    const wallNow = Math.floor(this.deps.wallClock() / 1000);
    for await (const page of this.deps.store.listForPublication(this.region, from, to, options)) {
      for (const exposure of page) {
        if (this.underEmbargo(exposure, wallNow) || !this.usable(exposure, exposure.tek)) continue;
        if (this.published?.hasKey(exposure.tek.keyData)) {
          this.alreadyKeys++;
          continue;
        }
        this.batcher.addKey(exposure.tek);
        this.newKeys++;
        this.noteRead(exposure.publishAt);
        if (this.batcher.full) await this.flush(to);
      }
    }
    for await (const page of this.deps.store.listRevisionsForPublication(this.region, from, to, options)) {
      for (const exposure of page) {
        if (!exposure.revision || this.underEmbargo(exposure, wallNow)) continue;
        const tek = revisedTek(exposure);
        if (!this.usable(exposure, tek)) continue;
        if (this.published?.hasRevisedKey(tek.keyData)) {
          this.alreadyRevisedKeys++;
          continue;
        }
        this.batcher.addRevisedKey(tek);
        this.newRevisedKeys++;
        this.noteRead(exposure.revision.publishAt);
        if (this.batcher.full) await this.flush(to);
      }
    }
  }

  /** Writes what is left as the range's last file, padded up to the privacy floor, and ends the range at `end`. */
  async finish(end: number): Promise<RangeResult> {
    if (this.batcher.size > 0) await this.flush(end);
    const realKeys = this.alreadyKeys + this.newKeys;
    const inFiles = this.files.reduce((sum, file) => sum + file.keys, 0);
    if (this.dropped > 0) this.deps.logger.error('stored keys that break the format were left out', { region: this.region, start: this.start, end, dropped: this.dropped });
    if (this.embargoed > 0) this.deps.logger.info('keys still under embargo by the wall clock left for a later run', { region: this.region, start: this.start, end, keyCount: this.embargoed });
    return {
      start: this.start,
      end,
      files: [...this.files],
      newFiles: [...this.newFiles],
      realKeys,
      realRevisedKeys: this.alreadyRevisedKeys + this.newRevisedKeys,
      paddingKeys: Math.max(0, inFiles - realKeys),
      publishedKeys: this.newKeys,
      publishedRevisedKeys: this.newRevisedKeys,
      ...(this.newestPublishAt === undefined ? {} : { newestPublishAt: this.newestPublishAt }),
    };
  }

  private noteRead(publishAt: number): void {
    this.newestPublishAt = Math.max(this.newestPublishAt ?? publishAt, publishAt);
    this.oldestPublishAt = Math.min(this.oldestPublishAt ?? publishAt, publishAt);
  }

  /**
   * Only a publisher clock ahead of the wall clock (`--now`) reads a key whose embargo has not
   * ended: its range is then closed early, so a later run reads it again and publishes the key.
   */
  private underEmbargo(exposure: Exposure, wallNow: number): boolean {
    if (embargoEndOf(exposure.tek) <= wallNow) return false;
    this.embargoed++;
    return true;
  }

  /** A stored key that breaks the format cannot go into any file: logged by id (never by key data) and left out. */
  private usable(exposure: Exposure, tek: Tek): boolean {
    const check = checkTekFormat(tek);
    if (check.ok) return true;
    this.dropped++;
    this.deps.logger.warn('stored key breaks the format', { region: this.region, id: exposure.id, rule: check.code });
    return false;
  }

  private async flush(end: number): Promise<void> {
    const { keys, revisedKeys } = this.batcher.take();
    appendPadding(keys, paddingCount(keys.length, revisedKeys.length, this.settings, this.deps.random), this.deps.random ?? CRYPTO_RANDOM);
    const n = this.nextN++;
    const name = exportFileName({ region: this.region, start: this.start, end, n });
    const signers = scheduleOf(this.deps.signer).signersFor(this.region, Math.floor(this.deps.wallClock() / 1000));
    const built = await buildExport({ region: this.region, startTimestamp: this.start, endTimestamp: end, keys, revisedKeys }, signers, { abortSignal: this.abortSignal });
    const file: PublishedFile = {
      name,
      start: this.start,
      end,
      n,
      keys: built.keyCount,
      revisedKeys: built.revisedKeyCount,
      bytes: built.zip.length,
      sha256: createHash('sha256').update(built.zip).digest('hex'),
      binSha256: built.binSha256,
      keyId: built.signatureInfo.verificationKeyId ?? '',
      keyVersion: built.signatureInfo.verificationKeyVersion ?? '',
      signatures: built.signatureInfos.map((info) => ({ keyId: info.verificationKeyId ?? '', keyVersion: info.verificationKeyVersion ?? '' })),
    };
    const written = await this.deps.exports.create(name, built.zip, { contentType: EXPORT_CONTENT_TYPE, cacheControl: EXPORT_CACHE_CONTROL, metadata: fileMetadata(file) }, { abortSignal: this.abortSignal });
    if (written.created) {
      this.deps.logger.info('export file written', { region: this.region, file: name, keyCount: file.keys, revisedKeyCount: file.revisedKeys, bytes: file.bytes });
      this.record({ ...file, createdAt: Math.ceil(this.deps.wallClock() / 1000) });
    } else {
      // Published files are never rewritten. Same export.bin: the same file, built twice; kept as published.
      const existing = publishedFileFromBlob(written.existing);
      if (!existing || existing.binSha256 !== file.binSha256) {
        throw new PublishConflictError(`${name} is already published with other content (another publisher is at work); it stays as published`);
      }
      this.deps.logger.info('export file already published with the same content', { region: this.region, file: name });
      // When the first build was written is unknown: from now on it counts as new for geo-replication.
      this.record({ ...existing, createdAt: Math.ceil(this.deps.wallClock() / 1000) });
    }
    await this.deps.onStep('file-written', { region: this.region, name });
  }

  private record(file: PublishedFile): void {
    this.files.push(file);
    this.newFiles.push(file);
  }
}
