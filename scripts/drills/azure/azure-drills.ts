/**
 * The drills against real Azure resources, through the ARM SDKs: a planned storage account
 * failover (after checking geo-replication is live and the account can fail over), a Cosmos DB
 * write-region change (failover priorities), and a Front Door origin taken out of its group.
 * Each reads the resource before and after, asks for confirmation unless told not to, and (cosmos,
 * origin) has a rollback. A storage failover has none: failing back is another planned failover.
 */
import { CdnManagementClient } from '@azure/arm-cdn';
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import { StorageManagementClient } from '@azure/arm-storage';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { GUID_PATTERN } from '../../../platform/ids';
import { CliError, EXIT } from '../../cli-error';
import type { Drill, DrillPlan, DrillProgress } from '../plan';
import type { DrillName, DrillReport } from '../report';

export interface AzureDrillOptions {
  drill: DrillName;
  subscriptionId: string;
  resourceGroup: string;
  /** storage: the storage account; cosmos: the Cosmos DB account. */
  account?: string;
  /** cosmos: the region to take out (default: the current write region); rollback: the region to make the write region. */
  region?: string;
  profile?: string;
  originGroup?: string;
  origin?: string;
  armEndpoint?: string;
  /** Act without asking (`--yes`). */
  confirmed: boolean;
}

/** How the drills reach ARM; tests pass a stand-in's endpoint, credential and TLS agent. */
export interface AzureRuntime {
  credential: TokenCredential;
  clientOptions?: Record<string, unknown>;
  pollIntervalInMs?: number;
  /** Asks the operator; resolves to the answer. Absent when there is no terminal. */
  ask?: (question: string) => Promise<string>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,89}$/;

function required(value: string | undefined, option: string, what: string): string {
  if (value === undefined || value.trim() === '') throw new CliError(`${option} is required for this drill: ${what}`);
  if (!NAME.test(value)) throw new CliError(`${option} must be an Azure resource name (letters, digits, '.', '_', '-'), got ${JSON.stringify(value)}`);
  return value;
}

/** Checks the command's Azure options for a drill; a clear error names the first one missing or malformed. */
export function parseAzureTarget(drill: DrillName, flags: Record<string, unknown>): AzureDrillOptions {
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const subscriptionId = text('subscription');
  if (!subscriptionId || !GUID_PATTERN.test(subscriptionId)) throw new CliError(`--subscription must be a subscription ID (a GUID), got ${JSON.stringify(subscriptionId ?? '')}`);
  const armEndpoint = text('armEndpoint');
  if (armEndpoint !== undefined && !/^https:\/\/[^/\s]+\/?$/.test(armEndpoint)) throw new CliError(`--arm-endpoint must be an https:// origin, got ${JSON.stringify(armEndpoint)}`);
  const options: AzureDrillOptions = { drill, subscriptionId, resourceGroup: required(text('resourceGroup'), '--resource-group', 'the resource group'), confirmed: flags.yes === true, ...(armEndpoint ? { armEndpoint } : {}) };
  if (drill === 'storage') return { ...options, account: required(text('account'), '--account', 'the exports storage account') };
  if (drill === 'cosmos') return { ...options, account: required(text('account'), '--account', 'the Cosmos DB account'), ...(text('region') ? { region: text('region') } : {}) };
  return { ...options, profile: required(text('profile'), '--profile', 'the Front Door profile'), originGroup: required(text('originGroup'), '--origin-group', 'the origin group'), origin: required(text('origin'), '--origin', 'the origin to disable') };
}

function defaultRuntime(options: AzureDrillOptions): AzureRuntime {
  const ask = process.stdin.isTTY
    ? (question: string) =>
        new Promise<string>((resolve) => {
          process.stdout.write(question);
          process.stdin.once('data', (data) => resolve(data.toString().trim()));
        })
    : undefined;
  return { credential: new DefaultAzureCredential(), clientOptions: options.armEndpoint ? { endpoint: options.armEndpoint } : {}, ...(ask ? { ask } : {}) };
}

/** Asks the operator to type `expected` before an action that changes Azure; `--yes` skips it. */
async function confirm(options: AzureDrillOptions, runtime: AzureRuntime, action: string, expected: string): Promise<void> {
  if (options.confirmed) return;
  if (!runtime.ask) throw new CliError(`${action}: refusing to act without confirmation; run in a terminal, or add --yes`);
  const answer = await runtime.ask(`${action}\nType ${JSON.stringify(expected)} to go on: `);
  if (answer !== expected) throw new CliError('not confirmed: nothing was changed', EXIT.failed);
}

const scope = (o: AzureDrillOptions) => `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}`;

