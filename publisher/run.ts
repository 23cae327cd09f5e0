/**
 * One publisher run, the same for the timer function, the CLI and the local stack. Per region,
 * under the region's lock:
 *
 *   1. read again the ranges closed early (late keys become further files of their range);
 *   2. publish the closed windows after the cursor: files first, each range recorded in the
 *      manifest once all its files exist;
 *   3. write index.txt, then index.json, naming only recorded files, and only if they changed;
 *   4. purge the two index paths (a failure is retried by the next run, never undone);
 *   5. clean up: files leave storage a cache lifetime after the purge that followed their leaving
 *      the index, then old keys leave the store.
 *
 * `now` (`--now`) only decides which windows are closed. Keys are published once their embargo
 * has ended by the wall clock, and retention (the first window, unlisting, key deletion) counts from
 * `now` or the wall clock, whichever is earlier: a clock ahead never drops or deletes anything early.
 * The grace before files leave storage counts by the wall clock alone, as caches expire.
 *
 * A crash anywhere leaves storage consistent: files are create-only and complete or absent; the
 * index names only recorded files; the next run finishes a half-published range by publishing
 * only the keys its files do not carry yet (`RangePublisher`).
 */
import type { Logger } from '../platform/log';
import type { ExposureStore } from '../exposures/exposure-store';
import type { Signer } from '../proto/signer';
import type { BlobWriter } from './blob/blob-writer';
import type { PrivacyFloorMode, PublisherConfig } from './config';
import { indexJsonName, indexPurgePaths, indexTxtName, regionPrefix } from './export-names';
import { buildIndex, INDEX_CACHE_CONTROL, INDEX_CACHE_GRACE_SECONDS, INDEX_JSON_CONTENT_TYPE, INDEX_TXT_CONTENT_TYPE, indexJsonListsFiles } from './index-file';
import { replicatedFiles, type ReplicationGate } from './geo-replication';
import { acquireLock } from './lock';
import { emptyManifest, ManifestHandle, manifestBlobName, publishedFileFromBlob, type Manifest, type PublishedFile, type RangeRecord } from './manifest';
import type { FloorRandom } from './privacy-floor';
import { purgeWithRetry } from './purge';
import type { Purger } from './purgers/purger';
import { RangePublisher, type RangeDeps, type RangeResult, type RangeSettings } from './range-publisher';
import type { StepHook } from './steps';
import { closedThrough, isClosed, nextBoundaryAfter, windowStartOf, type WindowSettings } from './windows';

const DAY = 86400;

export interface PublisherSettings extends RangeSettings, WindowSettings {
  regions: string[];
  privacyFloor: PrivacyFloorMode;
  maxHoldSeconds: number;
  fileRetentionDays: number;
  keyRetentionDays: number;
  leaseSeconds: number;
  deadlineSeconds: number;
  purgeAttempts: number;
  purgeBackoffInMs: number;
}

export function publisherSettings(config: PublisherConfig): PublisherSettings {
  return {
    regions: config.regions,
    windowSeconds: config.windowSeconds,
    safetyMarginSeconds: config.safetyMarginSeconds,
    privacyFloor: config.privacyFloor,
    minKeysPerFile: config.minKeysPerFile,
    paddingJitter: config.paddingJitter,
    maxHoldSeconds: config.maxHoldSeconds,
    maxKeysPerFile: config.maxKeysPerFile,
    storePageSize: config.storePageSize,
    fileRetentionDays: config.fileRetentionDays,
    keyRetentionDays: config.keyRetentionDays,
    leaseSeconds: config.leaseSeconds,
    deadlineSeconds: config.deadlineSeconds,
    purgeAttempts: config.purger.attempts,
    purgeBackoffInMs: config.purger.backoffInMs,
  };
}

export interface PublisherDeps {
  store: ExposureStore;
  /** The public export container. */
  exports: BlobWriter;
  /** The private state container (manifests, locks). */
  state: BlobWriter;
  signer: Signer;
  purger: Purger;
  logger: Logger;
  settings: PublisherSettings;
  random?: FloorRandom;
  /** The exports account's geo-replication: new files enter the index once replicated (absent: at once). */
  replication?: ReplicationGate;
}

