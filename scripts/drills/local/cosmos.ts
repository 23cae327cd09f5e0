/**
 * The local Cosmos DB drill: the store becomes unreachable during an upload load. The API answers
 * 503 with `Retry-After`, phones retry, nothing the API accepted is lost; publisher runs fail
 * cleanly and the next one after the store returns catches up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Drill, DrillPlan, DrillProgress } from '../plan';
import { drillPassed, type DrillReport } from '../report';
import { beginWriteDrill, firstFailure, settleWriteDrill } from './write-stack';

export interface CosmosDrillOptions {
  phones: number;
  uploaders: number;
  steadyInMs: number;
  outageInMs: number;
  recoveryInMs: number;
}

export const COSMOS_DRILL_DEFAULTS: CosmosDrillOptions = { phones: 50, uploaders: 4, steadyInMs: 10_000, outageInMs: 8_000, recoveryInMs: 12_000 };

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function cosmosDrillPlan(options: CosmosDrillOptions): DrillPlan {
  return {
    drill: 'cosmos',
    target: 'local',
    summary: `Cosmos DB becomes unreachable for ${seconds(options.outageInMs)} while ${options.uploaders} phones upload through the edge and ${options.phones} phones sync`,
    touches: ['its own Cosmos emulator (behind a TCP switch), Azurite, the API, the local edge and a publisher, on fresh loopback ports; nothing of a running stack'],
    steps: [
      { title: 'start', detail: 'the emulators, the API behind the local edge, the publisher, the phones' },
      { title: 'steady', detail: `${seconds(options.steadyInMs)} of uploads (register, certificate, upload) and syncs` },
      { title: 'cut', detail: 'the switch in front of Cosmos closes every connection and refuses new ones' },
      { title: 'outage', detail: `${seconds(options.outageInMs)}: the API answers 503 with Retry-After, phones retry; publisher runs fail` },
      { title: 'restore', detail: 'Cosmos is reachable again' },
      { title: 'recovery', detail: `${seconds(options.recoveryInMs)} of normal operation` },
      { title: 'drain and audit', detail: 'uploads stop, the publisher catches up, every phone syncs once more; every accepted key must be published once' },
    ],
  };
}

export function cosmosDrill(options: CosmosDrillOptions = COSMOS_DRILL_DEFAULTS): Drill {
  const plan = cosmosDrillPlan(options);
  return { plan, execute: (progress, abortSignal) => executeCosmosDrill(plan, options, progress, abortSignal) };
}

async function executeCosmosDrill(plan: DrillPlan, options: CosmosDrillOptions, progress: DrillProgress, abortSignal?: AbortSignal): Promise<DrillReport> {
  const started = Date.now();
  const { stack, danglingSeen, stopWatching } = await beginWriteDrill(plan, progress, { apiOrigins: 1, phones: options.phones, syncIntervalInMs: 3000, publishIntervalInMs: 2000, uploaders: options.uploaders, uploadPauseInMs: 500 }, options.steadyInMs, abortSignal);
  try {

    progress.step(2, plan.steps[2]);
    await stack.cosmosSwitch.off();
    const cutAt = Date.now();
    progress.step(3, plan.steps[3]);
    await sleep(options.outageInMs, undefined, { signal: abortSignal });
    const runsDuringOutage = stack.publisher.runs.filter((run) => run.at >= cutAt);
    progress.step(4, plan.steps[4]);
    await stack.cosmosSwitch.on();
    const restoredAt = Date.now();
    progress.note(`during the outage: ${stack.uploads.unavailableWithRetryAfter} answers 503 with Retry-After, ${runsDuringOutage.filter((run) => !run.ok).length} of ${runsDuringOutage.length} publisher runs failed`);
    progress.step(5, plan.steps[5]);
    await sleep(options.recoveryInMs, undefined, { signal: abortSignal });

    progress.step(6, plan.steps[6]);
    await stopWatching();
    const end = await settleWriteDrill(stack, danglingSeen);
    const firstUploadAfterCut = stack.uploads.events.filter((e) => e.ok && e.endedAt >= cutAt).reduce((min, e) => Math.min(min, e.endedAt), Number.POSITIVE_INFINITY);
    const firstPublishAfterRestore = stack.publisher.firstOkSince(restoredAt) ?? Number.POSITIVE_INFINITY;
    const uploadRtoMs = firstUploadAfterCut - cutAt;
    const publishRtoMs = firstPublishAfterRestore - cutAt;
    const figures = {
      // Cosmos DB keeps what it acknowledged: the figure counts accepted uploads whose keys were gone.
      rpoSeconds: end.lostUploads === 0 ? 0 : Number.NaN,
      rtoSeconds: Math.max(uploadRtoMs, publishRtoMs) / 1000,
      failedSyncs: end.failedSyncs,
      lostUploads: end.lostUploads,
      danglingIndexEntries: end.danglingIndexEntries,
      duplicateKeys: end.duplicateKeys,
    };
    return {
      drill: 'cosmos',
      target: 'local',
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      ...figures,
      details: {
        outageSeconds: (restoredAt - cutAt) / 1000,
        uploadRtoSeconds: uploadRtoMs / 1000,
        publishRtoSeconds: publishRtoMs / 1000,
        uploadsAccepted: end.acceptedUploads,
        uploadsFailedAfterRetries: end.failedUploads,
        answers503WithRetryAfter: stack.uploads.unavailableWithRetryAfter,
        answers503WithoutRetryAfter: stack.uploads.unavailableWithoutRetryAfter,
        publishRunsFailedDuringOutage: runsDuringOutage.filter((run) => !run.ok).length,
        phoneSyncs: stack.fleet.events.length,
        ...firstFailure(stack.fleet.events, 'firstFailedSync'),
        ...firstFailure(stack.uploads.events, 'firstFailedUpload'),
        keysPublished: end.keysPublished,
        filesInIndex: end.filesInIndex,
      },
      passed: drillPassed(figures) && end.failedUploads === 0 && stack.uploads.unavailableWithoutRetryAfter === 0 && Number.isFinite(uploadRtoMs) && Number.isFinite(publishRtoMs),
    };
  } finally {
    await stopWatching();
    await stack.stop();
  }
}