function storagePlan(o: AzureDrillOptions): DrillPlan {
  return {
    drill: 'storage',
    target: 'azure',
    summary: `planned failover of storage account ${o.account}: its secondary region becomes primary (geo-redundancy kept)`,
    touches: [`${scope(o)}/providers/Microsoft.Storage/storageAccounts/${o.account}`],
    steps: [
      { title: 'check', detail: 'read the account with geoReplicationStats: geo-redundant SKU, secondary Live, canFailover and canPlannedFailover, last sync time' },
      { title: 'confirm', detail: 'type the account name (or --yes)' },
      { title: 'fail over', detail: 'POST .../failover?failoverType=Planned, wait for the long-running operation' },
      { title: 'verify', detail: 'read the account again: the former secondary region is primary' },
    ],
  };
}

function cosmosPlan(o: AzureDrillOptions): DrillPlan {
  return {
    drill: 'cosmos',
    target: 'azure',
    summary: `Cosmos DB account ${o.account}: the write region ${o.region ?? '(the current one)'} gets the last failover priority, so the next region takes writes`,
    touches: [`${scope(o)}/providers/Microsoft.DocumentDB/databaseAccounts/${o.account}`],
    steps: [
      { title: 'check', detail: 'read the account: at least two regions, their failover priorities, the write region' },
      { title: 'confirm', detail: 'type the account name (or --yes)' },
      { title: 'change priorities', detail: 'POST .../failoverPriorityChange with the region moved last, wait for the operation' },
      { title: 'verify', detail: 'read the account again: another region takes writes (undo: keyfront drill rollback cosmos --region R)' },
    ],
  };
}

function originPlan(o: AzureDrillOptions): DrillPlan {
  return {
    drill: 'origin',
    target: 'azure',
    summary: `Front Door origin ${o.origin} of group ${o.originGroup} (profile ${o.profile}) disabled: traffic moves to the group's other origins`,
    touches: [`${scope(o)}/providers/Microsoft.Cdn/profiles/${o.profile}/originGroups/${o.originGroup}/origins/${o.origin}`],
    steps: [
      { title: 'check', detail: 'read the group\'s origins: this one enabled, at least one other enabled' },
      { title: 'confirm', detail: 'type the origin name (or --yes)' },
      { title: 'disable', detail: 'PATCH the origin with enabledState Disabled, wait for the operation' },
      { title: 'verify', detail: 'read the origin again: Disabled (undo: keyfront drill rollback origin)' },
    ],
  };
}

/** A report of a control-plane drill: phones are not part of it, so their figures are not measured. */
function azureReport(drill: DrillName, started: number, rpoSeconds: number, rtoSeconds: number, details: DrillReport['details'], passed: boolean): DrillReport {
  return { drill, target: 'azure', startedAt: new Date(started).toISOString(), durationSeconds: (Date.now() - started) / 1000, rpoSeconds, rtoSeconds, failedSyncs: Number.NaN, lostUploads: Number.NaN, danglingIndexEntries: Number.NaN, duplicateKeys: Number.NaN, details, passed };
}

async function storageFailover(o: AzureDrillOptions, runtime: AzureRuntime, plan: DrillPlan, progress: DrillProgress): Promise<DrillReport> {
  const started = Date.now();
  const client = new StorageManagementClient(runtime.credential, o.subscriptionId, runtime.clientOptions);
  progress.step(0, plan.steps[0]);
  const before = await client.storageAccounts.getProperties(o.resourceGroup, o.account!, { expand: 'geoReplicationStats' });
  const stats = before.geoReplicationStats;
  const sku = before.sku?.name ?? '';
  if (!/GRS|GZRS/.test(sku)) throw new CliError(`${o.account} is ${sku || 'of an unknown SKU'}: only geo-redundant accounts (RA-GRS, RA-GZRS, GRS, GZRS) fail over`, EXIT.failed);
  if (stats?.status !== 'Live') throw new CliError(`the secondary of ${o.account} is ${stats?.status ?? 'not reported'}, not Live: no failover now`, EXIT.failed);
  if (!stats.canFailover || !stats.canPlannedFailover) throw new CliError(`${o.account} cannot do a planned failover now (canFailover ${stats.canFailover}, canPlannedFailover ${stats.canPlannedFailover}); an unplanned one would lose the writes after the last sync time: this drill does not do that`, EXIT.failed);
  const lastSyncAge = stats.lastSyncTime ? (Date.now() - stats.lastSyncTime.getTime()) / 1000 : Number.NaN;
  progress.note(`primary ${before.primaryLocation}, secondary ${before.secondaryLocation} (${stats.status}), last sync ${Number.isNaN(lastSyncAge) ? 'unknown' : `${Math.round(lastSyncAge)} s ago`}`);
  progress.step(1, plan.steps[1]);
  await confirm(o, runtime, `This fails storage account ${o.account} over from ${before.primaryLocation} to ${before.secondaryLocation}.`, o.account!);
  progress.step(2, plan.steps[2]);
  const actedAt = Date.now();
  await client.storageAccounts.beginFailoverAndWait(o.resourceGroup, o.account!, { updateIntervalInMs: runtime.pollIntervalInMs });
  const failoverSeconds = (Date.now() - actedAt) / 1000;
  progress.step(3, plan.steps[3]);
  const after = await client.storageAccounts.getProperties(o.resourceGroup, o.account!, { expand: 'geoReplicationStats' });
  const moved = after.primaryLocation === before.secondaryLocation;
  progress.note(`primary now ${after.primaryLocation}, secondary ${after.secondaryLocation ?? 'none'}`);
  // A planned failover waits for the secondary to catch up: nothing written before it is lost.
  return azureReport('storage', started, 0, failoverSeconds, { primaryBefore: before.primaryLocation ?? '', primaryAfter: after.primaryLocation ?? '', lastSyncAgeSeconds: lastSyncAge, skuAfter: after.sku?.name ?? '' }, moved);
}