export interface PublishOptions {
  /** The publisher's clock: which windows are closed (`--now` moves it), nothing else. Default: the wall clock. */
  now?: Date;
  /** The real clock in ms, whatever `now` says: whether a range closed early may still receive keys, whether a key's embargo ended, a cap on `now` for retention, and the clean-up grace. */
  wallClock?: () => number;
  /** Publish only these regions (default: all configured). */
  regions?: string[];
  abortSignal?: AbortSignal;
  /** How long to wait for a region whose lock another publisher holds (default: skip it at once). */
  waitForLockInMs?: number;
  onStep?: StepHook;
}

export interface RegionOutcome {
  region: string;
  /** `busy`: another publisher held the lock; nothing was done. */
  status: 'done' | 'busy' | 'failed';
  /** Ranges that got new files in this run. */
  rangesPublished: number;
  filesWritten: string[];
  /** Keys and revised keys put into the files written (padding not counted). */
  keysPublished: number;
  revisedKeysPublished: number;
  /** The latest `publishAt` of those keys (seconds), `null` when none: the publish lag counts from it. */
  newestPublishAt: number | null;
  /** Hold mode: keys from this instant on wait for more keys. */
  heldSince?: number;
  /** The run reached its deadline and left closed windows to the next run. */
  deadlineReached: boolean;
  indexChanged: boolean;
  /** `null` when no purge was due. */
  purged: boolean | null;
  filesDeleted: number;
  keysDeleted: number;
  publishedThrough: number | null;
  /** Recorded files the index does not name yet: the secondary does not hold them yet. */
  filesAwaitingReplication: number;
  error?: string;
}

export interface PublishRun {
  now: number;
  regions: RegionOutcome[];
}

interface RegionRun {
  deps: PublisherDeps;
  region: string;
  now: number;
  /** `now`, but never ahead of the wall clock (at the run's start): what retention counts from. */
  retentionNow: number;
  /** Windows that ended before this have left the file retention (from `retentionNow`). */
  retainFrom: number;
  wallClock: () => number;
  deadlineAt: number;
  signal: AbortSignal;
  handle: ManifestHandle;
  /** Export files of the region in storage when the run began (with their metadata). */
  stored: PublishedFile[];
  step: (step: Parameters<StepHook>[0], name?: string) => Promise<void>;
  outcome: RegionOutcome;
}

/** Publishes every (or the given) region once. Never throws for a region's failure: see each outcome. */
export async function publishExports(deps: PublisherDeps, options: PublishOptions = {}): Promise<PublishRun> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const wallClock = options.wallClock ?? Date.now;
  const deadlineAt = wallClock() + deps.settings.deadlineSeconds * 1000;
  const regions = options.regions ?? deps.settings.regions;
  deps.logger.debug('publisher run started', { regions, now: new Date(now * 1000).toISOString() });
  const outcomes: RegionOutcome[] = [];
  for (const region of regions) {
    outcomes.push(await publishRegion(deps, region, now, wallClock, deadlineAt, options));
  }
  // The caller logs the run's one info line, with its duration and publish lag (publisher/run-telemetry.ts).
  deps.logger.debug('publisher run finished', {
    regions: outcomes.map(({ region, status, rangesPublished, filesWritten, indexChanged, purged, filesDeleted, keysDeleted }) => ({ region, status, rangesPublished, files: filesWritten.length, indexChanged, purged, filesDeleted, keysDeleted })),
  });
  return { now, regions: outcomes };
}

