/**
 * Step 0, once the region's lock is held: read the manifest and list the region's export files,
 * and fix the run's inputs (clocks, retention, deadline, the lease every manifest write carries).
 */
import { regionPrefix } from '../export-names';
import { publishedFileFromBlob, readManifest, type PublishedFile } from '../manifest';
import type { PublisherDeps } from '../publisher-deps';
import type { StepHook } from './boundaries';
import { EMPTY_SUMMARY, type RegionRun, type RegionState } from './run-state';

const DAY = 86400;

export interface RegionRunOptions {
  /** The publisher clock, in seconds. */
  now: number;
  /** The real clock, in ms. */
  wallClock: () => number;
  /** Wall clock (ms) after which no new range starts. */
  deadlineAt: number;
  /** Aborts the run: stopped from outside, or the lock lost. */
  signal: AbortSignal;
  onStep?: StepHook;
  /** Receives the state at each checkpoint (what a failed region reports). */
  onCheckpoint?: (state: RegionState) => void;
}

/** Export files of the region in storage, with what their metadata says. */
async function listStoredFiles(deps: PublisherDeps, region: string, abortSignal: AbortSignal): Promise<PublishedFile[]> {
  const stored: PublishedFile[] = [];
  for await (const blob of deps.exports.list(regionPrefix(region), { abortSignal })) {
    const file = publishedFileFromBlob(blob);
    if (file) stored.push(file);
  }
  return stored;
}

/** The run of `region` under the lock whose lease is `leaseId`, and its first state. */
export async function beginRegionRun(deps: PublisherDeps, region: string, leaseId: string, options: RegionRunOptions): Promise<{ run: RegionRun; state: RegionState }> {
  const { now, wallClock, signal, onStep, onCheckpoint } = options;
  const { manifest, etag } = await readManifest(deps.state, region, { abortSignal: signal });
  // A listing knows each file by its metadata; when it was written (geo-replication waits for that) only the manifest knows.
  const writtenAt = new Map(manifest.ranges.flatMap((range) => range.files.flatMap((file) => (file.createdAt === undefined ? [] : [[file.name, file.createdAt] as const]))));
  const stored = (await listStoredFiles(deps, region, signal)).map((file) => {
    const createdAt = writtenAt.get(file.name);
    return createdAt === undefined ? file : { ...file, createdAt };
  });
  const retentionNow = Math.min(now, Math.floor(wallClock() / 1000));
  const run: RegionRun = {
    deps,
    region,
    leaseId,
    now,
    retentionNow,
    retainFrom: retentionNow - deps.settings.fileRetentionDays * DAY,
    wallClock,
    deadlineAt: options.deadlineAt,
    signal,
    boundary: async (step, name) => {
      signal.throwIfAborted();
      if (onStep) await onStep(step, name === undefined ? { region } : { region, name });
    },
    checkpoint: (state) => onCheckpoint?.(state),
  };
  return { run, state: { manifest, manifestEtag: etag, stored, summary: EMPTY_SUMMARY } };
}
