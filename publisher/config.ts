/**
 * Every setting of the publisher (the timer function, its CLI twin and the local stack's
 * publisher): its environment variable and default in one table, read and validated once at
 * start-up. Errors name the variable. Nothing else in `publisher/` reads `process.env`.
 */
import * as path from 'node:path';
import { ConfigError, REGION_PATTERN, SettingsReader, type Env, type Setting } from '../platform/settings';
import { readTelemetrySettings, TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING, type TelemetrySettings } from '../platform/telemetry';
import { DEFAULT_CONTAINER_ID, DEFAULT_DATABASE_ID, DEFAULT_SHARDS } from '../exposures/cosmos-store';
import { EMBARGO_SECONDS } from '../proto/embargo';
import { INTERVAL_SECONDS, INTERVALS_PER_DAY, MAX_KEYS_PER_FILE } from '../proto/tek';
import { STORE_TIMEOUT_DESCRIPTION } from '../exposures/cosmos-client';
import { parsePeersSetting, type Peer } from './federation/peer';
import { parseSignersSetting, SIGNATURE_ID_PATTERN, SIGNERS_SETTING, type SignerSetting } from './signers/signer-settings';

export type PrivacyFloorMode = 'pad' | 'hold';

/**
 * Hold mode's longest wait: 5.5 hours. With 10 uploads a day, files come about every 7 hours (3.3 a
 * day) and the 95th percentile of a key's wait for the index stays under 6 hours (README "The fleet").
 */
export const DEFAULT_MAX_HOLD_SECONDS = 19_800;
export type SignerKind = 'local' | 'key-vault';
export type PurgerKind = 'none' | 'local-edge' | 'front-door';
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error';

export { ConfigError };

export interface PublisherConfig {
  /** Regions published, each into `v1/{region}/`. */
  regions: string[];
  /** NCRONTAB schedule of the timer function. */
  schedule: string;
  /** Window length; windows are aligned to multiples of it since the epoch. */
  windowSeconds: number;
  /** A window is closed once its end is this far in the past: covers uploads still in flight when it ended. */
  safetyMarginSeconds: number;
  /** Below `minKeysPerFile` real keys: pad with generated keys, or hold the keys back to a later window. */
  privacyFloor: PrivacyFloorMode;
  minKeysPerFile: number;
  /** Padding adds a random 0..jitter keys on top of the minimum, so the count reveals nothing. */
  paddingJitter: number;
  /** Hold mode: a range held this long is published with padding, so no key waits longer. */
  maxHoldSeconds: number;
  maxKeysPerFile: number;
  /** Exposures per store page while streaming a window. */
  storePageSize: number;
  /** Files leave the index once their window ended this long ago. */
  fileRetentionDays: number;
  /** Keys uploaded this long ago are deleted from the store. */
  keyRetentionDays: number;
  /** Exactly one of `connectionString` (Azurite, keys) and `accountUrl` (Azure, managed identity). */
  blob: {
    connectionString?: string;
    accountUrl?: string;
    exportContainer: string;
    stateContainer: string;
    /** The account's read-access secondary endpoint: new files wait for geo-replication before the index names them. */
    secondaryUrl?: string;
    geoReplicationMaxWaitSeconds: number;
    /** Bound of one Blob operation, its retries included. */
    timeoutInMs: number;
  };
  /** The exposure store: the API's Cosmos container, read with the same shard count; `timeoutInMs` bounds each request. */
  store: { cosmosEndpoint: string; cosmosKey?: string; cosmosDatabase: string; cosmosContainer: string; cosmosShards: number; timeoutInMs: number };
  /**
   * The signing keys, in the order export.sig carries their signatures: KEYFRONT_SIGNERS, or the one
   * key of the single-key settings (KEYFRONT_SIGNER and the rest), which never expires.
   */
  signers: SignerSetting[];
  /** Bound of one Key Vault call (a signature, a key read) of any signer. */
  keyVaultTimeoutInMs: number;
  /** `timeoutInMs`: bound of one request to the purge API. */
  purger: { kind: PurgerKind; edgeAdminUrl: string; frontDoor: { subscriptionId?: string; resourceGroup?: string; profileName?: string; endpointName?: string }; attempts: number; backoffInMs: number; timeoutInMs: number };
  /** Blob lease on the region's manifest: the lock between publishers. Azure allows 15..60 s. */
  leaseSeconds: number;
  /** A run stops starting new work after this long (the Function App's timeout is longer). */
  deadlineSeconds: number;
  /** The transparency page: where the health authority publishes its key's fingerprint. */
  site: { fingerprintUrl?: string };
  /** Other servers whose published files are imported into our regions (publisher/federation/); `peerTimeoutInMs` bounds each request to a peer. */
  federation: { peers: Peer[]; schedule: string; peerTimeoutInMs: number };
  dataDir: string;
  logLevel: LogLevelSetting;
  telemetry: TelemetrySettings;
}