async function publishRegion(deps: PublisherDeps, region: string, now: number, wallClock: () => number, deadlineAt: number, options: PublishOptions): Promise<RegionOutcome> {
  const outcome: RegionOutcome = { region, status: 'failed', rangesPublished: 0, filesWritten: [], keysPublished: 0, revisedKeysPublished: 0, newestPublishAt: null, deadlineReached: false, indexChanged: false, purged: null, filesDeleted: 0, keysDeleted: 0, publishedThrough: null, filesAwaitingReplication: 0 };
  const logger = deps.logger.child({ region });
  let lock;
  try {
    lock = await acquireLock(deps.state, manifestBlobName(region), {
      leaseSeconds: deps.settings.leaseSeconds,
      waitInMs: options.waitForLockInMs,
      initialContent: Buffer.from(JSON.stringify(emptyManifest(region))),
      logger,
      abortSignal: options.abortSignal,
    });
  } catch (error) {
    outcome.error = (error as Error).message;
    if (options.abortSignal?.aborted) logger.info('publisher run stopped before it took the lock');
    else logger.error('publisher lock not taken', { error });
    return outcome;
  }
  if (!lock) {
    outcome.status = 'busy';
    logger.info('another publisher holds the lock of this region; leaving it the work');
    return outcome;
  }
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, lock.signal]) : lock.signal;
  try {
    const handle = await ManifestHandle.load(deps.state, region, lock.leaseId, { abortSignal: signal });
    const stored: PublishedFile[] = [];
    for await (const blob of deps.exports.list(regionPrefix(region), { abortSignal: signal })) {
      const file = publishedFileFromBlob(blob);
      if (file) stored.push(file);
    }
    const hook = options.onStep;
    const retentionNow = Math.min(now, Math.floor(wallClock() / 1000));
    const run: RegionRun = {
      deps: { ...deps, logger },
      region,
      now,
      retentionNow,
      retainFrom: retentionNow - deps.settings.fileRetentionDays * DAY,
      wallClock,
      deadlineAt,
      signal,
      handle,
      stored,
      step: async (step, name) => {
        signal.throwIfAborted();
        if (hook) await hook(step, name === undefined ? { region } : { region, name });
      },
      outcome,
    };
    await run.step('locked');
    await recheckEarlyRanges(run);
    await publishNewRanges(run);
    await run.step('files-done');
    await writeIndex(run);
    await purgeIndex(run);
    await cleanUp(run);
    outcome.publishedThrough = handle.manifest.publishedThrough;
    outcome.status = 'done';
  } catch (error) {
    outcome.error = signal.aborted && signal.reason instanceof Error ? signal.reason.message : (error as Error).message;
    // Stopped from outside (the stack stopping, the invocation's hard deadline): as safe as a crash, and expected.
    if (options.abortSignal?.aborted) logger.warn('publisher run stopped before the region was done; the next run continues from what is recorded', { error: outcome.error });
    else logger.error('publishing the region failed; the next run continues from what is recorded', { error: signal.aborted ? signal.reason : error });
  } finally {
    await lock.release().catch((error: unknown) => logger.warn('publisher lock not released; it expires by itself', { error }));
  }
  return outcome;
}

function rangeDeps(run: RegionRun): RangeDeps {
  return { store: run.deps.store, exports: run.deps.exports, signer: run.deps.signer, logger: run.deps.logger, onStep: (step, detail) => run.step(step, detail.name), random: run.deps.random, wallClock: run.wallClock };
}

function pastDeadline(run: RegionRun): boolean {
  if (run.wallClock() < run.deadlineAt) return false;
  if (!run.outcome.deadlineReached) run.deps.logger.warn('publisher run reached its deadline; the next run continues');
  run.outcome.deadlineReached = true;
  return true;
}

/** Files of the range starting at `start` (and ending at `end`, if given) in storage, each name once. */
function filesOfRange(run: RegionRun, start: number, end?: number): PublishedFile[] {
  const byName = new Map<string, PublishedFile>();
  for (const file of run.stored) {
    if (file.start === start && (end === undefined || file.end === end) && !byName.has(file.name)) byName.set(file.name, file);
  }
  return [...byName.values()];
}

function recordOf(result: RangeResult, now: number, settled: boolean): RangeRecord {
  return { start: result.start, end: result.end, files: result.files, realKeys: result.realKeys, realRevisedKeys: result.realRevisedKeys, paddingKeys: result.paddingKeys, publishedAt: now, settled };
}

function noteNewFiles(run: RegionRun, result: RangeResult): void {
  run.outcome.filesWritten.push(...result.newFiles.map((file) => file.name));
  run.outcome.keysPublished += result.publishedKeys;
  run.outcome.revisedKeysPublished += result.publishedRevisedKeys;
  if (result.newestPublishAt !== undefined) run.outcome.newestPublishAt = Math.max(run.outcome.newestPublishAt ?? 0, result.newestPublishAt);
  run.stored.push(...result.newFiles);
}

