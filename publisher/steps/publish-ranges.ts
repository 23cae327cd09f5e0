/**
 * Step 2: publish the closed windows after the cursor. Files first; each range is recorded in
 * the manifest once all its files exist, and the cursor (`publishedThrough`) moves with it. Empty
 * windows the wall clock closed need no record: the cursor says they are done.
 */
import type { Manifest, PublishedFile } from '../manifest';
import { closedThrough, isClosed, windowStartOf } from '../windows';
import { readNextRange } from './next-range';
import { filesOfRange, pastDeadline, reached, recordedNames, recordOf, saveManifest, withManifest, withRangeResult, withSummary, type RegionRun, type RegionState } from './run-state';
import { firstWindowWithKeys } from './skip-empty-windows';

/**
 * A cursor set from the retention start (no manifest, or one far behind) may fall inside a range
 * some earlier run published (a hold range spans windows): move it to that range's end and record
 * its files as listed, so that its keys are not published a second time.
 */
function pastStoredRanges(run: RegionRun, stored: readonly PublishedFile[], manifest: Manifest, from: number): { cursor: number; manifest: Manifest } {
  let cursor = from;
  let ranges = manifest.ranges;
  for (;;) {
    const inside = stored.find((file) => file.start < cursor && cursor < file.end);
    if (!inside) return { cursor, manifest: ranges === manifest.ranges ? manifest : { ...manifest, ranges } };
    const files = filesOfRange(stored, inside.start, inside.end);
    const recorded = recordedNames(ranges);
    if (files.some((file) => !recorded.has(file.name))) {
      // Unsettled, so that the next run reads it again: the run that wrote these files may have
      // crashed before the range's last one, and the real counts went with the lost record.
      ranges = [...ranges, { start: inside.start, end: inside.end, files, realKeys: 0, realRevisedKeys: 0, paddingKeys: 0, publishedAt: run.now, settled: false }];
      run.deps.logger.warn('the first window falls inside files no record names; they are recorded and publishing goes on after them', { start: inside.start, end: inside.end, files: files.length });
    }
    cursor = inside.end;
  }
}

/** Where publishing goes on: the cursor, or the retention start when there is none or it is behind by more than the file retention (ranges that ended before it would leave the index at once). */
function startingPoint(run: RegionRun, state: RegionState): { cursor: number; manifest: Manifest } {
  const firstStart = windowStartOf(run.retainFrom, run.deps.settings.windowSeconds);
  const recorded = state.manifest.publishedThrough;
  if (recorded === null) return pastStoredRanges(run, state.stored, state.manifest, firstStart);
  if (recorded >= firstStart || filesOfRange(state.stored, recorded).length > 0) return { cursor: recorded, manifest: state.manifest };
  run.deps.logger.warn('the publisher is behind by more than the file retention; skipping windows whose files would leave the index at once', { from: recorded, to: firstStart });
  return pastStoredRanges(run, state.stored, state.manifest, firstStart);
}

export async function publishNewRanges(run: RegionRun, initial: RegionState): Promise<RegionState> {
  const { logger, settings } = run.deps;
  const start = startingPoint(run, initial);
  let cursor = start.cursor;
  let state: RegionState = { ...initial, manifest: start.manifest };
  let unsaved = cursor !== initial.manifest.publishedThrough;
  const through = closedThrough(run.now, settings);
  for (;;) {
    const late = pastDeadline(run, state.summary);
    if (late) {
      state = withSummary(state, late);
      break;
    }
    const wallAtStart = Math.floor(run.wallClock() / 1000);
    if (filesOfRange(state.stored, cursor).length === 0) {
      const settledThrough = Math.min(through, closedThrough(wallAtStart, settings));
      // Only worth a probe when more than the next window is closed.
      const skipped = settledThrough - cursor > settings.windowSeconds ? await firstWindowWithKeys(run, cursor, settledThrough) : cursor;
      if (skipped > cursor) {
        // Never past files an earlier run wrote further on: their range is finished as it was begun.
        cursor = Math.min(skipped, ...state.stored.filter((file) => file.start > cursor).map((file) => file.start));
        state = withManifest(state, { publishedThrough: cursor });
        unsaved = true;
      }
    }
    const next = await readNextRange(run, state.stored, cursor, through);
    if (!next) break;
    if ('heldSince' in next) {
      state = withSummary(state, { heldSince: next.heldSince });
      break;
    }
    const result = await next.publisher.finish(next.end);
    state = withRangeResult(state, result);
    const settled = isClosed(result.end, wallAtStart, settings);
    cursor = result.end;
    state = withManifest(state, { publishedThrough: result.end });
    if (result.files.length === 0 && settled) {
      unsaved = true;
      continue;
    }
    state = withManifest(state, { ranges: [...state.manifest.ranges, recordOf(result, run.now, settled)] });
    run.checkpoint(state);
    state = await saveManifest(run, state);
    unsaved = false;
    if (result.newFiles.length > 0) state = withSummary(state, { rangesPublished: state.summary.rangesPublished + 1 });
    logger.info(result.files.length > 0 ? 'range published' : 'empty range closed early recorded, to be read again', { start: result.start, end: result.end, files: result.files.length, realKeyCount: result.realKeys, revisedKeyCount: result.realRevisedKeys, paddingKeyCount: result.paddingKeys, settled });
    await reached(run, 'range-recorded', state);
  }
  if (unsaved) state = await saveManifest(run, withManifest(state, { publishedThrough: cursor }));
  return state;
}
