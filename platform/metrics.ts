/**
 * The figures operators watch, behind one small typed interface: handlers and callers record
 * through `Metrics` and never see OpenTelemetry. `noopMetrics` records nothing (tests, and apps
 * without a connection string); `createMetrics(meter)` records with OpenTelemetry instruments
 * whose names and units are part of the product: dashboards, alerts (infra/monitoring.ts) and
 * the README name them. Attributes are low-cardinality words, never key data, ids or addresses.
 */
import type { Attributes, Meter } from '@opentelemetry/api';

/** Instrument names and units; renaming one breaks the workbook and the alerts. */
export const METRIC = {
  uploads: { name: 'keyfront.uploads', unit: '{upload}', description: 'Publish requests answered, by result (stored, chaff, refused, failed) and code (ok or the error code).' },
  uploadKeys: { name: 'keyfront.upload.keys', unit: '{key}', description: 'Keys a stored upload inserted (new) and revised.' },
  register: { name: 'keyfront.register', unit: '{call}', description: 'Register calls answered, by result (issued, refused, failed) and code.' },
  certificateFailures: { name: 'keyfront.certificate.failures', unit: '{upload}', description: 'Verification certificates refused, by reason.' },
  attestations: { name: 'keyfront.attestations', unit: '{upload}', description: 'Device attestations checked (report and enforce modes), by mode, platform (android, ios, none) and code (ok or the attestation code).' },
  publishLag: { name: 'keyfront.publish.lag', unit: 's', description: 'From the embargo end of the newest key a run published to the end of that run (index written and purged).' },
  publishFiles: { name: 'keyfront.publish.files', unit: '{file}', description: 'Export files a run wrote, by region.' },
  publishKeys: { name: 'keyfront.publish.keys', unit: '{key}', description: 'Real keys (and revised keys) a run published, by region.' },
  publishRuns: { name: 'keyfront.publish.runs', unit: '{run}', description: 'Region runs, by region and status (done, busy, failed).' },
  publishDuration: { name: 'keyfront.publish.duration', unit: 's', description: 'Duration of a publisher run (all regions).' },
  purgeAttempts: { name: 'keyfront.purge.attempts', unit: '{purge}', description: 'Index purges attempted (each with its retries), by region.' },
  purgeFailures: { name: 'keyfront.purge.failures', unit: '{purge}', description: 'Index purges that failed after every retry, by region.' },
  cleanupDeletions: { name: 'keyfront.cleanup.deletions', unit: '{item}', description: 'Expired export files and old keys deleted, by region and kind (file, key).' },
  storeErrors: { name: 'keyfront.store.errors', unit: '{error}', description: 'Exposure store operations that failed, by operation and error name.' },
  blobErrors: { name: 'keyfront.blob.errors', unit: '{error}', description: 'Blob storage operations that failed, by operation and error name.' },
  // Latency as histograms: their count is the call rate and their failed share the error rate (the store and blob alerts).
  storeDuration: { name: 'keyfront.store.duration', unit: 's', description: 'Exposure store (Cosmos DB) calls: how long each took, by operation and result (ok, failed).' },
  blobDuration: { name: 'keyfront.blob.duration', unit: 's', description: 'Blob storage calls: how long each took, by operation and result (ok, failed).' },
  publishSuccessTime: { name: 'keyfront.publish.success.time', unit: 's', description: "Unix time of a region's last successful run that this instance saw, recorded at each of its runs (a gauge)." },
  signingFailures: { name: 'keyfront.signing.failures', unit: '{call}', description: 'Signing calls (Key Vault in production) that failed, by error name.' },
  federationRuns: { name: 'keyfront.federation.runs', unit: '{run}', description: 'Imports from a federation peer, by peer and status (done, behind, busy, failed).' },
  federationFiles: { name: 'keyfront.federation.files', unit: '{file}', description: "A peer's files handled by an import, by peer, result (imported, refused, deferred) and code (ok or the refusal code)." },
  federationKeys: { name: 'keyfront.federation.keys', unit: '{key}', description: 'Keys an import from a peer stored that were new to the store, by peer.' },
  federationSuccessTime: { name: 'keyfront.federation.success.time', unit: 's', description: "Unix time of a peer's last import that handled its whole index, as this instance saw it, recorded at each of its imports (a gauge)." },
} as const;