/**
 * A range is unsettled when a run closed it before the wall clock did (`--now` ahead): an upload
 * may still be stamped inside it. Read it again; publish what its files do not carry yet as
 * further files of the range; settle it once read after its end plus the margin.
 */
async function recheckEarlyRanges(run: RegionRun): Promise<void> {
  const manifest = run.handle.manifest;
  const { retainFrom } = run;
  // A range out of the index (its files may be gone), or leaving it in this run (a manifest restored from an old copy), is past reading again.
  for (const record of manifest.ranges.filter((r) => !r.settled && r.unlistedAt === undefined && r.end >= retainFrom)) {
    if (pastDeadline(run)) return;
    const wallAtStart = Math.floor(run.wallClock() / 1000);
    // Only files still in storage can be read back; a recorded one missing leaves the record (and the index), its keys are published again.
    const storedNames = new Set(run.stored.map((file) => file.name));
    const missing = record.files.filter((file) => !storedNames.has(file.name));
    if (missing.length > 0) run.deps.logger.warn('files a record names are missing from storage; their keys are published again in further files of the range', { start: record.start, end: record.end, files: missing.map((file) => file.name) });
    const lastN = Math.max(0, ...missing.map((file) => file.n)); // never a missing file's name again: a cache may hold it
    const publisher = await RangePublisher.open(rangeDeps(run), run.deps.settings, run.region, record.start, filesOfRange(run, record.start, record.end), run.signal, lastN);
    await publisher.read(record.start, record.end);
    const result = await publisher.finish(record.end);
    noteNewFiles(run, result);
    const settled = isClosed(record.end, wallAtStart, run.deps.settings);
    // Files the record lacks: written by this pass, or by a pass that crashed before recording them (found in storage).
    const changed = result.files.length !== record.files.length || result.files.some((file) => !record.files.some((r) => r.name === file.name));
    if (!changed && !settled) continue;
    if (result.newFiles.length > 0) run.outcome.rangesPublished++;
    Object.assign(record, recordOf(result, run.now, settled));
    if (settled && record.files.length === 0) manifest.ranges.splice(manifest.ranges.indexOf(record), 1);
    await run.handle.save(run.now, { abortSignal: run.signal });
    if (result.newFiles.length > 0) run.deps.logger.info('late keys published in a range closed early', { start: record.start, end: record.end, files: result.newFiles.length });
    await run.step('range-recorded');
  }
}

/** The cursor's first position: ranges that ended before the file retention would leave the index at once. */
function retentionStart(run: RegionRun): number {
  return windowStartOf(run.retainFrom, run.deps.settings.windowSeconds);
}

/**
 * A cursor set from the retention start (no manifest, or one far behind) may fall inside a range
 * some earlier run published (a hold range spans windows): move it to that range's end and record
 * its files as listed, so that its keys are not published a second time.
 */
function pastStoredRanges(run: RegionRun, cursor: number): number {
  const manifest = run.handle.manifest;
  for (;;) {
    const inside = run.stored.find((file) => file.start < cursor && cursor < file.end);
    if (!inside) return cursor;
    const files = filesOfRange(run, inside.start, inside.end);
    const recorded = new Set(manifest.ranges.flatMap((r) => r.files.map((file) => file.name)));
    if (files.some((file) => !recorded.has(file.name))) {
      // Unsettled, so that the next run reads it again: the run that wrote these files may have
      // crashed before the range's last one, and the real counts went with the lost record.
      manifest.ranges.push({ start: inside.start, end: inside.end, files, realKeys: 0, realRevisedKeys: 0, paddingKeys: 0, publishedAt: run.now, settled: false });
      run.deps.logger.warn('the first window falls inside files no record names; they are recorded and publishing goes on after them', { start: inside.start, end: inside.end, files: files.length });
    }
    cursor = inside.end;
  }
}

