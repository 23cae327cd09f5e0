/**
 * Step 4: purge the region's two index paths on the edge, never a file. Retried with backoff; a
 * purge that still fails is logged, stays pending in the manifest and is done by the next run.
 */
import { indexPurgePaths } from '../export-names';
import { purgeWithRetry } from '../purge';
import type { Purger } from '../purgers/purger';
import { reached, saveManifest, withManifest, withSummary, type RegionRun, type RegionState } from './run-state';

export async function purgeIndex(run: RegionRun, initial: RegionState): Promise<RegionState> {
  if (!initial.manifest.purgePending) return initial;
  const { purger, settings, logger } = run.deps;
  let attempts = 0;
  const counted: Purger = {
    name: purger.name,
    purge: (paths, options) => {
      attempts++;
      return purger.purge(paths, options);
    },
  };
  const purged = await purgeWithRetry(counted, indexPurgePaths(run.region), { attempts: settings.purgeAttempts, backoffInMs: settings.purgeBackoffInMs, logger, abortSignal: run.signal });
  let state = withSummary(initial, { purged, purgeAttempts: initial.summary.purgeAttempts + attempts });
  await reached(run, 'purged', state);
  if (!purged) return state;
  // The edge no longer serves an index naming these ranges' files: their grace period starts, by
  // the wall clock after the purge (a `--now` behind must not date it earlier; one ahead only delays).
  const purgedAt = Math.max(run.now, Math.floor(run.wallClock() / 1000));
  state = withManifest(state, { purgePending: false, ranges: state.manifest.ranges.map((r) => (r.unlistedAt !== undefined && r.purgedAt === undefined ? { ...r, purgedAt } : r)) });
  return saveManifest(run, state);
}
