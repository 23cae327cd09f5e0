/**
 * Every setting of the publisher (the timer function, its CLI twin and the local stack's
 * publisher): its environment variable and default in one table, read and validated once at
 * start-up. Errors name the variable. Nothing else in `publisher/` reads `process.env`.
 */
import * as path from 'node:path';
import { REGION_PATTERN, type Env } from '../platform/settings';
import { connectionStringProblem, parseAuthenticationString, TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING, type TelemetrySettings } from '../platform/telemetry';
import { DEFAULT_CONTAINER_ID, DEFAULT_DATABASE_ID, DEFAULT_SHARDS } from '../exposures/cosmos-store';
import { EMBARGO_SECONDS } from '../proto/embargo';
import { INTERVAL_SECONDS, INTERVALS_PER_DAY, MAX_KEYS_PER_FILE } from '../proto/tek';

export type PrivacyFloorMode = 'pad' | 'hold';
export type SignerKind = 'local' | 'key-vault';
export type PurgerKind = 'none' | 'local-edge' | 'front-door';
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error';

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
  blob: { connectionString?: string; accountUrl?: string; exportContainer: string; stateContainer: string };
  /** The exposure store: the API's Cosmos container, read with the same shard count. */
  store: { cosmosEndpoint: string; cosmosKey?: string; cosmosDatabase: string; cosmosContainer: string; cosmosShards: number };
  signer: { kind: SignerKind; keyFile: string; keyVaultKeyId?: string; keyId: string; keyVersion: string };
  purger: { kind: PurgerKind; edgeAdminUrl: string; frontDoor: { subscriptionId?: string; resourceGroup?: string; profileName?: string; endpointName?: string }; attempts: number; backoffInMs: number };
  /** Blob lease on the region's manifest: the lock between publishers. Azure allows 15..60 s. */
  leaseSeconds: number;
  /** A run stops starting new work after this long (the Function App's timeout is longer). */
  deadlineSeconds: number;
  dataDir: string;
  logLevel: LogLevelSetting;
  telemetry: TelemetrySettings;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid publisher settings:\n  ${problems.join('\n  ')}`);
  }
}

/** One setting: its variable, default (as the text one would set), and how to read it. */
interface Setting<T> {
  env: string;
  default?: string;
  describe: string;
  /** Its value is never quoted in an error. */
  secret?: boolean;
  parse(text: string): T;
}

class Invalid extends Error {}

function int(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) throw new Invalid(`must be an integer from ${min} to ${max}`);
    return value;
  };
}

function oneOf<T extends string>(...values: T[]): (text: string) => T {
  return (text) => {
    if (!(values as string[]).includes(text)) throw new Invalid(`must be one of ${values.join(', ')}`);
    return text as T;
  };
}

const text = (value: string): string => value;

const SIGNATURE_ID = /^[A-Za-z0-9_]{1,32}$/;
const CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Invalid('must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('must be an http(s) URL');
  return value.replace(/\/+$/, '');
}

function matching(pattern: RegExp, what: string): (value: string) => string {
  return (value) => {
    if (!pattern.test(value)) throw new Invalid(`must be ${what}`);
    return value;
  };
}

/** The table: every setting, its variable and its default. */
export const SETTINGS = {
  regions: {
    env: 'KEYFRONT_REGIONS',
    default: '440',
    describe: 'comma-separated regions (MCC or ISO code), each published to v1/{region}/',
    parse: (value: string) => {
      const regions = value.split(',').map((r) => r.trim()).filter((r) => r !== '');
      if (regions.length === 0 || regions.some((r) => !REGION_PATTERN.test(r))) throw new Invalid('must list regions of [A-Za-z0-9_-]{1,16}, comma-separated');
      if (new Set(regions).size !== regions.length) throw new Invalid('must not repeat a region');
      return regions;
    },
  },
  schedule: { env: 'KEYFRONT_PUBLISH_SCHEDULE', default: '0 */15 * * * *', describe: 'NCRONTAB schedule of the timer function', parse: matching(/^\S+( \S+){5}$/, 'an NCRONTAB expression of six fields') },
  windowSeconds: {
    env: 'KEYFRONT_WINDOW_SECONDS',
    default: '3600',
    describe: 'window length in seconds; divides a day',
    parse: (value: string) => {
      const seconds = int(60, 86400)(value);
      if (86400 % seconds !== 0 || seconds % 60 !== 0) throw new Invalid('must be a whole number of minutes that divides a day (e.g. 60, 600, 3600)');
      return seconds;
    },
  },
  safetyMarginSeconds: { env: 'KEYFRONT_WINDOW_SAFETY_MARGIN_SECONDS', default: '300', describe: 'a window is closed this long after its end (longer than any upload request)', parse: int(0, 86400) },
  privacyFloor: { env: 'KEYFRONT_PRIVACY_FLOOR', default: 'pad', describe: 'below the minimum keys per file: pad with generated keys, or hold keys back', parse: oneOf<PrivacyFloorMode>('pad', 'hold') },
  minKeysPerFile: { env: 'KEYFRONT_MIN_KEYS_PER_FILE', default: '1000', describe: 'privacy floor: minimum keys in a file', parse: int(0, MAX_KEYS_PER_FILE) },
  paddingJitter: { env: 'KEYFRONT_PADDING_JITTER', default: '100', describe: 'padding adds up to this many keys on top of the minimum, at random', parse: int(0, MAX_KEYS_PER_FILE) },
  maxHoldSeconds: { env: 'KEYFRONT_MAX_HOLD_SECONDS', default: '86400', describe: 'hold mode: longest a range is held before it is published with padding', parse: int(0, 14 * 86400) },
  maxKeysPerFile: { env: 'KEYFRONT_MAX_KEYS_PER_FILE', default: String(MAX_KEYS_PER_FILE), describe: `keys (and revised keys) per file, at most ${MAX_KEYS_PER_FILE}`, parse: int(1, MAX_KEYS_PER_FILE) },
  storePageSize: { env: 'KEYFRONT_STORE_PAGE_SIZE', default: '1000', describe: 'exposures per store page while streaming a window', parse: int(1, 100000) },
  fileRetentionDays: { env: 'KEYFRONT_FILE_RETENTION_DAYS', default: '14', describe: 'files leave the index once their window ended this many days ago', parse: int(1, 90) },
  keyRetentionDays: { env: 'KEYFRONT_KEY_RETENTION_DAYS', default: '15', describe: 'keys uploaded this many days ago are deleted from the store', parse: int(1, 90) },
  blobConnectionString: { env: 'KEYFRONT_BLOB_CONNECTION_STRING', describe: 'Blob storage connection string (Azurite locally)', parse: text },
  blobAccountUrl: { env: 'KEYFRONT_BLOB_ACCOUNT_URL', describe: 'Blob account URL, used with DefaultAzureCredential (Azure)', parse: httpUrl },
  exportContainer: { env: 'KEYFRONT_EXPORT_CONTAINER', default: 'exports', describe: 'public container of the export files and index', parse: matching(CONTAINER, 'a container name (3-63 of a-z, 0-9, -)') },
  stateContainer: { env: 'KEYFRONT_STATE_CONTAINER', default: 'publisher-state', describe: 'private container of the publisher manifest and lock', parse: matching(CONTAINER, 'a container name (3-63 of a-z, 0-9, -)') },
  cosmosEndpoint: { env: 'KEYFRONT_COSMOS_ENDPOINT', describe: 'Cosmos DB account endpoint of the exposure store', parse: httpUrl },
  cosmosKey: { env: 'KEYFRONT_COSMOS_KEY', describe: 'Cosmos DB key; DefaultAzureCredential when unset', parse: text },
  cosmosDatabase: { env: 'KEYFRONT_COSMOS_DATABASE', default: DEFAULT_DATABASE_ID, describe: 'Cosmos DB database', parse: matching(/^[A-Za-z0-9_-]{1,255}$/, 'a database name') },
  cosmosContainer: { env: 'KEYFRONT_COSMOS_CONTAINER', default: DEFAULT_CONTAINER_ID, describe: 'Cosmos DB container of the exposures', parse: matching(/^[A-Za-z0-9_-]{1,255}$/, 'a container name') },
  cosmosShards: { env: 'KEYFRONT_COSMOS_SHARDS', default: String(DEFAULT_SHARDS), describe: 'logical partitions per region: the same number the API writes with', parse: int(1, 1024) },
  signer: { env: 'KEYFRONT_SIGNER', default: 'local', describe: 'local (PEM file) or key-vault', parse: oneOf<SignerKind>('local', 'key-vault') },
  signingKeyFile: { env: 'KEYFRONT_SIGNING_KEY_FILE', describe: 'local signer: P-256 private key PEM (default {data dir}/signing-private.pem)', parse: text },
  keyVaultKeyId: { env: 'KEYFRONT_KEY_VAULT_KEY_ID', describe: 'key-vault signer: https://{vault}.vault.azure.net/keys/{name}/{version}', parse: httpUrl },
  signatureKeyId: { env: 'KEYFRONT_SIGNATURE_KEY_ID', default: '440', describe: 'SignatureInfo verification_key_id (e.g. the MCC)', parse: matching(SIGNATURE_ID, 'of [A-Za-z0-9_]{1,32}') },
  signatureKeyVersion: { env: 'KEYFRONT_SIGNATURE_KEY_VERSION', default: 'v1', describe: 'SignatureInfo verification_key_version', parse: matching(SIGNATURE_ID, 'of [A-Za-z0-9_]{1,32}') },
  purger: { env: 'KEYFRONT_PURGER', default: 'none', describe: 'none (log only), local-edge or front-door', parse: oneOf<PurgerKind>('none', 'local-edge', 'front-door') },
  edgeAdminUrl: { env: 'KEYFRONT_EDGE_ADMIN_URL', default: 'http://127.0.0.1:8089', describe: 'local-edge purger: the local edge admin endpoint', parse: httpUrl },
  frontDoorSubscriptionId: { env: 'KEYFRONT_FRONT_DOOR_SUBSCRIPTION_ID', describe: 'front-door purger: Azure subscription id', parse: text },
  frontDoorResourceGroup: { env: 'KEYFRONT_FRONT_DOOR_RESOURCE_GROUP', describe: 'front-door purger: resource group of the profile', parse: text },
  frontDoorProfile: { env: 'KEYFRONT_FRONT_DOOR_PROFILE', describe: 'front-door purger: Front Door Standard/Premium profile name', parse: text },
  frontDoorEndpoint: { env: 'KEYFRONT_FRONT_DOOR_ENDPOINT', describe: 'front-door purger: AFD endpoint name', parse: text },
  purgeAttempts: { env: 'KEYFRONT_PURGE_ATTEMPTS', default: '4', describe: 'attempts per purge before the next run takes it over', parse: int(1, 20) },
  purgeBackoffMs: { env: 'KEYFRONT_PURGE_BACKOFF_MS', default: '2000', describe: 'first retry delay of a purge; doubles each attempt', parse: int(0, 600000) },
  leaseSeconds: { env: 'KEYFRONT_PUBLISH_LEASE_SECONDS', default: '60', describe: 'lock lease duration (renewed while a run works)', parse: int(15, 60) },
  deadlineSeconds: { env: 'KEYFRONT_PUBLISH_DEADLINE_SECONDS', default: '540', describe: 'a run starts no new work after this long', parse: int(10, 86400) },
  dataDir: { env: 'KEYFRONT_DATA_DIR', default: '.data', describe: 'local data directory (signing key, local stack)', parse: text },
  logLevel: { env: 'KEYFRONT_LOG_LEVEL', default: 'info', describe: 'debug, info, warn or error', parse: oneOf<LogLevelSetting>('debug', 'info', 'warn', 'error') },
  telemetryConnectionString: { env: TELEMETRY_SETTING.env, describe: TELEMETRY_SETTING.description, secret: true, parse: (value: string) => { const problem = connectionStringProblem(value); if (problem) throw new Invalid(problem); return value; } },
  telemetryAuthentication: { env: TELEMETRY_AUTH_SETTING.env, describe: TELEMETRY_AUTH_SETTING.description, parse: (value: string) => { const entraId = parseAuthenticationString(value); if (typeof entraId === 'string') throw new Invalid(entraId); return entraId; } },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> | undefined };

/** Reads and validates every setting; throws `ConfigError` listing each bad variable. */
export function loadPublisherConfig(env: Env = process.env): PublisherConfig {
  const problems: string[] = [];
  const values = {} as Record<string, unknown>;
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[string, Setting<unknown>]>) {
    const raw = env[setting.env];
    const given = raw !== undefined && raw.trim() !== '' ? raw.trim() : setting.default;
    if (given === undefined) continue;
    try {
      values[name] = setting.parse(given);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push(`${setting.env}${setting.secret ? '' : `=${JSON.stringify(raw ?? given)}`} ${error.message} (${setting.describe})`);
    }
  }
  const v = values as Values;
  const need = <T>(value: T | undefined, setting: Setting<unknown>, why: string): void => {
    if (value === undefined) problems.push(`${setting.env} is required ${why} (${setting.describe})`);
  };
  if (problems.length === 0) {
    if (v.minKeysPerFile! + v.paddingJitter! > v.maxKeysPerFile!) {
      problems.push(`${SETTINGS.minKeysPerFile.env} + ${SETTINGS.paddingJitter.env} (${v.minKeysPerFile! + v.paddingJitter!}) must not exceed ${SETTINGS.maxKeysPerFile.env} (${v.maxKeysPerFile})`);
    }
    if (v.keyRetentionDays! < v.fileRetentionDays!) {
      problems.push(`${SETTINGS.keyRetentionDays.env} (${v.keyRetentionDays}) must be at least ${SETTINGS.fileRetentionDays.env} (${v.fileRetentionDays}): a key must outlive the files that carry it`);
    }
    // A held key is published at most this long after its upload: its wait for publishAt (a key uploaded as its
    // rolling period began: a day plus the embargo), the hold, then a window and the margin until that closes.
    const holdLimit = v.keyRetentionDays! * 86400 - (INTERVALS_PER_DAY * INTERVAL_SECONDS + EMBARGO_SECONDS) - v.windowSeconds! - v.safetyMarginSeconds!;
    if (v.maxHoldSeconds! >= holdLimit) {
      problems.push(
        `${SETTINGS.maxHoldSeconds.env} (${v.maxHoldSeconds}) must be below ${holdLimit}: ${SETTINGS.keyRetentionDays.env} (${v.keyRetentionDays}) × 86400 less the 26 h a key may wait for its embargo, ${SETTINGS.windowSeconds.env} and ${SETTINGS.safetyMarginSeconds.env}; held keys must not be deleted from the store before they are published`,
      );
    }
    if (v.blobConnectionString !== undefined && v.blobAccountUrl !== undefined) {
      problems.push(`set only one of ${SETTINGS.blobConnectionString.env} and ${SETTINGS.blobAccountUrl.env}`);
    }
    if (v.blobConnectionString === undefined && v.blobAccountUrl === undefined) {
      problems.push(`${SETTINGS.blobAccountUrl.env} (Azure, managed identity) or ${SETTINGS.blobConnectionString.env} (Azurite) is required: where the files go`);
    }
    need(v.cosmosEndpoint, SETTINGS.cosmosEndpoint, 'to read the keys');
    if (v.signer === 'key-vault') need(v.keyVaultKeyId, SETTINGS.keyVaultKeyId, 'when KEYFRONT_SIGNER=key-vault');
    if (v.purger === 'front-door') {
      need(v.frontDoorSubscriptionId, SETTINGS.frontDoorSubscriptionId, 'when KEYFRONT_PURGER=front-door');
      need(v.frontDoorResourceGroup, SETTINGS.frontDoorResourceGroup, 'when KEYFRONT_PURGER=front-door');
      need(v.frontDoorProfile, SETTINGS.frontDoorProfile, 'when KEYFRONT_PURGER=front-door');
      need(v.frontDoorEndpoint, SETTINGS.frontDoorEndpoint, 'when KEYFRONT_PURGER=front-door');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = v.dataDir!;
  return {
    regions: v.regions!,
    schedule: v.schedule!,
    windowSeconds: v.windowSeconds!,
    safetyMarginSeconds: v.safetyMarginSeconds!,
    privacyFloor: v.privacyFloor!,
    minKeysPerFile: v.minKeysPerFile!,
    paddingJitter: v.paddingJitter!,
    maxHoldSeconds: v.maxHoldSeconds!,
    maxKeysPerFile: v.maxKeysPerFile!,
    storePageSize: v.storePageSize!,
    fileRetentionDays: v.fileRetentionDays!,
    keyRetentionDays: v.keyRetentionDays!,
    blob: { connectionString: v.blobConnectionString, accountUrl: v.blobAccountUrl, exportContainer: v.exportContainer!, stateContainer: v.stateContainer! },
    store: { cosmosEndpoint: v.cosmosEndpoint!, cosmosKey: v.cosmosKey, cosmosDatabase: v.cosmosDatabase!, cosmosContainer: v.cosmosContainer!, cosmosShards: v.cosmosShards! },
    signer: { kind: v.signer!, keyFile: v.signingKeyFile ?? path.join(dataDir, 'signing-private.pem'), keyVaultKeyId: v.keyVaultKeyId, keyId: v.signatureKeyId!, keyVersion: v.signatureKeyVersion! },
    purger: {
      kind: v.purger!,
      edgeAdminUrl: v.edgeAdminUrl!,
      frontDoor: { subscriptionId: v.frontDoorSubscriptionId, resourceGroup: v.frontDoorResourceGroup, profileName: v.frontDoorProfile, endpointName: v.frontDoorEndpoint },
      attempts: v.purgeAttempts!,
      backoffInMs: v.purgeBackoffMs!,
    },
    leaseSeconds: v.leaseSeconds!,
    deadlineSeconds: v.deadlineSeconds!,
    dataDir,
    logLevel: v.logLevel!,
    telemetry: { ...(v.telemetryConnectionString === undefined ? {} : { connectionString: v.telemetryConnectionString }), ...(v.telemetryAuthentication === undefined ? {} : { entraId: v.telemetryAuthentication }) },
  };
}
