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

export interface Metrics {
  upload(result: UploadResult, code: string): void;
  uploadKeys(inserted: number, revised: number): void;
  register(result: RegisterResult, code: string): void;
  certificateFailure(reason: string): void;
  /** One upload's device attestation, checked in report or enforce mode (no device data: three words). */
  attestation(mode: string, platform: string, code: string): void;
  /** One region of a publisher run. */
  publishRegion(figures: RegionRunFigures): void;
  /** A whole publisher run, all regions. */
  publishRun(durationSeconds: number): void;
  storeError(operation: string, errorName: string): void;
  blobError(operation: string, errorName: string): void;
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
};

/**
 * Metrics on an OpenTelemetry meter. Counters and histograms are created once; recording costs
 * one small attribute object per call (the per-request path makes at most three calls).
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
    publishRegion: (figures) => {
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
    },
    publishRun: (durationSeconds) => publishDuration.record(durationSeconds),
    storeError: (operation, errorName) => storeErrors.add(1, { operation, error: errorName }),
    blobError: (operation, errorName) => blobErrors.add(1, { operation, error: errorName }),
  };
}
