/**
 * The local origin drill: the write API runs in two regions behind the edge (the declaration's
 * API origin group, priority 1 and 2); the primary dies during uploads. Measured: uploads that
 * failed after the phones' retries, and the time until uploads succeed through the secondary.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Drill, DrillPlan, DrillProgress } from '../plan';
import { drillPassed, type DrillReport } from '../report';
import { beginWriteDrill, firstFailure, settleWriteDrill } from './write-stack';

export interface OriginDrillOptions {
  phones: number;
  uploaders: number;
  steadyInMs: number;
  afterInMs: number;
}

export const ORIGIN_DRILL_DEFAULTS: OriginDrillOptions = { phones: 20, uploaders: 4, steadyInMs: 10_000, afterInMs: 15_000 };

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function originDrillPlan(options: OriginDrillOptions): DrillPlan {
  return {
    drill: 'origin',
    target: 'local',
    summary: `the primary API origin dies while ${options.uploaders} phones upload through the edge; the edge shifts uploads to the secondary origin`,
    touches: ['its own emulators, two API hosts, the local edge and a publisher, on fresh loopback ports; nothing of a running stack'],
    steps: [
      { title: 'start', detail: 'the emulators, two API hosts sharing the store, the local edge with both in its API origin group, the publisher, the phones' },
      { title: 'steady', detail: `${seconds(options.steadyInMs)} of uploads and syncs through the edge` },
      { title: 'cut', detail: 'the primary API host stops (its connections are closed)' },
      { title: 'after', detail: `${seconds(options.afterInMs)}: uploads go on; the edge's probes take the primary out` },
      { title: 'drain and audit', detail: 'uploads stop, the publisher catches up, every phone syncs once more; every accepted key must be published once' },
    ],
  };
}

export function originDrill(options: OriginDrillOptions = ORIGIN_DRILL_DEFAULTS): Drill {
  const plan = originDrillPlan(options);
  return { plan, execute: (progress, abortSignal) => executeOriginDrill(plan, options, progress, abortSignal) };
}

async function executeOriginDrill(plan: DrillPlan, options: OriginDrillOptions, progress: DrillProgress, abortSignal?: AbortSignal): Promise<DrillReport> {
  const started = Date.now();
  const { stack, danglingSeen, stopWatching } = await beginWriteDrill(plan, progress, { apiOrigins: 2, phones: options.phones, syncIntervalInMs: 3000, publishIntervalInMs: 2000, uploaders: options.uploaders, uploadPauseInMs: 500 }, options.steadyInMs, abortSignal);
  try {

    progress.step(2, plan.steps[2]);
    await stack.apiHosts[0].stop();
    const cutAt = Date.now();
    progress.step(3, plan.steps[3]);
    await sleep(options.afterInMs, undefined, { signal: abortSignal });

    progress.step(4, plan.steps[4]);
    await stopWatching();
    const end = await settleWriteDrill(stack, danglingSeen);
    const uploadsAfterCut = stack.uploads.events.filter((e) => e.startedAt >= cutAt);
    const firstUploadAfterCut = uploadsAfterCut.filter((e) => e.ok).reduce((min, e) => Math.min(min, e.endedAt), Number.POSITIVE_INFINITY);
    const shiftMs = firstUploadAfterCut - cutAt;
    const figures = {
      rpoSeconds: 0,
      rtoSeconds: shiftMs / 1000,
      failedSyncs: end.failedSyncs,
      lostUploads: end.lostUploads,
      danglingIndexEntries: end.danglingIndexEntries,
      duplicateKeys: end.duplicateKeys,
    };
    return {
      drill: 'origin',
      target: 'local',
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      ...figures,
      details: {
        timeToShiftSeconds: shiftMs / 1000,
        uploadsAccepted: end.acceptedUploads,
        uploadsFailedAfterRetries: end.failedUploads,
        uploadsAfterCut: uploadsAfterCut.length,
        phoneSyncs: stack.fleet.events.length,
        ...firstFailure(stack.fleet.events, 'firstFailedSync'),
        ...firstFailure(stack.uploads.events, 'firstFailedUpload'),
        keysPublished: end.keysPublished,
      },
      passed: drillPassed(figures) && end.failedUploads === 0 && Number.isFinite(shiftMs),
    };
  } finally {
    await stopWatching();
    await stack.stop();
  }
}