/** The table: every setting, its variable, its default and what it does. */
export const SETTINGS = {
  regions: { env: 'KEYFRONT_REGIONS', default: '440', description: 'Regions (MCC or ISO code), comma-separated, each published to v1/{region}/.' },
  schedule: { env: 'KEYFRONT_PUBLISH_SCHEDULE', default: '0 */15 * * * *', description: 'NCRONTAB schedule of the timer function.' },
  windowSeconds: { env: 'KEYFRONT_WINDOW_SECONDS', default: '3600', description: 'Window length in seconds; divides a day.' },
  safetyMarginSeconds: { env: 'KEYFRONT_WINDOW_SAFETY_MARGIN_SECONDS', default: '300', description: 'A window is closed this long after its end (longer than any upload request).' },
  privacyFloor: {
    env: 'KEYFRONT_PRIVACY_FLOOR',
    default: 'hold',
    description: 'Below the minimum keys per file: hold keys back until later windows bring the file to the minimum (at most KEYFRONT_MAX_HOLD_SECONDS, then padded), or pad every window with generated keys (pad: a file per window, the reference server\'s policy). See README "Privacy floor".',
  },
  minKeysPerFile: { env: 'KEYFRONT_MIN_KEYS_PER_FILE', default: '1000', description: 'Privacy floor: minimum keys in a file.' },
  paddingJitter: { env: 'KEYFRONT_PADDING_JITTER', default: '100', description: 'Padding adds up to this many keys on top of the minimum, at random.' },
  maxHoldSeconds: {
    env: 'KEYFRONT_MAX_HOLD_SECONDS',
    default: String(DEFAULT_MAX_HOLD_SECONDS),
    description: 'Hold mode: longest a key waits (from its publishAt) for the window that closes its file; the file is then padded. Below the key retention less 26 h, a window and the margin.',
  },
  maxKeysPerFile: { env: 'KEYFRONT_MAX_KEYS_PER_FILE', default: String(MAX_KEYS_PER_FILE), description: `Keys (and revised keys) per file, at most ${MAX_KEYS_PER_FILE} (lower it in tests).` },
  storePageSize: { env: 'KEYFRONT_STORE_PAGE_SIZE', default: '1000', description: 'Exposures per store page while streaming a window.' },
  fileRetentionDays: { env: 'KEYFRONT_FILE_RETENTION_DAYS', default: '14', description: 'Files leave the index once their window ended this many days ago.' },
  keyRetentionDays: { env: 'KEYFRONT_KEY_RETENTION_DAYS', default: '15', description: 'Keys uploaded this many days ago are deleted from the store.' },
  blobConnectionString: { env: 'KEYFRONT_BLOB_CONNECTION_STRING', secret: true, description: 'Blob storage connection string (Azurite locally); this or KEYFRONT_BLOB_ACCOUNT_URL.' },
  blobAccountUrl: { env: 'KEYFRONT_BLOB_ACCOUNT_URL', description: 'Blob account URL, used with DefaultAzureCredential (Azure); this or KEYFRONT_BLOB_CONNECTION_STRING.' },
  blobSecondaryUrl: {
    env: 'KEYFRONT_BLOB_SECONDARY_URL',
    description: "The exports account's read-access secondary (https://{account}-secondary.blob.core.windows.net, RA-GRS/RA-GZRS): a new file enters the index once the secondary's Last Sync Time passed it, so a storage failover never serves an index naming a missing file. Unset: no wait (Azurite, LRS).",
  },
  geoReplicationMaxWaitSeconds: { env: 'KEYFRONT_GEO_REPLICATION_MAX_WAIT_SECONDS', default: '900', description: 'Longest wait for geo-replication before a new file is listed anyway (the secondary may be unavailable for hours).' },
  blobTimeoutMs: {
    env: 'KEYFRONT_BLOB_TIMEOUT_MS',
    default: '30000',
    description: 'Bound of one Blob storage operation (a file of up to 16 MB, a listing page, the manifest), retries included; the service is asked to give up on a try after half of it. Storage silent past it: the run stops, names Blob storage, and the next run continues. Lease renewals get a sixth of the lease.',
  },
  exportContainer: { env: 'KEYFRONT_EXPORT_CONTAINER', default: 'exports', description: 'Public container of the export files and index.' },
  stateContainer: { env: 'KEYFRONT_STATE_CONTAINER', default: 'publisher-state', description: 'Private container of the publisher manifest and lock.' },
  cosmosEndpoint: { env: 'KEYFRONT_COSMOS_ENDPOINT', required: true, description: 'Cosmos DB account endpoint of the exposure store.' },
  cosmosKey: { env: 'KEYFRONT_COSMOS_KEY', secret: true, description: 'Cosmos DB key; DefaultAzureCredential when unset.' },
  cosmosDatabase: { env: 'KEYFRONT_COSMOS_DATABASE', default: DEFAULT_DATABASE_ID, description: 'Cosmos DB database.' },
  cosmosContainer: { env: 'KEYFRONT_COSMOS_CONTAINER', default: DEFAULT_CONTAINER_ID, description: 'Cosmos DB container of the exposures.' },
  cosmosShards: { env: 'KEYFRONT_COSMOS_SHARDS', default: String(DEFAULT_SHARDS), description: 'Logical partitions per region: the same number the API writes with.' },
  storeTimeoutMs: { env: 'KEYFRONT_STORE_TIMEOUT_MS', default: '10000', description: STORE_TIMEOUT_DESCRIPTION },
  signers: {
    env: SIGNERS_SETTING,
    description:
      'The signing keys during and after a key rotation (`keyfront keys rotate` writes it): a JSON array of {keyId, keyVersion, keyFile (local PEM) or keyVaultKeyId (https://{vault}.vault.azure.net/keys/{name}/{version}), notBefore?, notAfter? (ISO 8601), regions?}; every file built while several are valid is signed by each, in order. Unset: the one key of KEYFRONT_SIGNER and the settings below (set one or the other).',
  },
  signer: { env: 'KEYFRONT_SIGNER', default: 'local', description: 'local (PEM file) or key-vault.' },
  signingKeyFile: { env: 'KEYFRONT_SIGNING_KEY_FILE', description: 'Local signer: P-256 private key PEM (default {data dir}/signing-private.pem).' },
  keyVaultKeyId: { env: 'KEYFRONT_KEY_VAULT_KEY_ID', description: 'Key Vault signer: https://{vault}.vault.azure.net/keys/{name}/{version}.' },
  keyVaultTimeoutMs: { env: 'KEYFRONT_KEY_VAULT_TIMEOUT_MS', default: '10000', description: 'Key Vault signer: bound of one signature (token, key read, sign request), retries included; also the timeout of each request.' },
  signatureKeyId: { env: 'KEYFRONT_SIGNATURE_KEY_ID', default: '440', description: 'SignatureInfo verification_key_id (e.g. the MCC).' },
  signatureKeyVersion: { env: 'KEYFRONT_SIGNATURE_KEY_VERSION', default: 'v1', description: 'SignatureInfo verification_key_version.' },
  purger: { env: 'KEYFRONT_PURGER', default: 'none', description: 'none (log only), local-edge or front-door.' },
  edgeAdminUrl: { env: 'KEYFRONT_EDGE_ADMIN_URL', default: 'http://127.0.0.1:8089', description: 'local-edge purger: the local edge admin endpoint.' },
  frontDoorSubscriptionId: { env: 'KEYFRONT_FRONT_DOOR_SUBSCRIPTION_ID', description: 'front-door purger: Azure subscription id.' },
  frontDoorResourceGroup: { env: 'KEYFRONT_FRONT_DOOR_RESOURCE_GROUP', description: 'front-door purger: resource group of the profile.' },
  frontDoorProfile: { env: 'KEYFRONT_FRONT_DOOR_PROFILE', description: 'front-door purger: Front Door Standard/Premium profile name.' },
  frontDoorEndpoint: { env: 'KEYFRONT_FRONT_DOOR_ENDPOINT', description: 'front-door purger: AFD endpoint name.' },
  purgeAttempts: { env: 'KEYFRONT_PURGE_ATTEMPTS', default: '4', description: 'Attempts per purge before the next run takes it over.' },
  purgeBackoffMs: { env: 'KEYFRONT_PURGE_BACKOFF_MS', default: '2000', description: 'First retry delay of a purge; doubles each attempt.' },
  purgeTimeoutMs: {
    env: 'KEYFRONT_PURGE_TIMEOUT_MS',
    default: '10000',
    description: "Bound of one request to the purge API (the local edge's admin; Front Door: the purge request and each poll of its operation, which itself may take minutes); past it the attempt fails and is retried.",
  },
  leaseSeconds: { env: 'KEYFRONT_PUBLISH_LEASE_SECONDS', default: '60', description: 'Lock lease duration (15..60, renewed while a run works).' },
  deadlineSeconds: { env: 'KEYFRONT_PUBLISH_DEADLINE_SECONDS', default: '540', description: 'A run starts no new work after this long (the next run continues).' },
  siteFingerprintUrl: {
    env: 'KEYFRONT_SITE_FINGERPRINT_URL',
    description: "Where the health authority publishes its signing key's fingerprint (https), linked from the transparency page so readers compare it through a channel this server does not control. Unset: the page says it does not know.",
  },
  federationPeers: {
    env: 'KEYFRONT_FEDERATION_PEERS',
    description:
      'Peers whose published export files are imported (README "Federation"): a JSON array of {name, indexUrl (the peer\'s index.txt), indexFormat (keyfront: v1/{region}/... paths; google: the reference server\'s paths relative to the bucket root), publicKey (P-256 PEM or JWK), keyId, keyVersion, sourceRegion, intoRegion (one of KEYFRONT_REGIONS)}. In Azure: the deployment\'s federationPeers parameter. Unset: no import.',
  },
  federationSchedule: { env: 'KEYFRONT_FEDERATION_SCHEDULE', default: '0 5-59/15 * * * *', description: 'NCRONTAB schedule of the federation import function (between publisher runs).' },
  peerTimeoutMs: { env: 'KEYFRONT_PEER_TIMEOUT_MS', default: '30000', description: "Bound of one request to a federation peer (its index, one export file of up to 16 MB); past it the file is put off to the next run (peer_timeout)." },
  dataDir: { env: 'KEYFRONT_DATA_DIR', default: '.data', description: 'Local data directory (signing key, local stack).' },
  logLevel: { env: 'KEYFRONT_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error.' },
  telemetryConnectionString: { ...TELEMETRY_SETTING, secret: true },
  telemetryAuthentication: TELEMETRY_AUTH_SETTING,
} satisfies Record<string, Setting>;

