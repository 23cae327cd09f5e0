/**
 * Every setting of the edge, with its environment variable and default, in one table: the Azure
 * target of `keyfront edge compile|apply|purge`, and the local edge of `npm start`. Read once at
 * start-up; errors name the variable. The declaration itself (`keyfront.ts`) is code, reviewed like
 * code; only addresses and names come from here.
 */
import { isIP } from 'node:net';
import { GUID_PATTERN } from '../platform/ids';
import type { LogLevel } from '../platform/log';
import { ConfigError, REGION_PATTERN, SettingsReader, type Env, type Setting } from '../platform/settings';
import type { FrontDoorSku } from './declaration';
import type { EdgeEnvironment } from './keyfront';

/** @deprecated The one `ConfigError` of platform/settings; this name stays until every branch has merged. */
export const EdgeSettingsError = ConfigError;
export { ConfigError };

export type EdgeSetting = Setting;

export const AZURE_EDGE_SETTINGS: readonly EdgeSetting[] = [
  { env: 'KEYFRONT_EDGE_SUBSCRIPTION_ID', description: 'Azure subscription of the Front Door profile (apply and purge).' },
  { env: 'KEYFRONT_EDGE_RESOURCE_GROUP', description: 'Resource group of the Front Door profile, the WAF policy and the API Function Apps (apply and purge).' },
  { env: 'KEYFRONT_EDGE_PROFILE', default: 'keyfront-edge', description: 'Front Door profile name.' },
  { env: 'KEYFRONT_EDGE_ENDPOINT', default: 'keyfront', description: 'Front Door endpoint name ({name}-{hash}.z01.azurefd.net).' },
  { env: 'KEYFRONT_EDGE_SKU', default: 'Premium_AzureFrontDoor', description: 'Standard_AzureFrontDoor or Premium_AzureFrontDoor (managed WAF rules need Premium).' },
  { env: 'KEYFRONT_EDGE_CUSTOM_DOMAINS', default: '', description: 'Custom host names, comma-separated (managed certificates).' },
  { env: 'KEYFRONT_EDGE_WAF_POLICY', default: 'keyfrontEdgeWaf', description: 'WAF policy name (letters and digits).' },
  { env: 'KEYFRONT_EDGE_API_SITES', default: 'keyfront-api-1,keyfront-api-2', description: 'API Function App names, comma-separated, primary region first ({site}.azurewebsites.net).' },
  { env: 'KEYFRONT_EDGE_API_SLOTS', default: 'staging', description: 'Deployment slots of each API site, comma-separated: restricted to Front Door like the site ({site}-{slot}.azurewebsites.net is public too).' },
  { env: 'KEYFRONT_EDGE_STORAGE_ACCOUNT', default: 'keyfrontexports', description: 'Storage account of the exports (RA-GRS: {account}-secondary serves reads when the primary cannot).' },
  { env: 'KEYFRONT_EDGE_PROBE_REGION', default: '440', description: 'Region whose index.txt the blob health probe reads.' },
];

export const LOCAL_EDGE_SETTINGS: readonly EdgeSetting[] = [
  { env: 'KEYFRONT_EDGE_HOST', default: '127.0.0.1', description: 'Address the local edge listens on for clients.' },
  { env: 'KEYFRONT_EDGE_PORT', default: '8080', description: 'Client port of the local edge (the only URL phones use).' },
  { env: 'KEYFRONT_EDGE_ADMIN_PORT', default: '8089', description: 'Admin port of the local edge (purge, metrics), on 127.0.0.1 only.' },
  { env: 'KEYFRONT_EDGE_API_ORIGIN', default: 'http://127.0.0.1:7071', description: 'The local API host.' },
  { env: 'KEYFRONT_EDGE_BLOB_ORIGIN', default: 'http://127.0.0.1:10000/devstoreaccount1', description: "Primary blob endpoint (Azurite's account URL)." },
  { env: 'KEYFRONT_EDGE_BLOB_SECONDARY_ORIGIN', description: "Secondary read endpoint; by default the primary's account with -secondary (Azurite serves it from the same data)." },
  { env: 'KEYFRONT_EDGE_FRONT_DOOR_ID', description: 'The X-Azure-FDID the local edge sets (a GUID); the local stack passes its dev ID.' },
  { env: 'KEYFRONT_EDGE_PROBE_INTERVAL_MS', description: 'Health probe interval of the local edge in ms; by default the declared one (30 s), as in Front Door.' },
  { env: 'KEYFRONT_EDGE_CACHE_MAX_BYTES', default: String(256 * 1024 * 1024), description: 'Bytes of responses the local edge caches.' },
  { env: 'KEYFRONT_EDGE_PROBE_REGION', default: '440', description: 'Region whose index.txt the blob health probe reads.' },
  { env: 'KEYFRONT_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error.' },
];