export type UploadResult = 'stored' | 'chaff' | 'refused' | 'failed';
export type RegisterResult = 'issued' | 'refused' | 'failed';

/** What one region's part of a publisher run adds to the figures. */
export interface RegionRunFigures {
  region: string;
  status: 'done' | 'busy' | 'failed';
  fileCount: number;
  keyCount: number;
  /** Seconds from the newest published key's embargo end to the run's end; absent when nothing was published. */
  lagSeconds?: number;
  /** `null`: no purge was due. */
  purged: boolean | null;
  filesDeleted: number;
  keysDeleted: number;
}

/** What one import from a federation peer adds to the figures (publisher/federation/). */
export interface PeerImportFigures {
  peer: string;
  status: 'done' | 'behind' | 'busy' | 'failed';
  files: ReadonlyArray<{ status: 'imported' | 'refused' | 'deferred'; code?: string }>;
  keysNew: number;
}

export interface Metrics {
  upload(result: UploadResult, code: string): void;
  uploadKeys(inserted: number, revised: number): void;
  register(result: RegisterResult, code: string): void;
  certificateFailure(reason: string): void;
  /** One upload's device attestation, checked in report or enforce mode (no device data: three words). */
  attestation(mode: string, platform: string, code: string): void;
  /** One region of a publisher run; `endedAtInMs` (default: now) is a `done` region's success time. */
  publishRegion(figures: RegionRunFigures, endedAtInMs?: number): void;
  /** A whole publisher run, all regions. */
  publishRun(durationSeconds: number): void;
  storeError(operation: string, errorName: string): void;
  blobError(operation: string, errorName: string): void;
  /** One exposure store call: its duration and, when it failed, its error's name (counted in `storeError` too). */
  storeCall(operation: string, seconds: number, errorName?: string): void;
  /** One Blob storage call, the same way. */
  blobCall(operation: string, seconds: number, errorName?: string): void;
  /** A signing call that failed (the signer's error name). */
  signingFailure(errorName: string): void;
  /** One import from a federation peer; `endedAtInMs` (default: now) is a `done` import's success time. */
  peerImport(figures: PeerImportFigures, endedAtInMs?: number): void;
}

const nothing = (): void => undefined;

/** Records nothing: the default wherever telemetry is off. */
export const noopMetrics: Metrics = {
  upload: nothing,
  uploadKeys: nothing,
  register: nothing,
  certificateFailure: nothing,
  attestation: nothing,
  publishRegion: nothing,
  publishRun: nothing,
  storeError: nothing,
  blobError: nothing,
  storeCall: nothing,
  blobCall: nothing,
  signingFailure: nothing,
  peerImport: nothing,
};

/**
 * Metrics on an OpenTelemetry meter. Counters and histograms are created once; recording costs
 * one small attribute object per call (the per-request path makes at most three calls, plus one
 * per store call).
 */