/** The table as rows, in order. */
export const PUBLISHER_SETTINGS: readonly Setting[] = Object.values(SETTINGS);

const CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const COSMOS_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** The regions to publish; a problem names KEYFRONT_REGIONS. */
function regionsOf(read: SettingsReader): string[] {
  const regions = read.list(SETTINGS.regions.env);
  if (regions.length === 0 || regions.some((r) => !REGION_PATTERN.test(r))) read.invalid(SETTINGS.regions.env, 'a list of regions of [A-Za-z0-9_-]{1,16}, comma-separated');
  else if (new Set(regions).size !== regions.length) read.invalid(SETTINGS.regions.env, 'a list that does not repeat a region');
  return regions;
}

/** Only the regions of these settings (for a CLI that has no stack to add its own); `undefined` when KEYFRONT_REGIONS is bad. */
export function publisherRegions(env: Env): string[] | undefined {
  const read = new SettingsReader(env, PUBLISHER_SETTINGS);
  const regions = regionsOf(read);
  return read.problems.length === 0 ? regions : undefined;
}

/** Whether these settings name an exposure store of their own (rather than a local stack's). */
export function namesExposureStore(env: Env): boolean {
  return new SettingsReader(env, PUBLISHER_SETTINGS).raw(SETTINGS.cosmosEndpoint.env) !== undefined;
}

