/**
 * Step 5: clean up. Files leave storage only once no cache can still hold an index that names
 * them: with no purge pending, a cache lifetime after the purge that followed their leaving the
 * index. Files no record names and no run will finish (a range begun before the cursor and never
 * recorded, or a lost manifest) may still be named by an index some cache holds: they are
 * recorded as unlisted and go the same way, after the next purge. Then old keys leave the store.
 */
import { INDEX_CACHE_GRACE_SECONDS } from '../index-file';
import type { RangeRecord } from '../manifest';
import { reached, recordedNames, saveManifest, withManifest, withSummary, type RegionRun, type RegionState } from './run-state';

const DAY = 86400;

/** Records export files no record names, from ranges before the cursor that left the file retention, as unlisted; a purge is then due. */
export async function recordOrphans(run: RegionRun, state: RegionState): Promise<RegionState> {
  const { manifest } = state;
  const recorded = recordedNames(manifest.ranges);
  // Before the cursor: no run will finish their range.
  const orphans = state.stored.filter((file) => !recorded.has(file.name) && file.end < run.retainFrom && file.start < (manifest.publishedThrough ?? -Infinity));
  if (orphans.length === 0) return state;
  const records: RangeRecord[] = orphans.map((file) => ({ start: file.start, end: file.end, files: [file], realKeys: 0, realRevisedKeys: 0, paddingKeys: 0, publishedAt: run.now, settled: true, unlistedAt: run.retentionNow }));
  const saved = await saveManifest(run, withManifest(state, { ranges: [...manifest.ranges, ...records], purgePending: true }));
  run.deps.logger.warn('export files no record names are recorded as unlisted; they are deleted a cache lifetime after the next purge', { files: orphans.length });
  return saved;
}

/** Deletes the files of ranges whose grace after their purge has passed, then their records. */
export async function deleteExpiredFiles(run: RegionRun, initial: RegionState): Promise<RegionState> {
  const { manifest } = initial;
  // Caches expire by the wall clock, whatever `--now` says: the grace is measured by it alone.
  const wall = Math.floor(run.wallClock() / 1000);
  const expired = new Set(manifest.purgePending ? [] : manifest.ranges.filter((r) => r.purgedAt !== undefined && wall - r.purgedAt >= INDEX_CACHE_GRACE_SECONDS));
  let state = initial;
  for (const file of [...expired].flatMap((r) => r.files)) {
    await run.deps.exports.delete(file.name, { abortSignal: run.signal });
    state = withSummary(state, { filesDeleted: state.summary.filesDeleted + 1 });
    await reached(run, 'file-deleted', state, file.name);
  }
  if (expired.size > 0) state = await saveManifest(run, withManifest(state, { ranges: state.manifest.ranges.filter((r) => !expired.has(r)) }));
  if (state.summary.filesDeleted > 0) run.deps.logger.info('expired export files deleted', { files: state.summary.filesDeleted });
  await reached(run, 'files-deleted', state);
  return state;
}

/** Deletes keys uploaded before the key retention (the store keeps a key whose revision is younger). */
export async function deleteOldKeys(run: RegionRun, state: RegionState): Promise<RegionState> {
  const { deleted } = await run.deps.store.deleteUploadedBefore(run.region, run.retentionNow - run.deps.settings.keyRetentionDays * DAY, { abortSignal: run.signal });
  if (deleted > 0) run.deps.logger.info('old keys deleted from the store', { keyCount: deleted });
  const next = withSummary(state, { keysDeleted: deleted });
  await reached(run, 'keys-deleted', next);
  return next;
}

export async function cleanUp(run: RegionRun, initial: RegionState): Promise<RegionState> {
  const state = await recordOrphans(run, initial);
  return deleteOldKeys(run, await deleteExpiredFiles(run, state));
}
