/**
 * The deployment, declared once as data with two profiles: `prod` (what health authorities run:
 * two regions, zone- and geo-redundant storage, HSM keys, Elastic Premium) and `dev` (the
 * cheapest tiers that still have slots, run-from-package and identity connections). The
 * compiler (`template.ts`) turns a profile into ARM JSON; names derive from the prefix.
 */
import type { FrontDoorSku } from '../edge-config/declaration';

export type ProfileName = 'dev' | 'prod';
export const PROFILE_NAMES: readonly ProfileName[] = ['dev', 'prod'];

export interface HostingPlan {
  /** `Y1`/`Dynamic`: Consumption (2 slots); `EP1`/`ElasticPremium`: Elastic Premium (3 slots). */
  sku: { name: 'Y1' | 'EP1' | 'EP2'; tier: 'Dynamic' | 'ElasticPremium' };
  /** Elastic Premium: instances kept warm (no cold start for the API) and the scale-out ceiling. */
  alwaysReady?: number;
  maximumElasticWorkerCount?: number;
}

export interface DeploymentProfile {
  name: ProfileName;
  /** 3-11 lower-case letters and digits: every resource name starts with it (storage names are global). */
  namePrefix: string;
  plan: HostingPlan;
  /** API Function Apps: one per location, primary first (prod: the primary and secondary location). */
  apiLocations: ('primary' | 'secondary')[];
  cosmos: {
    /** A second region with automatic failover (prod), or one region on the free tier (dev). */
    secondaryRegion: boolean;
    freeTier: boolean;
    /** Shared database throughput, autoscale ceiling in RU/s (dev: inside the free tier's 1000). */
    autoscaleMaxThroughput?: number;
    manualThroughput?: number;
    /**
     * Zone redundancy per region: the defaults of the `cosmosZoneRedundant` and
     * `cosmosSecondaryZoneRedundant` template parameters. Only regions with availability zones
     * take it, and it is fixed when a region is added to the account
     * (https://learn.microsoft.com/azure/reliability/reliability-cosmos-db-nosql#availability-zone-support).
     */
    zoneRedundant: { primary: boolean; secondary: boolean };
  };
  storage: { exportsSku: 'Standard_RAGZRS' | 'Standard_RAGRS' };
  keyVault: { sku: 'premium' | 'standard'; keyType: 'EC-HSM' | 'EC' };
  logs: { retentionInDays: number; dailyQuotaGb: number };
  edgeSku: FrontDoorSku;
}

export const PROFILES: Readonly<Record<ProfileName, Omit<DeploymentProfile, 'namePrefix'> & { defaultPrefix: string }>> = {
  prod: {
    name: 'prod',
    defaultPrefix: 'kfprod',
    plan: { sku: { name: 'EP1', tier: 'ElasticPremium' }, alwaysReady: 1, maximumElasticWorkerCount: 20 },
    apiLocations: ['primary', 'secondary'],
    // The secondary's zone redundancy is the operator's choice (its region may have no zones): off by default.
    cosmos: { secondaryRegion: true, freeTier: false, autoscaleMaxThroughput: 4000, zoneRedundant: { primary: true, secondary: false } },
    // RA-GZRS: zone-redundant in the primary region, geo-replicated and readable in the secondary
    // (the edge's second origin). Use Standard_RAGRS where the primary region has no zones.
    storage: { exportsSku: 'Standard_RAGZRS' },
    keyVault: { sku: 'premium', keyType: 'EC-HSM' },
    logs: { retentionInDays: 90, dailyQuotaGb: 5 },
    edgeSku: 'Premium_AzureFrontDoor',
  },
  dev: {
    name: 'dev',
    defaultPrefix: 'kfdev',
    plan: { sku: { name: 'Y1', tier: 'Dynamic' } },
    apiLocations: ['primary'],
    // The free tier is one account per subscription: the `cosmosFreeTier` parameter turns it off for a second dev deployment.
    cosmos: { secondaryRegion: false, freeTier: true, manualThroughput: 1000, zoneRedundant: { primary: false, secondary: false } },
    // RA-GRS rather than LRS: the edge's second origin is the -secondary read endpoint, which LRS
    // lacks; for a few GB the difference is cents.
    storage: { exportsSku: 'Standard_RAGRS' },
    // Software-protected EC key: Premium's HSM keys cost per key and month; the code path is the same.
    keyVault: { sku: 'standard', keyType: 'EC' },
    logs: { retentionInDays: 30, dailyQuotaGb: 0.5 },
    // Standard has no managed WAF rules (the edge declaration drops them); rate limits stay.
    edgeSku: 'Standard_AzureFrontDoor',
  },
};

const PREFIX = /^[a-z][a-z0-9]{2,10}$/;

export class DeploymentProfileError extends Error {
  override readonly name = 'DeploymentProfileError';
}

/** The profile with its prefix, or an error that names the bad input. */
export function deploymentProfile(name: string, prefix?: string): DeploymentProfile {
  if (!PROFILE_NAMES.includes(name as ProfileName)) throw new DeploymentProfileError(`--profile must be ${PROFILE_NAMES.join(' or ')}, got ${JSON.stringify(name)}`);
  const { defaultPrefix, ...profile } = PROFILES[name as ProfileName];
  const namePrefix = prefix ?? defaultPrefix;
  if (!PREFIX.test(namePrefix)) throw new DeploymentProfileError(`--prefix must be 3-11 lower-case letters and digits starting with a letter (storage account names are global and at most 24 characters), got ${JSON.stringify(namePrefix)}`);
  return { ...profile, namePrefix };
}

/** Every resource name of a profile, in one place (the release and apply commands read them too). */
export interface DeploymentNames {
  plan: (location: 'primary' | 'secondary') => string;
  apiSites: string[];
  publisherSite: string;
  slot: 'staging';
  cosmosAccount: string;
  exportsAccount: string;
  hostAccount: string;
  /**
   * The private account of the app packages in each API location (the apps run from a package URL
   * there, read with their identity): a region's apps never depend on another region's storage.
   */
  packagesAccount: (location: 'primary' | 'secondary') => string;
  packagesContainer: 'packages';
  /** The location of a site of this profile (the publisher runs in the primary). */
  locationOfSite: (site: string) => 'primary' | 'secondary';
  keyVault: string;
  signingKey: string;
  logAnalytics: string;
  appInsights: string;
  frontDoorProfile: string;
  frontDoorEndpoint: string;
  wafPolicy: string;
}

export function deploymentNames(profile: Pick<DeploymentProfile, 'namePrefix' | 'apiLocations'>): DeploymentNames {
  const p = profile.namePrefix;
  const apiSites = profile.apiLocations.map((_, index) => `${p}-api-${index + 1}`);
  return {
    plan: (location) => `${p}-plan-${location}`,
    apiSites,
    locationOfSite: (site) => profile.apiLocations[apiSites.indexOf(site)] ?? 'primary',
    publisherSite: `${p}-publisher`,
    slot: 'staging',
    cosmosAccount: `${p}-cosmos`,
    exportsAccount: `${p}exports`,
    hostAccount: `${p}host`,
    packagesAccount: (location) => (location === 'primary' ? `${p}packages` : `${p}packages2`),
    packagesContainer: 'packages',
    keyVault: `${p}-kv`,
    signingKey: 'export-signing',
    logAnalytics: `${p}-logs`,
    appInsights: `${p}-insights`,
    frontDoorProfile: `${p}-edge`,
    frontDoorEndpoint: p,
    wafPolicy: `${p}EdgeWaf`,
  };
}