/** The single-key settings: with KEYFRONT_SIGNERS set, none of them may be. */
export const SINGLE_KEY_SETTINGS: readonly Setting[] = [SETTINGS.signer, SETTINGS.signingKeyFile, SETTINGS.keyVaultKeyId, SETTINGS.signatureKeyId, SETTINGS.signatureKeyVersion];

/**
 * Reads and validates every setting; throws `ConfigError` listing each bad variable. `now` is the
 * start-up time from which KEYFRONT_SIGNERS must leave no region without a signer.
 */
export function loadPublisherConfig(env: Env, options: { now?: Date } = {}): PublisherConfig {
  const read = new SettingsReader(env, PUBLISHER_SETTINGS, 'publisher settings');
  const S = SETTINGS;
  const int = (setting: Setting, min: number, max: number) => read.integer(setting.env, min, max);
  const name = (setting: Setting, pattern: RegExp, what: string) => read.matching(setting.env, pattern, what);
  const regions = regionsOf(read);
  const schedule = name(S.schedule, /^\S+( \S+){5}$/, 'an NCRONTAB expression of six fields');
  const windowSeconds = int(S.windowSeconds, 60, 86400);
  // (An integer out of range reads as 60, so it is reported once.)
  if (86400 % windowSeconds !== 0 || windowSeconds % 60 !== 0) read.invalid(S.windowSeconds.env, 'a whole number of minutes that divides a day (e.g. 60, 600, 3600)');
  const v = {
    safetyMarginSeconds: int(S.safetyMarginSeconds, 0, 86400),
    privacyFloor: read.oneOf<PrivacyFloorMode>(S.privacyFloor.env, ['pad', 'hold']),
    minKeysPerFile: int(S.minKeysPerFile, 0, MAX_KEYS_PER_FILE),
    paddingJitter: int(S.paddingJitter, 0, MAX_KEYS_PER_FILE),
    maxHoldSeconds: int(S.maxHoldSeconds, 0, 14 * 86400),
    maxKeysPerFile: int(S.maxKeysPerFile, 1, MAX_KEYS_PER_FILE),
    storePageSize: int(S.storePageSize, 1, 100000),
    fileRetentionDays: int(S.fileRetentionDays, 1, 90),
    keyRetentionDays: int(S.keyRetentionDays, 1, 90),
    blobConnectionString: read.string(S.blobConnectionString.env),
    blobAccountUrl: read.optional(S.blobAccountUrl.env, (n) => read.url(n)),
    blobSecondaryUrl: read.optional(S.blobSecondaryUrl.env, (n) => read.url(n)),
    geoReplicationMaxWaitSeconds: int(S.geoReplicationMaxWaitSeconds, 0, 86400),
    blobTimeoutMs: int(S.blobTimeoutMs, 100, 600000),
    exportContainer: name(S.exportContainer, CONTAINER, 'a container name (3-63 of a-z, 0-9, -)'),
    stateContainer: name(S.stateContainer, CONTAINER, 'a container name (3-63 of a-z, 0-9, -)'),
    cosmosEndpoint: read.optional(S.cosmosEndpoint.env, (n) => read.url(n)),
    cosmosKey: read.string(S.cosmosKey.env),
    cosmosDatabase: name(S.cosmosDatabase, COSMOS_NAME, 'a database name'),
    cosmosContainer: name(S.cosmosContainer, COSMOS_NAME, 'a container name'),
    cosmosShards: int(S.cosmosShards, 1, 1024),
    storeTimeoutMs: int(S.storeTimeoutMs, 100, 600000),
    signer: read.oneOf<SignerKind>(S.signer.env, ['local', 'key-vault']),
    signingKeyFile: read.string(S.signingKeyFile.env),
    keyVaultKeyId: read.optional(S.keyVaultKeyId.env, (n) => read.url(n)),
    keyVaultTimeoutMs: int(S.keyVaultTimeoutMs, 100, 600000),
    signatureKeyId: name(S.signatureKeyId, SIGNATURE_ID_PATTERN, 'of [A-Za-z0-9_]{1,32}'),
    signatureKeyVersion: name(S.signatureKeyVersion, SIGNATURE_ID_PATTERN, 'of [A-Za-z0-9_]{1,32}'),
    signersJson: read.raw(S.signers.env),
    purger: read.oneOf<PurgerKind>(S.purger.env, ['none', 'local-edge', 'front-door']),
    edgeAdminUrl: read.url(S.edgeAdminUrl.env),
    frontDoorSubscriptionId: read.string(S.frontDoorSubscriptionId.env),
    frontDoorResourceGroup: read.string(S.frontDoorResourceGroup.env),
    frontDoorProfile: read.string(S.frontDoorProfile.env),
    frontDoorEndpoint: read.string(S.frontDoorEndpoint.env),
    purgeAttempts: int(S.purgeAttempts, 1, 20),
    purgeBackoffMs: int(S.purgeBackoffMs, 0, 600000),
    purgeTimeoutMs: int(S.purgeTimeoutMs, 100, 600000),
    leaseSeconds: int(S.leaseSeconds, 15, 60),
    deadlineSeconds: int(S.deadlineSeconds, 10, 86400),
    siteFingerprintUrl: read.optional(S.siteFingerprintUrl.env, (n) => read.url(n)),
    federationPeersJson: read.raw(S.federationPeers.env),
    federationSchedule: name(S.federationSchedule, /^\S+( \S+){5}$/, 'an NCRONTAB expression of six fields'),
    peerTimeoutMs: int(S.peerTimeoutMs, 100, 600000),
    dataDir: read.required(S.dataDir.env),
    logLevel: read.oneOf<LogLevelSetting>(S.logLevel.env, ['debug', 'info', 'warn', 'error']),
  };
  // A fingerprint read over plain HTTP could be swapped on the way: comparing with it would prove nothing.
  if (v.siteFingerprintUrl?.startsWith('http://')) read.invalid(S.siteFingerprintUrl.env, 'an https URL', v.siteFingerprintUrl);
  // Settings that depend on each other, once each is sound on its own.
  if (read.problems.length === 0) {
    if (v.minKeysPerFile + v.paddingJitter > v.maxKeysPerFile) {
      read.problems.push(`${S.minKeysPerFile.env} + ${S.paddingJitter.env} (${v.minKeysPerFile + v.paddingJitter}) must not exceed ${S.maxKeysPerFile.env} (${v.maxKeysPerFile})`);
    }
    if (v.keyRetentionDays < v.fileRetentionDays) {
      read.problems.push(`${S.keyRetentionDays.env} (${v.keyRetentionDays}) must be at least ${S.fileRetentionDays.env} (${v.fileRetentionDays}): a key must outlive the files that carry it`);
    }
    // A held key is published at most this long after its upload: its wait for publishAt (a key uploaded as its
    // rolling period began: a day plus the embargo), the hold, then a window and the margin until that closes.
    const holdLimit = v.keyRetentionDays * 86400 - (INTERVALS_PER_DAY * INTERVAL_SECONDS + EMBARGO_SECONDS) - windowSeconds - v.safetyMarginSeconds;
    if (v.maxHoldSeconds >= holdLimit) {
      read.problems.push(
        `${S.maxHoldSeconds.env} (${v.maxHoldSeconds}) must be below ${holdLimit}: ${S.keyRetentionDays.env} (${v.keyRetentionDays}) × 86400 less the 26 h a key may wait for its embargo, ${S.windowSeconds.env} and ${S.safetyMarginSeconds.env}; held keys must not be deleted from the store before they are published`,
      );
    }
    if (v.blobConnectionString !== undefined && v.blobAccountUrl !== undefined) {
      read.problems.push(`set only one of ${S.blobConnectionString.env} and ${S.blobAccountUrl.env}`);
    }
    if (v.blobConnectionString === undefined && v.blobAccountUrl === undefined) {
      read.problems.push(`${S.blobAccountUrl.env} (Azure, managed identity) or ${S.blobConnectionString.env} (Azurite) is required: where the files go`);
    }
    if (v.cosmosEndpoint === undefined) read.required(S.cosmosEndpoint.env, 'to read the keys');
    if (v.signersJson !== undefined) {
      const alsoSet = SINGLE_KEY_SETTINGS.filter((setting) => read.raw(setting.env) !== undefined).map((setting) => setting.env);
      if (alsoSet.length > 0) read.problems.push(`set ${S.signers.env} or the single-key settings (${SINGLE_KEY_SETTINGS.map((setting) => setting.env).join(', ')}), not both: ${alsoSet.join(', ')} ${alsoSet.length === 1 ? 'is' : 'are'} set too`);
    } else if (v.signer === 'key-vault' && v.keyVaultKeyId === undefined) read.required(S.keyVaultKeyId.env, 'when KEYFRONT_SIGNER=key-vault');
    if (v.purger === 'front-door') {
      for (const setting of [S.frontDoorSubscriptionId, S.frontDoorResourceGroup, S.frontDoorProfile, S.frontDoorEndpoint]) read.required(setting.env, 'when KEYFRONT_PURGER=front-door');
    }
  }
  let signers: SignerSetting[] = [];
  if (v.signersJson !== undefined && read.problems.length === 0) {
    const parsed = parseSignersSetting(v.signersJson, { regions, nowSeconds: Math.floor((options.now ?? new Date()).getTime() / 1000) });
    read.problems.push(...parsed.problems);
    signers = parsed.signers ?? [];
  } else if (v.signersJson === undefined) {
    const identity = { keyId: v.signatureKeyId, keyVersion: v.signatureKeyVersion };
    signers = [v.signer === 'key-vault' ? { ...identity, keyVaultKeyId: v.keyVaultKeyId } : { ...identity, keyFile: v.signingKeyFile ?? path.join(v.dataDir, 'signing-private.pem') }];
  }
  let peers: Peer[] = [];
  if (v.federationPeersJson !== undefined) {
    const parsed = parsePeersSetting(v.federationPeersJson, regions);
    // Problems name the entry and its field, never repeat the value (a whole JSON of keys).
    read.problems.push(...parsed.problems.map((problem) => `${S.federationPeers.env} ${problem}`));
    peers = parsed.peers ?? [];
  }
  const telemetry = readTelemetrySettings(read);
  read.throwIfAny();
  return {
    regions,
    schedule,
    windowSeconds,
    safetyMarginSeconds: v.safetyMarginSeconds,
    privacyFloor: v.privacyFloor,
    minKeysPerFile: v.minKeysPerFile,
    paddingJitter: v.paddingJitter,
    maxHoldSeconds: v.maxHoldSeconds,
    maxKeysPerFile: v.maxKeysPerFile,
    storePageSize: v.storePageSize,
    fileRetentionDays: v.fileRetentionDays,
    keyRetentionDays: v.keyRetentionDays,
    blob: {
      connectionString: v.blobConnectionString,
      accountUrl: v.blobAccountUrl,
      exportContainer: v.exportContainer,
      stateContainer: v.stateContainer,
      secondaryUrl: v.blobSecondaryUrl,
      geoReplicationMaxWaitSeconds: v.geoReplicationMaxWaitSeconds,
      timeoutInMs: v.blobTimeoutMs,
    },
    store: { cosmosEndpoint: v.cosmosEndpoint!, cosmosKey: v.cosmosKey, cosmosDatabase: v.cosmosDatabase, cosmosContainer: v.cosmosContainer, cosmosShards: v.cosmosShards, timeoutInMs: v.storeTimeoutMs },
    signers,
    keyVaultTimeoutInMs: v.keyVaultTimeoutMs,
    purger: {
      kind: v.purger,
      edgeAdminUrl: v.edgeAdminUrl,
      frontDoor: { subscriptionId: v.frontDoorSubscriptionId, resourceGroup: v.frontDoorResourceGroup, profileName: v.frontDoorProfile, endpointName: v.frontDoorEndpoint },
      attempts: v.purgeAttempts,
      backoffInMs: v.purgeBackoffMs,
      timeoutInMs: v.purgeTimeoutMs,
    },
    leaseSeconds: v.leaseSeconds,
    deadlineSeconds: v.deadlineSeconds,
    site: v.siteFingerprintUrl === undefined ? {} : { fingerprintUrl: v.siteFingerprintUrl },
    federation: { peers, schedule: v.federationSchedule, peerTimeoutInMs: v.peerTimeoutMs },
    dataDir: v.dataDir,
    logLevel: v.logLevel,
    telemetry,
  };
}