/**
 * Decides the next range from the cursor and reads it: where files of a range starting at the
 * cursor exist already (a crashed run), that range is finished as it was begun; otherwise one
 * closed window (pad mode), or as many closed windows as it takes to reach the privacy floor
 * (hold mode, up to the longest hold). `undefined`: held, or nothing closed.
 */
async function readNextRange(run: RegionRun, cursor: number, through: number): Promise<{ publisher: RangePublisher; end: number } | undefined> {
  const settings = run.deps.settings;
  const prior = filesOfRange(run, cursor);
  const publisher = await RangePublisher.open(rangeDeps(run), settings, run.region, cursor, prior, run.signal);
  if (prior.length > 0) {
    const ends = new Set(prior.map((file) => file.end));
    if (ends.size > 1) throw new Error(`files starting at ${cursor} end at different times (${[...ends].join(', ')}); inspect ${regionPrefix(run.region)}${cursor}-* before publishing on`);
    const end = prior[0].end;
    run.deps.logger.info('finishing a range a previous run began', { start: cursor, end, files: prior.length });
    await publisher.read(cursor, end);
    return { publisher, end };
  }
  if (cursor >= through) return undefined;
  // A range never reaches into files some earlier run wrote further on.
  const nextStored = Math.min(...run.stored.filter((file) => file.start > cursor).map((file) => file.start));
  let from = cursor;
  for (;;) {
    const to = Math.min(nextBoundaryAfter(from, settings.windowSeconds), nextStored);
    await publisher.read(from, to);
    const belowFloor = publisher.fileCount === 0 && publisher.pendingKeys > 0 && publisher.pendingKeys < settings.minKeysPerFile;
    const hold = settings.privacyFloor === 'hold' && belowFloor && to - cursor < settings.maxHoldSeconds && to < nextStored;
    if (!hold) return { publisher, end: to };
    if (nextBoundaryAfter(to, settings.windowSeconds) > through) {
      run.outcome.heldSince = cursor;
      run.deps.logger.info('keys held back below the privacy floor until a later window', { since: cursor, keyCount: publisher.pendingKeys, minKeysPerFile: settings.minKeysPerFile });
      return undefined;
    }
    from = to;
  }
}

/** The `publishAt` of some key or revision of the region in [from, to) (whichever the store returns first), or `undefined` when there is none. */
async function someKeyTime(run: RegionRun, from: number, to: number): Promise<number | undefined> {
  const options = { pageSize: 1, abortSignal: run.signal };
  let found: number | undefined;
  for await (const page of run.deps.store.listForPublication(run.region, from, to, options)) {
    if (page.length > 0) {
      found = page[0].publishAt;
      break;
    }
  }
  for await (const page of run.deps.store.listRevisionsForPublication(run.region, from, found ?? to, options)) {
    if (page.length > 0) {
      found = page[0].revision!.publishAt;
      break;
    }
  }
  return found;
}

/**
 * Skips windows without keys, so that catching up (a first run, a publisher that was down)
 * costs a few short queries instead of a read per window: ask for any one key in the span, then
 * for any one before the window of the key found, and so on down (a few probes when the store
 * returns keys in no particular order). Only windows closed by the wall clock too: an empty
 * window closed early must get a record, to be read again for late keys. Returns the start of
 * the first window with keys, or `limit`.
 */
async function skipEmptyWindows(run: RegionRun, cursor: number, limit: number): Promise<number> {
  let first = limit;
  while (first > cursor) {
    const found = await someKeyTime(run, cursor, first);
    if (found === undefined) break;
    first = Math.max(cursor, windowStartOf(found, run.deps.settings.windowSeconds));
  }
  return first;
}

