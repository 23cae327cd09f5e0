/**
 * The one state a region run passes from step to step, and what the steps share about it. A step
 * is `(run, state) => Promise<state>`: `RegionRun` holds the run's inputs, fixed once the lock is
 * taken; `RegionState` is everything a step may change (the manifest as last saved, the export
 * files in storage, what the run did so far), and a step hands back a new one instead of changing
 * the one it got. Records, files and summaries are replaced, never changed in place.
 */
import type { Manifest, PublishedFile, RangeRecord } from '../manifest';
import { writeManifest } from '../manifest';
import type { RangeDeps, RangeResult } from '../range-publisher';
import type { PublisherDeps } from '../publisher-deps';
import type { PublishStep } from './boundaries';

/** What a region run has done so far: the figures of its outcome (the timer and the CLI report them; telemetry records them). */
export interface RegionSummary {
  /** Ranges that got new files in this run. */
  readonly rangesPublished: number;
  /** Export files written (or found written with the same content) in this run, in order. */
  readonly filesWritten: readonly string[];
  /** Stored keys and revised keys put into those files (padding not counted). */
  readonly keysPublished: number;
  readonly revisedKeysPublished: number;
  /** The latest `publishAt` of those keys (seconds), `null` when none: the publish lag counts from it. */
  readonly newestPublishAt: number | null;
  /** Hold mode: keys from this instant on wait for more keys. */
  readonly heldSince?: number;
  /** The run reached its deadline and left closed windows to the next run. */
  readonly deadlineReached: boolean;
  readonly indexChanged: boolean;
  /** `null` when no purge was due. */
  readonly purged: boolean | null;
  /** Purge requests sent to the edge (retries included). */
  readonly purgeAttempts: number;
  readonly filesDeleted: number;
  readonly keysDeleted: number;
  /** Recorded files the index does not name yet: the secondary does not hold them yet. */
  readonly filesAwaitingReplication: number;
}

/** Frozen: outcomes of regions that did nothing share it. */
export const EMPTY_SUMMARY: RegionSummary = Object.freeze({ rangesPublished: 0, filesWritten: Object.freeze([]), keysPublished: 0, revisedKeysPublished: 0, newestPublishAt: null, deadlineReached: false, indexChanged: false, purged: null, purgeAttempts: 0, filesDeleted: 0, keysDeleted: 0, filesAwaitingReplication: 0 });

export interface RegionState {
  /** The region's manifest: as last saved, plus any change a step has not saved yet. */
  readonly manifest: Manifest;
  /** ETag of the manifest blob as last saved: the next save is conditional on it. */
  readonly manifestEtag: string;
  /** Export files of the region in storage: those listed when the run began and those it wrote. */
  readonly stored: readonly PublishedFile[];
  readonly summary: RegionSummary;
}

/** A region run's inputs: the same for every step, fixed once the region's lock is taken. */
export interface RegionRun {
  /** The publisher's parts, with the region's logger. */
  readonly deps: PublisherDeps;
  readonly region: string;
  /** Lease of the region's lock: every manifest write carries it. */
  readonly leaseId: string;
  /** The publisher clock (seconds): which windows are closed. */
  readonly now: number;
  /** `now`, but never ahead of the wall clock (at the run's start): what retention counts from. */
  readonly retentionNow: number;
  /** Windows that ended before this have left the file retention (from `retentionNow`). */
  readonly retainFrom: number;
  /** The real clock, in ms. */
  readonly wallClock: () => number;
  /** Wall clock (ms) after which the run starts no new range. */
  readonly deadlineAt: number;
  /** Aborts when the run is stopped from outside or its lock is lost. */
  readonly signal: AbortSignal;
  /** A step boundary: throws if the run was aborted, then calls the test hook (a hook that throws is a crash right here). */
  boundary(step: PublishStep, name?: string): Promise<void>;
  /** Notes `state` as what the region reports if the run fails from here on. */
  checkpoint(state: RegionState): void;
}

/** Notes the state, then crosses the step boundary. */
export async function reached(run: RegionRun, step: PublishStep, state: RegionState, name?: string): Promise<void> {
  run.checkpoint(state);
  await run.boundary(step, name);
}

export function withManifest(state: RegionState, change: Partial<Manifest>): RegionState {
  return { ...state, manifest: { ...state.manifest, ...change } };
}

export function withSummary(state: RegionState, change: Partial<RegionSummary>): RegionState {
  return { ...state, summary: { ...state.summary, ...change } };
}

/** Writes `state.manifest` under the region's lease, conditional on the version last saved. */
export async function saveManifest(run: RegionRun, state: RegionState): Promise<RegionState> {
  const saved = await writeManifest(run.deps.state, state.manifest, { etag: state.manifestEtag, leaseId: run.leaseId, now: run.now, abortSignal: run.signal });
  return { ...state, manifest: saved.manifest, manifestEtag: saved.etag };
}

/** The state once a pass over a range has finished: its new files are in storage and in the summary. */
export function withRangeResult(state: RegionState, result: RangeResult): RegionState {
  const { summary } = state;
  return {
    ...state,
    stored: [...state.stored, ...result.newFiles],
    summary: {
      ...summary,
      filesWritten: [...summary.filesWritten, ...result.newFiles.map((file) => file.name)],
      keysPublished: summary.keysPublished + result.publishedKeys,
      revisedKeysPublished: summary.revisedKeysPublished + result.publishedRevisedKeys,
      newestPublishAt: result.newestPublishAt === undefined ? summary.newestPublishAt : Math.max(summary.newestPublishAt ?? 0, result.newestPublishAt),
    },
  };
}

/** `undefined` before the deadline; past it, the summary saying so (the warning logged once a run). */
export function pastDeadline(run: RegionRun, summary: RegionSummary): RegionSummary | undefined {
  if (run.wallClock() < run.deadlineAt) return undefined;
  if (!summary.deadlineReached) run.deps.logger.warn('publisher run reached its deadline; the next run continues');
  return { ...summary, deadlineReached: true };
}

/** What a `RangePublisher` needs from the run. */
export function rangeDeps(run: RegionRun): RangeDeps {
  const { store, exports, signer, logger, random } = run.deps;
  return { store, exports, signer, logger, random, wallClock: run.wallClock, onStep: (step, detail) => run.boundary(step, detail.name) };
}

/** Files in storage of the range starting at `start` (and ending at `end`, if given), each name once. */
export function filesOfRange(stored: readonly PublishedFile[], start: number, end?: number): PublishedFile[] {
  const byName = new Map<string, PublishedFile>();
  for (const file of stored) {
    if (file.start === start && (end === undefined || file.end === end) && !byName.has(file.name)) byName.set(file.name, file);
  }
  return [...byName.values()];
}

/** Names of the files some record of the manifest names. */
export function recordedNames(ranges: readonly RangeRecord[]): Set<string> {
  return new Set(ranges.flatMap((range) => range.files.map((file) => file.name)));
}

/** The record of a pass over a range. */
export function recordOf(result: RangeResult, now: number, settled: boolean): RangeRecord {
  return { start: result.start, end: result.end, files: result.files, realKeys: result.realKeys, realRevisedKeys: result.realRevisedKeys, paddingKeys: result.paddingKeys, publishedAt: now, settled };
}
