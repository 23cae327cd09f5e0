/**
 * A publisher run as operators see it, recorded by the run's caller (the timer function, the
 * local stack) from the run's summary: one span, the figures of each region (files, keys,
 * publish lag, purges, deletions) and one info line with them. The run itself knows nothing of
 * telemetry.
 */
import type { Logger } from '../platform/log';
import type { Metrics, RegionRunFigures } from '../platform/metrics';
import { countFailures, recordCalls, type FailureRecorder } from '../platform/metrics-calls';
import { traceOperation } from '../platform/telemetry-spans';
import type { PublisherDeps } from './publisher-deps';
import type { PublishRun, RegionOutcome } from './run';
import { SignerSchedule, type PublisherSigning } from './signers/schedule';

/** One region's figures; the lag counts to `endedAt` (ms), after the index was written and purged, and only when files became visible. */
export function regionFigures(outcome: RegionOutcome, endedAt: number): RegionRunFigures {
  const visible = outcome.status === 'done' && outcome.filesWritten.length > 0 && outcome.newestPublishAt !== null;
  return {
    region: outcome.region,
    status: outcome.status,
    fileCount: outcome.filesWritten.length,
    keyCount: outcome.keysPublished + outcome.revisedKeysPublished,
    ...(visible ? { lagSeconds: Math.max(0, Math.round(endedAt / 1000 - outcome.newestPublishAt!)) } : {}),
    purged: outcome.purged,
    filesDeleted: outcome.filesDeleted,
    keysDeleted: outcome.keysDeleted,
  };
}

export interface RunTelemetry {
  metrics: Metrics;
  logger: Logger;
  /** The clock in ms (tests pass their own). */
  now?: () => number;
}

/** Runs `run` (a `publishExports` call) in a span, then records and logs its figures. */
export async function publishWithTelemetry(run: () => Promise<PublishRun>, telemetry: RunTelemetry): Promise<PublishRun> {
  const now = telemetry.now ?? Date.now;
  // A request of its own, under the host's invocation when the Functions instrumentation made it active.
  return traceOperation('publish exports', { request: true }, async (span) => {
    const started = now();
    const result = await run();
    const ended = now();
    const regions = result.regions.map((outcome) => regionFigures(outcome, ended));
    for (const figures of regions) telemetry.metrics.publishRegion(figures, ended);
    const durationSeconds = (ended - started) / 1000;
    telemetry.metrics.publishRun(durationSeconds);
    span.set('keyfront.regions', regions.length);
    span.set('keyfront.files', regions.reduce((sum, r) => sum + r.fileCount, 0));
    span.set('keyfront.keys', regions.reduce((sum, r) => sum + r.keyCount, 0));
    if (regions.some((r) => r.status === 'failed')) span.fail('region_failed');
    else span.succeed();
    telemetry.logger.info('publisher run', { durationInMs: ended - started, regions });
    return result;
  });
}

/**
 * `deps` whose store and blob containers record their calls (`keyfront.store.duration`,
 * `keyfront.blob.duration`, and their errors) and whose signer counts its failures
 * (`keyfront.signing.failures`).
 */
export function recordingCalls<T extends Pick<PublisherDeps, 'store' | 'exports' | 'state' | 'signer'>>(deps: T, metrics: Metrics): T {
  return {
    ...deps,
    store: recordCalls(deps.store, metrics.storeCall),
    exports: recordCalls(deps.exports, metrics.blobCall),
    state: recordCalls(deps.state, metrics.blobCall),
    signer: countingSigningFailures(deps.signer, (_operation, error) => metrics.signingFailure(error)),
  };
}

/** Each signer of `signing` (every key of a rotation's schedule) with its failures counted. */
function countingSigningFailures(signing: PublisherSigning, record: FailureRecorder): PublisherSigning {
  if (!(signing instanceof SignerSchedule)) return countFailures(signing, record);
  return new SignerSchedule(signing.entries.map((entry) => ({ ...entry, signer: countFailures(entry.signer, record) })));
}