async function publishNewRanges(run: RegionRun): Promise<void> {
  const manifest: Manifest = run.handle.manifest;
  const settings = run.deps.settings;
  const firstStart = retentionStart(run);
  let cursor = manifest.publishedThrough ?? pastStoredRanges(run, firstStart);
  if (cursor < firstStart && filesOfRange(run, cursor).length === 0) {
    run.deps.logger.warn('the publisher is behind by more than the file retention; skipping windows whose files would leave the index at once', { from: cursor, to: firstStart });
    cursor = pastStoredRanges(run, firstStart);
  }
  let unsaved = cursor !== manifest.publishedThrough;
  const through = closedThrough(run.now, settings);
  while (!pastDeadline(run)) {
    const wallAtStart = Math.floor(run.wallClock() / 1000);
    if (filesOfRange(run, cursor).length === 0) {
      const settledThrough = Math.min(through, closedThrough(wallAtStart, settings));
      // Only worth a probe when more than the next window is closed.
      const skipped = settledThrough - cursor > settings.windowSeconds ? await skipEmptyWindows(run, cursor, settledThrough) : cursor;
      if (skipped > cursor) {
        // Never past files an earlier run wrote further on: their range is finished as it was begun.
        cursor = Math.min(skipped, ...run.stored.filter((file) => file.start > cursor).map((file) => file.start));
        manifest.publishedThrough = cursor;
        unsaved = true;
      }
    }
    const next = await readNextRange(run, cursor, through);
    if (!next) break;
    const result = await next.publisher.finish(next.end);
    noteNewFiles(run, result);
    const settled = isClosed(result.end, wallAtStart, settings);
    manifest.publishedThrough = result.end;
    cursor = result.end;
    // Empty settled ranges need no record: the cursor says they are done.
    if (result.files.length === 0 && settled) {
      unsaved = true;
      continue;
    }
    manifest.ranges.push(recordOf(result, run.now, settled));
    await run.handle.save(run.now, { abortSignal: run.signal });
    unsaved = false;
    if (result.newFiles.length > 0) run.outcome.rangesPublished++;
    run.deps.logger.info(result.files.length > 0 ? 'range published' : 'empty range closed early recorded, to be read again', { start: result.start, end: result.end, files: result.files.length, realKeyCount: result.realKeys, revisedKeyCount: result.realRevisedKeys, paddingKeyCount: result.paddingKeys, settled });
    await run.step('range-recorded');
  }
  if (unsaved) {
    manifest.publishedThrough = cursor;
    await run.handle.save(run.now, { abortSignal: run.signal });
  }
}

/**
 * Writes index.txt, then index.json, if what they name changed; records first that a purge is
 * due, and only once both are written that ranges left the index.
 */
async function writeIndex(run: RegionRun): Promise<void> {
  const manifest = run.handle.manifest;
  const { retainFrom } = run;
  const unlisting = manifest.ranges.filter((r) => r.files.length > 0 && r.unlistedAt === undefined && r.end < retainFrom);
  const listed = manifest.ranges.filter((r) => r.unlistedAt === undefined && r.end >= retainFrom);
  const options = { abortSignal: run.signal };
  const [txt, json] = await Promise.all([run.deps.exports.read(indexTxtName(run.region), options), run.deps.exports.read(indexJsonName(run.region), options)]);
  // A file the index names stays named; new ones wait until the secondary holds them.
  const named = new Set(txt?.data.toString('utf8').split('\n') ?? []);
  const { listable, waiting } = await replicatedFiles(listed.flatMap((r) => r.files), run.deps.replication, Math.floor(run.wallClock() / 1000), { ...options, alreadyListed: named });
  run.outcome.filesAwaitingReplication = waiting;
  if (waiting > 0) run.deps.logger.info('files wait for geo-replication before the index names them', { files: waiting });
  const index = buildIndex(run.region, listable, new Date(run.now * 1000));
  const txtChanged = txt === undefined || txt.data.toString('utf8') !== index.txt;
  const jsonChanged = !indexJsonListsFiles(json?.data.toString('utf8'), index.files);
  if (!txtChanged && !jsonChanged && unlisting.length === 0) return;
  manifest.purgePending = true;
  await run.handle.save(run.now, options);
  // Conditional on the versions read above: a publisher that lost its lock cannot roll the index back.
  if (txtChanged) {
    await run.deps.exports.replace(indexTxtName(run.region), Buffer.from(index.txt), { contentType: INDEX_TXT_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL }, { ifMatch: txt?.etag ?? null, ...options });
  }
  await run.step('index-txt-written', indexTxtName(run.region));
  if (jsonChanged) {
    await run.deps.exports.replace(indexJsonName(run.region), Buffer.from(index.json), { contentType: INDEX_JSON_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL }, { ifMatch: json?.etag ?? null, ...options });
  }
  run.outcome.indexChanged = true;
  run.deps.logger.info('index written', { files: index.files.length, unlisted: unlisting.reduce((sum, r) => sum + r.files.length, 0) });
  await run.step('index-written', indexJsonName(run.region));
  // A crash before this save leaves them unrecorded: the next run finds the index as it should be and records them then.
  if (unlisting.length > 0) {
    for (const range of unlisting) range.unlistedAt = run.retentionNow;
    await run.handle.save(run.now, options);
  }
}

