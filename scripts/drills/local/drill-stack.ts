/**
 * The pieces every local drill starts on fresh ports: the Cosmos emulator with the exposures
 * container, a signing key in memory, and the publisher's dependencies over a given Blob account.
 * Each drill adds what its failure needs (a second Azurite, a second API origin, a switch in
 * front of Cosmos).
 */
import { generateKeyPairSync } from 'node:crypto';
import { CosmosExposureStore, ensureExposuresContainer } from '../../../exposures/cosmos-store';
import { silentLogger } from '../../../platform/log';
import { AzureBlobWriter } from '../../../publisher/blob/azure-blob-writer';
import type { Purger } from '../../../publisher/purgers/purger';
import type { PublisherDeps, PublisherSettings } from '../../../publisher/publisher-deps';
import { LocalSigner } from '../../../publisher/signers/local';
import { startCosmosEmulator, type CosmosEmulator } from '../../local-stack/cosmos-emulator';

export const DRILL_REGION = '440';
export const DRILL_FRONT_DOOR_ID = '5b0f4f9e-2d7c-4c1a-9e55-0d6f3b1a2c4e';

/** The publisher as the local stack runs it (one-minute windows), with a small privacy floor. */
export const DRILL_PUBLISHER_SETTINGS: PublisherSettings = {
  regions: [DRILL_REGION],
  windowSeconds: 60,
  safetyMarginSeconds: 5,
  privacyFloor: 'pad',
  minKeysPerFile: 20,
  paddingJitter: 0,
  maxHoldSeconds: 86400,
  maxKeysPerFile: 750_000,
  storePageSize: 500,
  fileRetentionDays: 14,
  keyRetentionDays: 15,
  leaseSeconds: 15,
  deadlineSeconds: 120,
  purgeAttempts: 2,
  purgeBackoffInMs: 200,
};

export interface DrillSigning {
  signer: LocalSigner;
  publicKeyPem: string;
}

export function drillSigning(): DrillSigning {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { signer: new LocalSigner(privateKey, { keyId: DRILL_REGION, keyVersion: 'v1' }), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export interface DrillCosmos {
  emulator: CosmosEmulator;
  store: CosmosExposureStore;
}

export async function startDrillCosmos(): Promise<DrillCosmos> {
  const emulator = await startCosmosEmulator();
  const container = await ensureExposuresContainer(emulator.client());
  return { emulator, store: new CosmosExposureStore({ container, shards: 4 }) };
}

/** The publisher's dependencies writing to the Blob account of `connectionString`. */
export function drillPublisherDeps(connectionString: string, parts: { store: PublisherDeps['store']; signer: LocalSigner; purger: Purger }): PublisherDeps {
  return {
    store: parts.store,
    exports: AzureBlobWriter.fromConnectionString(connectionString, 'exports'),
    state: AzureBlobWriter.fromConnectionString(connectionString, 'publisher-state'),
    signer: parts.signer,
    purger: parts.purger,
    logger: silentLogger,
    settings: DRILL_PUBLISHER_SETTINGS,
  };
}

/** The publisher clock of a drill: every window that has begun counts as closed (as `publish --now` does), so files appear within seconds. */
export const drillPublishNow = (): Date => new Date(Date.now() + (DRILL_PUBLISHER_SETTINGS.windowSeconds + DRILL_PUBLISHER_SETTINGS.safetyMarginSeconds) * 1000);