export function createMetrics(meter: Meter): Metrics {
  const counter = (spec: { name: string; unit: string; description: string }) => meter.createCounter(spec.name, { unit: spec.unit, description: spec.description });
  const histogram = (spec: { name: string; unit: string; description: string }) => meter.createHistogram(spec.name, { unit: spec.unit, description: spec.description });
  const uploads = counter(METRIC.uploads);
  const uploadKeys = histogram(METRIC.uploadKeys);
  const register = counter(METRIC.register);
  const certificateFailures = counter(METRIC.certificateFailures);
  const attestations = counter(METRIC.attestations);
  const publishLag = histogram(METRIC.publishLag);
  const publishFiles = counter(METRIC.publishFiles);
  const publishKeys = counter(METRIC.publishKeys);
  const publishRuns = counter(METRIC.publishRuns);
  const publishDuration = histogram(METRIC.publishDuration);
  const purgeAttempts = counter(METRIC.purgeAttempts);
  const purgeFailures = counter(METRIC.purgeFailures);
  const cleanupDeletions = counter(METRIC.cleanupDeletions);
  const storeErrors = counter(METRIC.storeErrors);
  const blobErrors = counter(METRIC.blobErrors);
  const storeDuration = histogram(METRIC.storeDuration);
  const blobDuration = histogram(METRIC.blobDuration);
  const publishSuccessTime = meter.createGauge(METRIC.publishSuccessTime.name, { unit: METRIC.publishSuccessTime.unit, description: METRIC.publishSuccessTime.description });
  const signingFailures = counter(METRIC.signingFailures);
  const federationRuns = counter(METRIC.federationRuns);
  const federationFiles = counter(METRIC.federationFiles);
  const federationKeys = counter(METRIC.federationKeys);
  const federationSuccessTime = meter.createGauge(METRIC.federationSuccessTime.name, { unit: METRIC.federationSuccessTime.unit, description: METRIC.federationSuccessTime.description });
  /** Each peer's last complete import (Unix s) this instance saw. */
  const lastPeerSuccess = new Map<string, number>();
  /** Each region's last successful run (Unix s) this instance saw: a region failing since is stale by its age. */
  const lastSuccess = new Map<string, number>();
  const INSERTED: Attributes = { kind: 'inserted' };
  const REVISED: Attributes = { kind: 'revised' };
  return {
    upload: (result, code) => uploads.add(1, { result, code }),
    uploadKeys: (inserted, revised) => {
      uploadKeys.record(inserted, INSERTED);
      if (revised > 0) uploadKeys.record(revised, REVISED);
    },
    register: (result, code) => register.add(1, { result, code }),
    certificateFailure: (reason) => certificateFailures.add(1, { reason }),
    attestation: (mode, platform, code) => attestations.add(1, { mode, platform, code }),
    publishRegion: (figures, endedAtInMs = Date.now()) => {
      const region: Attributes = { region: figures.region };
      publishRuns.add(1, { region: figures.region, status: figures.status });
      // Zeros too: a run that found nothing is a data point, so that silence means no runs.
      publishFiles.add(figures.fileCount, region);
      publishKeys.add(figures.keyCount, region);
      if (figures.lagSeconds !== undefined) publishLag.record(figures.lagSeconds, region);
      if (figures.purged !== null) {
        purgeAttempts.add(1, region);
        if (!figures.purged) purgeFailures.add(1, region);
      }
      if (figures.filesDeleted > 0) cleanupDeletions.add(figures.filesDeleted, { region: figures.region, kind: 'file' });
      if (figures.keysDeleted > 0) cleanupDeletions.add(figures.keysDeleted, { region: figures.region, kind: 'key' });
      if (figures.status === 'done') lastSuccess.set(figures.region, Math.round(endedAtInMs / 1000));
      const succeeded = lastSuccess.get(figures.region);
      if (succeeded !== undefined) publishSuccessTime.record(succeeded, region);
    },
    publishRun: (durationSeconds) => publishDuration.record(durationSeconds),
    storeError: (operation, errorName) => storeErrors.add(1, { operation, error: errorName }),
    blobError: (operation, errorName) => blobErrors.add(1, { operation, error: errorName }),
    storeCall: (operation, seconds, errorName) => {
      storeDuration.record(seconds, { operation, result: errorName === undefined ? 'ok' : 'failed' });
      if (errorName !== undefined) storeErrors.add(1, { operation, error: errorName });
    },
    blobCall: (operation, seconds, errorName) => {
      blobDuration.record(seconds, { operation, result: errorName === undefined ? 'ok' : 'failed' });
      if (errorName !== undefined) blobErrors.add(1, { operation, error: errorName });
    },
    signingFailure: (errorName) => signingFailures.add(1, { error: errorName }),
    peerImport: (figures, endedAtInMs = Date.now()) => {
      const peer: Attributes = { peer: figures.peer };
      federationRuns.add(1, { peer: figures.peer, status: figures.status });
      for (const file of figures.files) federationFiles.add(1, { peer: figures.peer, result: file.status, code: file.code ?? 'ok' });
      federationKeys.add(figures.keysNew, peer);
      if (figures.status === 'done') lastPeerSuccess.set(figures.peer, Math.round(endedAtInMs / 1000));
      const succeeded = lastPeerSuccess.get(figures.peer);
      if (succeeded !== undefined) federationSuccessTime.record(succeeded, peer);
    },
  };
}
