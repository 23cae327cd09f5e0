/**
 * What a publisher run is given: its settings and its parts (store, the two containers, signer,
 * purger, logger, geo-replication). `run.ts` sequences the steps over them and every step reads
 * them through `RegionRun.deps`; both import this module, which imports neither, so the publisher
 * has no import circle (`test/lint/import-cycles.test.ts`). A new dependency of the run (a peer,
 * say) is one more field here, built in `setup.ts` with its time bound (`platform/deadline.ts`).
 */
import type { Logger } from '../platform/log';
import type { ExposureStore } from '../exposures/exposure-store';
import type { BlobWriter } from './blob/blob-writer';
import type { PrivacyFloorMode, PublisherConfig } from './config';
import type { ReplicationGate } from './geo-replication';
import type { FloorRandom } from './privacy-floor';
import type { Purger } from './purgers/purger';
import type { RangeSettings } from './range-publisher';
import type { PublisherSigning } from './signers/schedule';
import type { SiteSettings } from './site';
import type { WindowSettings } from './windows';

export interface PublisherSettings extends RangeSettings, WindowSettings {
  regions: string[];
  privacyFloor: PrivacyFloorMode;
  maxHoldSeconds: number;
  fileRetentionDays: number;
  keyRetentionDays: number;
  leaseSeconds: number;
  deadlineSeconds: number;
  purgeAttempts: number;
  purgeBackoffInMs: number;
}

export function publisherSettings(config: PublisherConfig): PublisherSettings {
  return {
    regions: config.regions,
    windowSeconds: config.windowSeconds,
    safetyMarginSeconds: config.safetyMarginSeconds,
    privacyFloor: config.privacyFloor,
    minKeysPerFile: config.minKeysPerFile,
    paddingJitter: config.paddingJitter,
    maxHoldSeconds: config.maxHoldSeconds,
    maxKeysPerFile: config.maxKeysPerFile,
    storePageSize: config.storePageSize,
    fileRetentionDays: config.fileRetentionDays,
    keyRetentionDays: config.keyRetentionDays,
    leaseSeconds: config.leaseSeconds,
    deadlineSeconds: config.deadlineSeconds,
    purgeAttempts: config.purger.attempts,
    purgeBackoffInMs: config.purger.backoffInMs,
  };
}

export interface PublisherDeps {
  store: ExposureStore;
  /** The public export container. */
  exports: BlobWriter;
  /** The private state container (manifests, locks). */
  state: BlobWriter;
  /** The signing key, or the schedule of keys (a rotation): each new file is signed by every key valid for its region when it is built. */
  signer: PublisherSigning;
  purger: Purger;
  logger: Logger;
  settings: PublisherSettings;
  random?: FloorRandom;
  /** The exports account's geo-replication: new files enter the index once replicated (absent: at once). */
  replication?: ReplicationGate;
  /** The transparency page: renewed after each run when set (the timer, the CLI and the local stack set it). */
  site?: SiteSettings;
}
