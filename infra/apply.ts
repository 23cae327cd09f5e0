/**
 * `keyfront deploy apply`: the compiled template as one incremental resource-group deployment,
 * with `--what-if` printing ARM's own prediction of the changes as a readable plan. Through the
 * `ResourceManagementClient` of `@azure/arm-resources` (its credential, retries and pipeline):
 * version 7 dropped the Deployments operations (now `@azure/arm-resourcesdeployments`, not a
 * dependency), so the two documented Deployments calls (Create Or Update, What If, api-version
 * 2025-04-01) are sent through that client's pipeline, with the documented long-running
 * operation patterns: `Azure-AsyncOperation` for the deployment, `Location` for what-if.
 */
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { ResourceManagementClient } from '@azure/arm-resources';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { signersSettingValue } from '../publisher/signers/signer-settings';
import type { ArmTemplate } from './arm';
import { sleep } from './sleep';

export const DEPLOYMENTS_API_VERSION = '2025-04-01';
/** Key Vault's resource provider (Vaults - Get Deleted). */
export const KEY_VAULT_API_VERSION = '2023-07-01';

export interface DeploymentTarget {
  subscriptionId: string;
  resourceGroupName: string;
  deploymentName: string;
  /** Where the resource group is created when missing. */
  location: string;
}

export interface ApplyOptions {
  pollIntervalInMs?: number;
  /** Polls before giving up (a prod deployment takes 15-30 minutes). */
  maxPolls?: number;
  onPoll?: (status: string) => void;
  abortSignal?: AbortSignal;
}

export type WhatIfChangeType = 'Create' | 'Delete' | 'Ignore' | 'Deploy' | 'NoChange' | 'Modify' | 'Unsupported';

export interface WhatIfChange {
  resourceId: string;
  changeType: WhatIfChangeType;
  delta?: { path: string; propertyChangeType: string; before?: unknown; after?: unknown }[];
}

export interface DeploymentResult {
  provisioningState: string;
  outputs: Record<string, { type: string; value: unknown }>;
}

