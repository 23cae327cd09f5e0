/**
 * Step 3: write index.txt, then index.json, if what they name changed, naming only recorded
 * files (the manifest records a range only once all its files exist). Records first that a purge
 * is due, and only once both are written that ranges left the index.
 */
import { indexJsonName, indexTxtName } from '../export-names';
import { replicatedFiles } from '../geo-replication';
import { buildIndex, INDEX_CACHE_CONTROL, INDEX_JSON_CONTENT_TYPE, INDEX_TXT_CONTENT_TYPE, indexJsonListsFiles } from '../index-file';
import type { RangeRecord } from '../manifest';
import { reached, saveManifest, withManifest, withSummary, type RegionRun, type RegionState } from './run-state';

export async function writeIndex(run: RegionRun, initial: RegionState): Promise<RegionState> {
  const { exports, logger } = run.deps;
  const { region, retainFrom } = run;
  const leaving = (r: RangeRecord) => r.files.length > 0 && r.unlistedAt === undefined && r.end < retainFrom;
  const unlisting = initial.manifest.ranges.filter(leaving);
  const listed = initial.manifest.ranges.filter((r) => r.unlistedAt === undefined && r.end >= retainFrom);
  const options = { abortSignal: run.signal };
  const [txt, json] = await Promise.all([exports.read(indexTxtName(region), options), exports.read(indexJsonName(region), options)]);
  // A file the index names stays named; new ones wait until the secondary holds them.
  const named = new Set(txt?.data.toString('utf8').split('\n') ?? []);
  const { listable, waiting } = await replicatedFiles(listed.flatMap((r) => r.files), run.deps.replication, Math.floor(run.wallClock() / 1000), { ...options, alreadyListed: named });
  const checked = withSummary(initial, { filesAwaitingReplication: waiting });
  if (waiting > 0) logger.info('files wait for geo-replication before the index names them', { files: waiting });
  const index = buildIndex(region, listable, new Date(run.now * 1000));
  const txtChanged = txt === undefined || txt.data.toString('utf8') !== index.txt;
  const jsonChanged = !indexJsonListsFiles(json?.data.toString('utf8'), index.files);
  if (!txtChanged && !jsonChanged && unlisting.length === 0) return waiting > 0 ? checked : initial;
  let state = await saveManifest(run, withManifest(checked, { purgePending: true }));
  // Conditional on the versions read above: a publisher that lost its lock cannot roll the index back.
  if (txtChanged) {
    await exports.replace(indexTxtName(region), Buffer.from(index.txt), { contentType: INDEX_TXT_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL }, { ifMatch: txt?.etag ?? null, ...options });
  }
  await reached(run, 'index-txt-written', state, indexTxtName(region));
  if (jsonChanged) {
    await exports.replace(indexJsonName(region), Buffer.from(index.json), { contentType: INDEX_JSON_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL }, { ifMatch: json?.etag ?? null, ...options });
  }
  state = withSummary(state, { indexChanged: true });
  logger.info('index written', { files: index.files.length, unlisted: unlisting.reduce((sum, r) => sum + r.files.length, 0) });
  await reached(run, 'index-written', state, indexJsonName(region));
  // A crash before this save leaves them unrecorded: the next run finds the index as it should be and records them then.
  if (unlisting.length > 0) {
    state = await saveManifest(run, withManifest(state, { ranges: state.manifest.ranges.map((r) => (leaving(r) ? { ...r, unlistedAt: run.retentionNow } : r)) }));
  }
  return state;
}