const SITE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?$/;
const ACCOUNT = /^[a-z0-9]{3,24}$/;

/** Throws every problem at once, naming the variables. */
function done<T>(read: SettingsReader, value: T): T {
  read.throwIfAny();
  return value;
}

export interface AzureEdgeConfig {
  /** Needed by apply and purge only. */
  subscriptionId?: string;
  resourceGroupName?: string;
  environment: EdgeEnvironment;
}

export function loadAzureEdgeConfig(env: Env): AzureEdgeConfig {
  const read = new SettingsReader(env, AZURE_EDGE_SETTINGS, 'edge settings');
  const sku = read.string('KEYFRONT_EDGE_SKU') as FrontDoorSku;
  if (sku !== 'Standard_AzureFrontDoor' && sku !== 'Premium_AzureFrontDoor') read.problems.push(`KEYFRONT_EDGE_SKU must be Standard_AzureFrontDoor or Premium_AzureFrontDoor, got ${JSON.stringify(sku)}`);
  const sites = read.list('KEYFRONT_EDGE_API_SITES');
  if (sites.length === 0) read.problems.push('KEYFRONT_EDGE_API_SITES must name at least one Function App');
  sites.forEach((site) => {
    if (!SITE.test(site)) read.problems.push(`KEYFRONT_EDGE_API_SITES holds an invalid site name ${JSON.stringify(site)}`);
  });
  const slots = read.list('KEYFRONT_EDGE_API_SLOTS');
  slots.forEach((slot) => {
    if (!SITE.test(slot) || slot.length > 19) read.problems.push(`KEYFRONT_EDGE_API_SLOTS holds an invalid slot name ${JSON.stringify(slot)}`);
  });
  const account = read.matching('KEYFRONT_EDGE_STORAGE_ACCOUNT', ACCOUNT, '3-24 lower-case letters and digits');
  const subscriptionId = read.string('KEYFRONT_EDGE_SUBSCRIPTION_ID');
  if (subscriptionId !== undefined && !GUID_PATTERN.test(subscriptionId)) read.problems.push(`KEYFRONT_EDGE_SUBSCRIPTION_ID must be a GUID, got ${JSON.stringify(subscriptionId)}`);
  return done(read, {
    subscriptionId,
    resourceGroupName: read.string('KEYFRONT_EDGE_RESOURCE_GROUP'),
    environment: {
      profileName: read.required('KEYFRONT_EDGE_PROFILE'),
      endpointName: read.required('KEYFRONT_EDGE_ENDPOINT'),
      sku,
      customDomains: read.list('KEYFRONT_EDGE_CUSTOM_DOMAINS'),
      wafPolicyName: read.required('KEYFRONT_EDGE_WAF_POLICY'),
      apiOrigins: sites.map((site) => ({ url: `https://${site}.azurewebsites.net`, hostHeader: `${site}.azurewebsites.net`, siteName: site, slots })),
      exportOrigins: {
        primary: { url: `https://${account}.blob.core.windows.net`, hostHeader: `${account}.blob.core.windows.net` },
        secondary: { url: `https://${account}-secondary.blob.core.windows.net`, hostHeader: `${account}-secondary.blob.core.windows.net` },
      },
      probeRegion: read.matching('KEYFRONT_EDGE_PROBE_REGION', REGION_PATTERN, 'a region code such as 440'),
    },
  });
}

