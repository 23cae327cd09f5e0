/**
 * Catching up (a first run, a publisher that was down) skips windows without keys with a few
 * short queries instead of a read per window: ask the store for any one key in the span, then for
 * any one before the window of the key found, and so on down (a few probes when the store returns
 * keys in no particular order).
 */
import { windowStartOf } from '../windows';
import type { RegionRun } from './run-state';

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
 * The start of the first window in [cursor, limit) with a key or revision to publish, or `limit`.
 * Callers pass only windows the wall clock closed too: an empty window closed early must get a
 * record, to be read again for late keys.
 */
export async function firstWindowWithKeys(run: RegionRun, cursor: number, limit: number): Promise<number> {
  let first = limit;
  while (first > cursor) {
    const found = await someKeyTime(run, cursor, first);
    if (found === undefined) break;
    first = Math.max(cursor, windowStartOf(found, run.deps.settings.windowSeconds));
  }
  return first;
}