export class ArmDeploymentError extends Error {
  override readonly name = 'ArmDeploymentError';
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

function deploymentUrl(client: ResourceManagementClient, target: DeploymentTarget, suffix = ''): string {
  return `${client.$host}/subscriptions/${encodeURIComponent(target.subscriptionId)}/resourcegroups/${encodeURIComponent(target.resourceGroupName)}/providers/Microsoft.Resources/deployments/${encodeURIComponent(target.deploymentName)}${suffix}?api-version=${DEPLOYMENTS_API_VERSION}`;
}

async function send(client: ResourceManagementClient, method: 'GET' | 'PUT' | 'POST', url: string, body: unknown, abortSignal?: AbortSignal): Promise<PipelineResponse & { json: Record<string, unknown> }> {
  const request = createPipelineRequest({ url, method, abortSignal, headers: createHttpHeaders(body === undefined ? {} : { 'content-type': 'application/json' }), body: body === undefined ? undefined : JSON.stringify(body) });
  const response = await client.sendRequest(request);
  let json: Record<string, unknown> = {};
  if (response.bodyAsText) {
    try {
      json = JSON.parse(response.bodyAsText) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  if (response.status >= 400) {
    const error = (json.error ?? {}) as { code?: string; message?: string; details?: { code?: string; message?: string }[] };
    const details = (error.details ?? []).map((d) => `${d.code}: ${d.message}`).join('; ');
    throw new ArmDeploymentError(`${method} deployment answered ${response.status} ${error.code ?? ''}: ${error.message ?? response.bodyAsText ?? ''}${details ? ` (${details})` : ''}`.trim(), response.status, error.code);
  }
  return Object.assign(response, { json });
}

function retryAfterInMs(response: PipelineResponse, fallback: number): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, 60_000) : fallback;
}

/** ARM's prediction of what the deployment would change; nothing is created, not even the resource group. */
export async function whatIf(client: ResourceManagementClient, target: DeploymentTarget, template: ArmTemplate, parameters: Record<string, unknown>, options: ApplyOptions = {}): Promise<WhatIfChange[]> {
  const interval = options.pollIntervalInMs ?? 5000;
  let response = await send(client, 'POST', deploymentUrl(client, target, '/whatIf'), { location: target.location, properties: { mode: 'Incremental', template, parameters } }, options.abortSignal);
  // 202 + Location: poll the Location until it answers 200 with the result.
  for (let poll = 0; response.status === 202; poll += 1) {
    const location = response.headers.get('location');
    if (!location) throw new ArmDeploymentError('what-if answered 202 without a Location header');
    if (poll >= (options.maxPolls ?? 360)) throw new ArmDeploymentError('what-if did not finish in time');
    options.onPoll?.('what-if running');
    await sleep(retryAfterInMs(response, interval), options.abortSignal);
    response = await send(client, 'GET', location, undefined, options.abortSignal);
  }
  const result = response.json as { status?: string; error?: { code?: string; message?: string }; properties?: { changes?: WhatIfChange[] } };
  if (result.status && result.status !== 'Succeeded') throw new ArmDeploymentError(`what-if ${result.status}: ${result.error?.code ?? ''} ${result.error?.message ?? ''}`.trim());
  return result.properties?.changes ?? [];
}

/** Creates the resource group when missing, deploys (incremental) and waits for the outcome. */
export async function deploy(client: ResourceManagementClient, target: DeploymentTarget, template: ArmTemplate, parameters: Record<string, unknown>, options: ApplyOptions = {}): Promise<DeploymentResult> {
  const interval = options.pollIntervalInMs ?? 10_000;
  await client.resourceGroups.createOrUpdate(target.resourceGroupName, { location: target.location }, { abortSignal: options.abortSignal });
  const started = await send(client, 'PUT', deploymentUrl(client, target), { properties: { mode: 'Incremental', template, parameters } }, options.abortSignal);
  const operation = started.headers.get('azure-asyncoperation');
  if (operation) {
    for (let poll = 0; ; poll += 1) {
      if (poll >= (options.maxPolls ?? 360)) throw new ArmDeploymentError('the deployment did not finish in time (it goes on in Azure: see the resource group\'s Deployments)');
      const status = await send(client, 'GET', operation, undefined, options.abortSignal);
      const state = String(status.json.status ?? '');
      options.onPoll?.(state);
      if (state === 'Succeeded') break;
      if (state === 'Failed' || state === 'Canceled') {
        const error = (status.json.error ?? {}) as { code?: string; message?: string; details?: { code?: string; message?: string }[] };
        // ARM's top-level error says only "at least one resource failed": the details say which and why.
        const details = (error.details ?? []).map((detail) => `${detail.code ?? ''}: ${detail.message ?? ''}`);
        throw new ArmDeploymentError(`the deployment ${state.toLowerCase()}: ${error.code ?? ''} ${error.message ?? ''}`.trim() + (details.length ? ` (${details.join('; ')})` : ''), undefined, error.code);
      }
      await sleep(retryAfterInMs(status, interval), options.abortSignal);
    }
  }
  const final = await send(client, 'GET', deploymentUrl(client, target), undefined, options.abortSignal);
  const properties = (final.json.properties ?? {}) as { provisioningState?: string; outputs?: DeploymentResult['outputs'] };
  if (properties.provisioningState !== 'Succeeded') throw new ArmDeploymentError(`the deployment ended ${properties.provisioningState ?? 'in an unknown state'}`);
  return { provisioningState: properties.provisioningState, outputs: properties.outputs ?? {} };
}

const SYMBOL: Record<WhatIfChangeType, string> = { Create: '+', Delete: '-', Modify: '~', Deploy: '=', NoChange: ' ', Ignore: '*', Unsupported: '?' };

/** The plan as an operator reads it: one line per resource, the changed properties under it. */
export function formatWhatIf(changes: readonly WhatIfChange[]): string {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const change of changes) {
    counts.set(change.changeType, (counts.get(change.changeType) ?? 0) + 1);
    if (change.changeType === 'NoChange' || change.changeType === 'Ignore') continue;
    const id = change.resourceId.replace(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\//i, '');
    lines.push(`${SYMBOL[change.changeType] ?? '?'} ${change.changeType.padEnd(8)} ${id}`);
    for (const delta of change.delta ?? []) lines.push(`      ${delta.propertyChangeType.padEnd(8)} ${delta.path}`);
  }
  const summary = ['Create', 'Modify', 'Delete', 'NoChange', 'Deploy', 'Ignore', 'Unsupported'].filter((type) => counts.has(type)).map((type) => `${counts.get(type)} ${type}`).join(', ');
  return `${lines.join('\n')}${lines.length ? '\n' : ''}what-if: ${summary || 'no resources'}\n`;
}

/**
 * Whether a soft-deleted vault holds this name in this location (Vaults - Get Deleted,
 * `GET /subscriptions/{id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}`).
 * After a deleted resource group its name stays taken for the retention period, 90 days here.
 * Undefined when the caller may not read deleted vaults (a subscription-scope permission).
 */
export async function deletedVaultExists(client: ResourceManagementClient, subscriptionId: string, location: string, vaultName: string, abortSignal?: AbortSignal): Promise<boolean | undefined> {
  const url = `${client.$host}/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.KeyVault/locations/${encodeURIComponent(location)}/deletedVaults/${encodeURIComponent(vaultName)}?api-version=${KEY_VAULT_API_VERSION}`;
  try {
    await send(client, 'GET', url, undefined, abortSignal);
    return true;
  } catch (error) {
    if (error instanceof ArmDeploymentError && error.statusCode === 404) return false;
    if (error instanceof ArmDeploymentError && error.statusCode === 403) return undefined;
    throw error;
  }
}

/** A site, or one of its slots. */
export interface SiteOrSlot {
  site: string;
  slot?: string;
}

/**
 * The package URL each existing site and slot runs (`WEBSITE_RUN_FROM_PACKAGE`), by `site` or
 * `site/slot`: applying the template again passes them back, so it never changes what a release
 * put there. Sites that do not exist yet (or a missing resource group) are left out.
 */
export async function runningPackageUrls(web: WebSiteManagementClient, resourceGroupName: string, targets: readonly SiteOrSlot[], abortSignal?: AbortSignal): Promise<Record<string, string>> {
  const running: Record<string, string> = {};
  for (const { site, slot } of targets) {
    try {
      const settings = slot ? await web.webApps.listApplicationSettingsSlot(resourceGroupName, site, slot, { abortSignal }) : await web.webApps.listApplicationSettings(resourceGroupName, site, { abortSignal });
      const url = settings.properties?.WEBSITE_RUN_FROM_PACKAGE;
      if (url && url.startsWith('https://')) running[slot ? `${site}/${slot}` : site] = url;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }
  return running;
}

/**
 * The signers the running publisher has (KEYFRONT_SIGNERS, which `keyfront keys rotate|retire`
 * write), for the `signers` parameter: applying the template again must not change the signing
 * keys. A publisher deployed with the single-key settings gets them as a one-entry list (its pinned
 * key version); a publisher that does not exist yet, `''` (the template then pins the key's version).
 */
export async function runningSigners(web: WebSiteManagementClient, resourceGroupName: string, publisherSite: string, abortSignal?: AbortSignal): Promise<string> {
  let settings: Record<string, string>;
  try {
    settings = (await web.webApps.listApplicationSettings(resourceGroupName, publisherSite, { abortSignal })).properties ?? {};
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return '';
    throw error;
  }
  if (settings.KEYFRONT_SIGNERS?.trim()) return settings.KEYFRONT_SIGNERS;
  const keyVaultKeyId = settings.KEYFRONT_KEY_VAULT_KEY_ID?.trim();
  if (!keyVaultKeyId) return '';
  return signersSettingValue([{ keyId: settings.KEYFRONT_SIGNATURE_KEY_ID?.trim() || '440', keyVersion: settings.KEYFRONT_SIGNATURE_KEY_VERSION?.trim() || 'v1', keyVaultKeyId }]);
}
