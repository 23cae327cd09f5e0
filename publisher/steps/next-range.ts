/**
 * Which range the publisher reads next from its cursor. Where files of a range starting at the
 * cursor exist already (a crashed run), that range is finished as it was begun; otherwise one
 * closed window (pad mode), or as many closed windows as it takes to reach the privacy floor
 * (hold mode): the range closes at the first window end where its real keys reach the minimum, or
 * at the last window end before its longest-waiting key (by `publishAt`) would wait longer than
 * the longest hold, and is then padded. So no key waits more than the longest hold (plus the
 * safety margin and the next run) for its file, however few keys come.
 */
import { regionPrefix } from '../export-names';
import type { PublishedFile } from '../manifest';
import { RangePublisher } from '../range-publisher';
import { nextBoundaryAfter } from '../windows';
import { filesOfRange, rangeDeps, type RegionRun } from './run-state';

/** A range read and ready to `finish` at `end`; or keys held below the privacy floor since `heldSince`. */
export type NextRange = { publisher: RangePublisher; end: number } | { heldSince: number };

/** Reads the range at `cursor`; `undefined` when no window is closed there. */
export async function readNextRange(run: RegionRun, stored: readonly PublishedFile[], cursor: number, through: number): Promise<NextRange | undefined> {
  const { logger, settings } = run.deps;
  const prior = filesOfRange(stored, cursor);
  const publisher = await RangePublisher.open(rangeDeps(run), settings, run.region, cursor, prior, run.signal);
  if (prior.length > 0) {
    const ends = new Set(prior.map((file) => file.end));
    if (ends.size > 1) throw new Error(`files starting at ${cursor} end at different times (${[...ends].join(', ')}); inspect ${regionPrefix(run.region)}${cursor}-* before publishing on`);
    const end = prior[0].end;
    logger.info('finishing a range a previous run began', { start: cursor, end, files: prior.length });
    await publisher.read(cursor, end);
    return { publisher, end };
  }
  if (cursor >= through) return undefined;
  // A range never reaches into files some earlier run wrote further on.
  const nextStored = Math.min(...stored.filter((file) => file.start > cursor).map((file) => file.start));
  let from = cursor;
  for (;;) {
    const to = Math.min(nextBoundaryAfter(from, settings.windowSeconds), nextStored);
    await publisher.read(from, to);
    const belowFloor = publisher.fileCount === 0 && publisher.pendingKeys > 0 && publisher.pendingKeys < settings.minKeysPerFile;
    // Extended by one more window only if the longest-waiting key would still not have waited longer than the hold allows.
    const next = Math.min(nextBoundaryAfter(to, settings.windowSeconds), nextStored);
    const waited = next - (publisher.oldestPendingSince ?? cursor);
    const hold = settings.privacyFloor === 'hold' && belowFloor && to < nextStored && waited <= settings.maxHoldSeconds;
    if (!hold) return { publisher, end: to };
    if (next > through) {
      logger.info('keys held back below the privacy floor until a later window', { since: cursor, keyCount: publisher.pendingKeys, minKeysPerFile: settings.minKeysPerFile });
      return { heldSince: cursor };
    }
    from = to;
  }
}
