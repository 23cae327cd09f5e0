/**
 * One publisher run, the same for the timer function, the CLI and the local stack. Per region,
 * under the region's lock, the steps of `steps/` run in order over one `RegionState`:
 *
 *   1. read again the ranges closed early (late keys become further files of their range);
 *   2. publish the closed windows after the cursor: files first, each range recorded in the
 *      manifest once all its files exist;
 *   3. write index.txt, then index.json, naming only recorded files, and only if they changed;
 *   4. purge the two index paths (a failure is retried by the next run, never undone);
 *   5. clean up: files leave storage a cache lifetime after the purge that followed their leaving
 *      the index, then old keys leave the store.
 *
 * Then, with the page configured (`site`), the transparency page is rendered again from the
 * indexes of every region and written (and purged) only when what it says changed.
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
import type { BlobWriter } from './blob/blob-writer';
import type { PrivacyFloorMode, PublisherConfig } from './config';
import type { ReplicationGate } from './geo-replication';
import { acquireLock } from './lock';
import { emptyManifest, manifestBlobName } from './manifest';
import type { FloorRandom } from './privacy-floor';
import type { Purger } from './purgers/purger';
import type { RangeSettings } from './range-publisher';
import type { PublisherSigning } from './signers/schedule';
import { refreshSitePage, type SiteRefresh, type SiteSettings } from './site';
import { beginRegionRun, cleanUp, EMPTY_SUMMARY, publishNewRanges, purgeIndex, reached, recheckEarlyRanges, writeIndex, type RegionSummary, type StepHook } from './steps';
import type { WindowSettings } from './windows';

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
  /** The signing key, or the schedule of keys (a rotation): each new file is signed by every key valid for its region when it is built. */
  signer: PublisherSigning;
  purger: Purger;
  logger: Logger;
  settings: PublisherSettings;
  random?: FloorRandom;
  /** The exports account's geo-replication: new files enter the index once replicated (absent: at once). */
  replication?: ReplicationGate;
  /** The transparency page: renewed after each run when set (the timer, the CLI and the local stack set it). */
  site?: SiteSettings;
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

/** What a run did in one region: its status and summary. A region that failed reports the summary of its last checkpoint (each step boundary, and before a range is recorded). */
export interface RegionOutcome extends RegionSummary {
  region: string;
  /** `busy`: another publisher held the lock; nothing was done. */
  status: 'done' | 'busy' | 'failed';
  publishedThrough: number | null;
  error?: string;
}

export interface PublishRun {
  now: number;
  regions: RegionOutcome[];
  /** The transparency page after the run (absent without `site`); `error` when it could not be renewed. */
  site?: SiteRefresh | { written: false; purged: null; error: string };
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
  const site = deps.site && !options.abortSignal?.aborted ? await renewSite(deps, options.abortSignal) : undefined;
  // The caller logs the run's one info line, with its duration and publish lag (publisher/run-telemetry.ts).
  deps.logger.debug('publisher run finished', {
    regions: outcomes.map(({ region, status, rangesPublished, filesWritten, indexChanged, purged, filesDeleted, keysDeleted }) => ({ region, status, rangesPublished, files: filesWritten.length, indexChanged, purged, filesDeleted, keysDeleted })),
  });
  return { now, regions: outcomes, ...(site ? { site } : {}) };
}

/** The page is renewed from what is published; a failure is logged and left to the next run, never the run's failure. */
async function renewSite(deps: PublisherDeps, abortSignal?: AbortSignal): Promise<NonNullable<PublishRun['site']>> {
  try {
    return await refreshSitePage(deps, { abortSignal });
  } catch (error) {
    deps.logger.error('the transparency page was not renewed; the next run tries again', { error });
    return { written: false, purged: null, error: (error as Error).message };
  }
}

async function publishRegion(deps: PublisherDeps, region: string, now: number, wallClock: () => number, deadlineAt: number, options: PublishOptions): Promise<RegionOutcome> {
  const outcome = (status: RegionOutcome['status'], summary: RegionSummary, publishedThrough: number | null = null, error?: string): RegionOutcome => ({ region, status, ...summary, publishedThrough, ...(error === undefined ? {} : { error }) });
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
    if (options.abortSignal?.aborted) logger.info('publisher run stopped before it took the lock');
    else logger.error('publisher lock not taken', { error });
    return outcome('failed', EMPTY_SUMMARY, null, (error as Error).message);
  }
  if (!lock) {
    logger.info('another publisher holds the lock of this region; leaving it the work');
    return outcome('busy', EMPTY_SUMMARY);
  }
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, lock.signal]) : lock.signal;
  // What the region reports if a step fails: the summary at its last checkpoint.
  let checkpoint: RegionSummary = EMPTY_SUMMARY;
  try {
    const begun = await beginRegionRun({ ...deps, logger }, region, lock.leaseId, { now, wallClock, deadlineAt, signal, onStep: options.onStep, onCheckpoint: (state) => (checkpoint = state.summary) });
    const run = begun.run;
    let state = begun.state;
    await run.boundary('locked');
    state = await recheckEarlyRanges(run, state);
    state = await publishNewRanges(run, state);
    await reached(run, 'files-done', state);
    state = await writeIndex(run, state);
    state = await purgeIndex(run, state);
    state = await cleanUp(run, state);
    return outcome('done', state.summary, state.manifest.publishedThrough);
  } catch (error) {
    const message = signal.aborted && signal.reason instanceof Error ? signal.reason.message : (error as Error).message;
    // Stopped from outside (the stack stopping, the invocation's hard deadline): as safe as a crash, and expected.
    if (options.abortSignal?.aborted) logger.warn('publisher run stopped before the region was done; the next run continues from what is recorded', { error: message });
    else logger.error('publishing the region failed; the next run continues from what is recorded', { error: signal.aborted ? signal.reason : error });
    return outcome('failed', checkpoint, null, message);
  } finally {
    await lock.release().catch((error: unknown) => logger.warn('publisher lock not released; it expires by itself', { error }));
  }
}