interface Priority {
  locationName: string;
  failoverPriority: number;
}

async function readPriorities(client: CosmosDBManagementClient, o: AzureDrillOptions): Promise<{ priorities: Priority[]; writeRegion: string }> {
  const account = await client.databaseAccounts.get(o.resourceGroup, o.account!);
  const priorities = (account.failoverPolicies ?? []).map((p) => ({ locationName: p.locationName ?? '', failoverPriority: p.failoverPriority ?? 0 })).sort((a, b) => a.failoverPriority - b.failoverPriority);
  return { priorities, writeRegion: account.writeLocations?.[0]?.locationName ?? priorities[0]?.locationName ?? '' };
}

const sameRegion = (a: string, b: string) => a.replace(/\s/g, '').toLowerCase() === b.replace(/\s/g, '').toLowerCase();

/** The priorities with `region` moved to `position` ('first' or 'last'), renumbered from 0. */
function reprioritize(priorities: Priority[], region: string, position: 'first' | 'last'): Priority[] {
  const moved = priorities.find((p) => sameRegion(p.locationName, region));
  if (!moved) throw new CliError(`region ${JSON.stringify(region)} is not one of the account's regions (${priorities.map((p) => p.locationName).join(', ')})`);
  const others = priorities.filter((p) => p !== moved);
  return (position === 'first' ? [moved, ...others] : [...others, moved]).map((p, failoverPriority) => ({ locationName: p.locationName, failoverPriority }));
}

async function cosmosFailover(o: AzureDrillOptions, runtime: AzureRuntime, plan: DrillPlan, progress: DrillProgress): Promise<DrillReport> {
  const started = Date.now();
  const client = new CosmosDBManagementClient(runtime.credential, o.subscriptionId, runtime.clientOptions);
  progress.step(0, plan.steps[0]);
  const before = await readPriorities(client, o);
  if (before.priorities.length < 2) throw new CliError(`${o.account} has ${before.priorities.length} region(s): a failover drill needs two or more`, EXIT.failed);
  const region = o.region ?? before.writeRegion;
  const next = reprioritize(before.priorities, region, 'last');
  progress.note(`write region ${before.writeRegion}; priorities ${before.priorities.map((p) => `${p.locationName}=${p.failoverPriority}`).join(', ')}`);
  progress.step(1, plan.steps[1]);
  await confirm(o, runtime, `This moves the writes of Cosmos DB account ${o.account} from ${before.writeRegion} to ${next[0].locationName}.`, o.account!);
  progress.step(2, plan.steps[2]);
  const actedAt = Date.now();
  await client.databaseAccounts.beginFailoverPriorityChangeAndWait(o.resourceGroup, o.account!, { failoverPolicies: next }, { updateIntervalInMs: runtime.pollIntervalInMs });
  const seconds = (Date.now() - actedAt) / 1000;
  progress.step(3, plan.steps[3]);
  const after = await readPriorities(client, o);
  progress.note(`write region now ${after.writeRegion}`);
  return azureReport('cosmos', started, 0, seconds, { writeRegionBefore: before.writeRegion, writeRegionAfter: after.writeRegion, rollback: `keyfront drill rollback cosmos --account ${o.account} --region "${before.writeRegion}"` }, sameRegion(after.writeRegion, next[0].locationName));
}

async function setOrigin(o: AzureDrillOptions, runtime: AzureRuntime, enabledState: 'Enabled' | 'Disabled'): Promise<void> {
  const client = new CdnManagementClient(runtime.credential, o.subscriptionId, runtime.clientOptions);
  await client.afdOrigins.beginUpdateAndWait(o.resourceGroup, o.profile!, o.originGroup!, o.origin!, { enabledState }, { updateIntervalInMs: runtime.pollIntervalInMs });
}

