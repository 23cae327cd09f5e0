/**
 * Step 1: read again the ranges a run closed early. A range is unsettled when a run closed it
 * before the wall clock did (`--now` ahead): an upload may still be stamped inside it. Each run
 * reads it again, publishes what its files do not carry yet as further files of the range, and
 * settles it once it was read after its end plus the margin.
 */
import { RangePublisher } from '../range-publisher';
import { isClosed } from '../windows';
import { filesOfRange, pastDeadline, rangeDeps, reached, recordOf, saveManifest, withManifest, withRangeResult, withSummary, type RegionRun, type RegionState } from './run-state';

export async function recheckEarlyRanges(run: RegionRun, initial: RegionState): Promise<RegionState> {
  const { logger, settings } = run.deps;
  let state = initial;
  // A range out of the index (its files may be gone), or leaving it in this run (a manifest restored from an old copy), is past reading again.
  const unsettled = state.manifest.ranges.filter((r) => !r.settled && r.unlistedAt === undefined && r.end >= run.retainFrom);
  // Records are replaced, never changed: each stays the same object in the manifest until this pass replaces it.
  for (const record of unsettled) {
    const late = pastDeadline(run, state.summary);
    if (late) return withSummary(state, late);
    const wallAtStart = Math.floor(run.wallClock() / 1000);
    // Only files still in storage can be read back; a recorded one missing leaves the record (and the index), its keys are published again.
    const storedNames = new Set(state.stored.map((file) => file.name));
    const missing = record.files.filter((file) => !storedNames.has(file.name));
    if (missing.length > 0) logger.warn('files a record names are missing from storage; their keys are published again in further files of the range', { start: record.start, end: record.end, files: missing.map((file) => file.name) });
    const lastN = Math.max(0, ...missing.map((file) => file.n)); // never a missing file's name again: a cache may hold it
    const publisher = await RangePublisher.open(rangeDeps(run), settings, run.region, record.start, filesOfRange(state.stored, record.start, record.end), run.signal, lastN);
    await publisher.read(record.start, record.end);
    const result = await publisher.finish(record.end);
    state = withRangeResult(state, result);
    const settled = isClosed(record.end, wallAtStart, settings);
    // Files the record lacks: written by this pass, or by a pass that crashed before recording them (found in storage).
    const changed = result.files.length !== record.files.length || result.files.some((file) => !record.files.some((r) => r.name === file.name));
    if (!changed && !settled) continue;
    if (result.newFiles.length > 0) state = withSummary(state, { rangesPublished: state.summary.rangesPublished + 1 });
    const updated = recordOf(result, run.now, settled);
    const ranges = settled && updated.files.length === 0 ? state.manifest.ranges.filter((r) => r !== record) : state.manifest.ranges.map((r) => (r === record ? updated : r));
    state = withManifest(state, { ranges });
    run.checkpoint(state);
    state = await saveManifest(run, state);
    if (result.newFiles.length > 0) logger.info('late keys published in a range closed early', { start: record.start, end: record.end, files: result.newFiles.length });
    await reached(run, 'range-recorded', state);
  }
  return state;
}