async function purgeIndex(run: RegionRun): Promise<void> {
  const manifest = run.handle.manifest;
  if (!manifest.purgePending) return;
  const settings = run.deps.settings;
  const purged = await purgeWithRetry(run.deps.purger, indexPurgePaths(run.region), { attempts: settings.purgeAttempts, backoffInMs: settings.purgeBackoffInMs, logger: run.deps.logger, abortSignal: run.signal });
  run.outcome.purged = purged;
  await run.step('purged');
  if (purged) {
    manifest.purgePending = false;
    // The edge no longer serves an index naming these ranges' files: their grace period starts, by
    // the wall clock after the purge (a `--now` behind must not date it earlier; one ahead only delays).
    const purgedAt = Math.max(run.now, Math.floor(run.wallClock() / 1000));
    for (const range of manifest.ranges) if (range.unlistedAt !== undefined && range.purgedAt === undefined) range.purgedAt = purgedAt;
    await run.handle.save(run.now, { abortSignal: run.signal });
  }
}

/**
 * Files leave storage only once no cache can still hold an index that names them: with no purge
 * pending, a cache lifetime after the purge that followed their leaving the index. Files no record
 * names and no run will finish (a range begun before the cursor and never recorded, or a lost
 * manifest) may still be named by an index some cache holds: they are recorded as unlisted and go
 * the same way, after the next purge. Then old keys leave the store.
 */
async function cleanUp(run: RegionRun): Promise<void> {
  const manifest = run.handle.manifest;
  const settings = run.deps.settings;
  const options = { abortSignal: run.signal };
  const recorded = new Set(manifest.ranges.flatMap((r) => r.files.map((file) => file.name)));
  const { retainFrom } = run;
  // Before the cursor: no run will finish their range.
  const orphans = run.stored.filter((file) => !recorded.has(file.name) && file.end < retainFrom && file.start < (manifest.publishedThrough ?? -Infinity));
  if (orphans.length > 0) {
    for (const file of orphans) manifest.ranges.push({ start: file.start, end: file.end, files: [file], realKeys: 0, realRevisedKeys: 0, paddingKeys: 0, publishedAt: run.now, settled: true, unlistedAt: run.retentionNow });
    manifest.purgePending = true;
    await run.handle.save(run.now, options);
    run.deps.logger.warn('export files no record names are recorded as unlisted; they are deleted a cache lifetime after the next purge', { files: orphans.length });
  }
  // Caches expire by the wall clock, whatever `--now` says: the grace is measured by it alone.
  const wall = Math.floor(run.wallClock() / 1000);
  const expired = manifest.purgePending ? [] : manifest.ranges.filter((r) => r.purgedAt !== undefined && wall - r.purgedAt >= INDEX_CACHE_GRACE_SECONDS);
  for (const file of expired.flatMap((r) => r.files)) {
    await run.deps.exports.delete(file.name, options);
    run.outcome.filesDeleted++;
    await run.step('file-deleted', file.name);
  }
  if (expired.length > 0) {
    manifest.ranges = manifest.ranges.filter((r) => !expired.includes(r));
    await run.handle.save(run.now, options);
  }
  if (run.outcome.filesDeleted > 0) run.deps.logger.info('expired export files deleted', { files: run.outcome.filesDeleted });
  await run.step('files-deleted');
  const { deleted } = await run.deps.store.deleteUploadedBefore(run.region, run.retentionNow - settings.keyRetentionDays * DAY, options);
  run.outcome.keysDeleted = deleted;
  if (deleted > 0) run.deps.logger.info('old keys deleted from the store', { keyCount: deleted });
  await run.step('keys-deleted');
}