export interface LocalEdgeConfig {
  host: string;
  port: number;
  adminPort: number;
  frontDoorId?: string;
  probeIntervalInMs?: number;
  cacheMaxBytes: number;
  logLevel: LogLevel;
  environment: EdgeEnvironment;
}

/** Azurite serves an account's RA-GRS secondary reads at `/{account}-secondary` from the same data. */
export function secondaryOf(blobEndpoint: string): string {
  const url = new URL(blobEndpoint);
  const account = url.pathname.replace(/^\/|\/$/g, '');
  if (account !== '') return `${url.origin}/${account}-secondary`;
  const [first, ...rest] = url.hostname.split('.');
  return `${url.protocol}//${[`${first}-secondary`, ...rest].join('.')}${url.port ? `:${url.port}` : ''}`;
}

export function localEdgeEnvironment(origins: { api: string; blobPrimary: string; blobSecondary?: string; probeRegion?: string }): EdgeEnvironment {
  return {
    profileName: 'keyfront-local',
    endpointName: 'local',
    sku: 'Premium_AzureFrontDoor',
    customDomains: [],
    wafPolicyName: 'keyfrontLocalWaf',
    apiOrigins: [{ url: origins.api }],
    exportOrigins: { primary: { url: origins.blobPrimary }, secondary: { url: origins.blobSecondary ?? secondaryOf(origins.blobPrimary) } },
    probeRegion: origins.probeRegion ?? '440',
  };
}

export function loadLocalEdgeConfig(env: Env): LocalEdgeConfig {
  const read = new SettingsReader(env, LOCAL_EDGE_SETTINGS, 'local edge settings');
  const host = read.required('KEYFRONT_EDGE_HOST');
  if (isIP(host) === 0 && host !== 'localhost') read.problems.push(`KEYFRONT_EDGE_HOST must be an IP address, got ${JSON.stringify(host)}`);
  const frontDoorId = read.string('KEYFRONT_EDGE_FRONT_DOOR_ID');
  if (frontDoorId !== undefined && !GUID_PATTERN.test(frontDoorId)) read.problems.push(`KEYFRONT_EDGE_FRONT_DOOR_ID must be a GUID, got ${JSON.stringify(frontDoorId)}`);
  const blobPrimary = read.url('KEYFRONT_EDGE_BLOB_ORIGIN');
  const secondary = read.string('KEYFRONT_EDGE_BLOB_SECONDARY_ORIGIN');
  return done(read, {
    host,
    port: read.integer('KEYFRONT_EDGE_PORT', 0, 65535),
    adminPort: read.integer('KEYFRONT_EDGE_ADMIN_PORT', 0, 65535),
    frontDoorId,
    probeIntervalInMs: read.string('KEYFRONT_EDGE_PROBE_INTERVAL_MS') === undefined ? undefined : read.integer('KEYFRONT_EDGE_PROBE_INTERVAL_MS', 100, 600_000),
    cacheMaxBytes: read.integer('KEYFRONT_EDGE_CACHE_MAX_BYTES', 1024 * 1024, 64 * 1024 * 1024 * 1024),
    logLevel: read.oneOf('KEYFRONT_LOG_LEVEL', ['info', 'debug', 'warn', 'error'] as const),
    environment: localEdgeEnvironment({
      api: read.url('KEYFRONT_EDGE_API_ORIGIN'),
      blobPrimary,
      blobSecondary: secondary === undefined ? undefined : read.url('KEYFRONT_EDGE_BLOB_SECONDARY_ORIGIN'),
      probeRegion: read.matching('KEYFRONT_EDGE_PROBE_REGION', REGION_PATTERN, 'a region code such as 440'),
    }),
  });
}