async function originFailover(o: AzureDrillOptions, runtime: AzureRuntime, plan: DrillPlan, progress: DrillProgress): Promise<DrillReport> {
  const started = Date.now();
  const client = new CdnManagementClient(runtime.credential, o.subscriptionId, runtime.clientOptions);
  progress.step(0, plan.steps[0]);
  const origins = [];
  for await (const origin of client.afdOrigins.listByOriginGroup(o.resourceGroup, o.profile!, o.originGroup!)) origins.push(origin);
  const target = origins.find((origin) => origin.name === o.origin);
  if (!target) throw new CliError(`origin group ${o.originGroup} has no origin ${JSON.stringify(o.origin)} (it has ${origins.map((x) => x.name).join(', ') || 'none'})`, EXIT.failed);
  if (target.enabledState === 'Disabled') throw new CliError(`origin ${o.origin} is already disabled: nothing to drill (undo an earlier drill with keyfront drill rollback origin)`, EXIT.failed);
  const others = origins.filter((origin) => origin !== target && origin.enabledState !== 'Disabled');
  if (others.length === 0) throw new CliError(`origin ${o.origin} is the only enabled origin of ${o.originGroup}: disabling it would take the route down`, EXIT.failed);
  progress.step(1, plan.steps[1]);
  await confirm(o, runtime, `This disables Front Door origin ${o.origin}; ${others.map((x) => x.name).join(', ')} take its traffic.`, o.origin!);
  progress.step(2, plan.steps[2]);
  const actedAt = Date.now();
  await setOrigin(o, runtime, 'Disabled');
  const seconds = (Date.now() - actedAt) / 1000;
  progress.step(3, plan.steps[3]);
  const after = await client.afdOrigins.get(o.resourceGroup, o.profile!, o.originGroup!, o.origin!);
  return azureReport('origin', started, 0, seconds, { origin: o.origin!, enabledStateAfter: after.enabledState ?? '', remainingOrigins: others.length, rollback: `keyfront drill rollback origin --profile ${o.profile} --origin-group ${o.originGroup} --origin ${o.origin}` }, after.enabledState === 'Disabled');
}

export function azureDrill(options: AzureDrillOptions, runtime?: AzureRuntime): Drill {
  const plan = options.drill === 'storage' ? storagePlan(options) : options.drill === 'cosmos' ? cosmosPlan(options) : originPlan(options);
  const act = options.drill === 'storage' ? storageFailover : options.drill === 'cosmos' ? cosmosFailover : originFailover;
  return { plan, execute: (progress) => act(options, runtime ?? defaultRuntime(options), plan, progress) };
}

/** Undoes a cosmos drill (the region writes again) or an origin drill (the origin is enabled again); resolves to what changed. */
export async function azureRollback(options: AzureDrillOptions, runtime: AzureRuntime = defaultRuntime(options)): Promise<string> {
  if (options.drill === 'cosmos') {
    if (!options.region) throw new CliError('--region is required: the region that should take writes again');
    const client = new CosmosDBManagementClient(runtime.credential, options.subscriptionId, runtime.clientOptions);
    const before = await readPriorities(client, options);
    if (sameRegion(before.writeRegion, options.region)) return `${options.region} already takes the writes of ${options.account}: nothing to do\n`;
    const next = reprioritize(before.priorities, options.region, 'first');
    await confirm(options, runtime, `This moves the writes of Cosmos DB account ${options.account} back to ${options.region}.`, options.account!);
    await client.databaseAccounts.beginFailoverPriorityChangeAndWait(options.resourceGroup, options.account!, { failoverPolicies: next }, { updateIntervalInMs: runtime.pollIntervalInMs });
    const after = await readPriorities(client, options);
    return `write region of ${options.account}: ${before.writeRegion} -> ${after.writeRegion}\n`;
  }
  const client = new CdnManagementClient(runtime.credential, options.subscriptionId, runtime.clientOptions);
  const current = await client.afdOrigins.get(options.resourceGroup, options.profile!, options.originGroup!, options.origin!);
  if (current.enabledState === 'Enabled') return `origin ${options.origin} is enabled already: nothing to do\n`;
  await confirm(options, runtime, `This enables Front Door origin ${options.origin} again.`, options.origin!);
  await setOrigin(options, runtime, 'Enabled');
  const after = await client.afdOrigins.get(options.resourceGroup, options.profile!, options.originGroup!, options.origin!);
  return `origin ${options.origin}: ${current.enabledState} -> ${after.enabledState}\n`;
}
