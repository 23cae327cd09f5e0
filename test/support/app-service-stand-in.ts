/**
 * App Service and the Functions host as a release meets them, built from what a deployment of the
 * stand-in provisioned (sites, slots, their settings and `config/web`, role assignments), so the
 * rules below apply to whatever the template declares:
 *
 * - Access restrictions are checked by App Service's front ends before the app: the request's
 *   source address against each rule (an IP range or a service tag), then the rule's header filter,
 *   in priority order, else the unmatched-rule action; a denied request gets 403. A slot has its own
 *   rules; the scm site has its own too. Front Door's requests come from the `AzureFrontDoor.Backend`
 *   service tag, everyone else's (an operator, a CI runner) from elsewhere
 *   (https://learn.microsoft.com/azure/app-service/app-service-ip-restrictions).
 * - A Windows Consumption or Elastic Premium app runs from its content share or from the package
 *   URL in `WEBSITE_RUN_FROM_PACKAGE`, fetched with the slot's own identity, which needs a role
 *   with blob read on the account; otherwise its host does not start (storage considerations,
 *   "Create an app without Azure Files"; run-functions-from-deployment-package).
 * - After a package URL changes, the platform knows the app's functions only once triggers are
 *   synced ("you must also manually sync triggers").
 * - A swap applies production's slot-sticky settings to staging, restarts it, pings
 *   `WEBSITE_SWAP_WARMUP_PING_PATH` on it from inside (no access restriction, no Front Door header)
 *   and stops unless the answer is in `WEBSITE_SWAP_WARMUP_PING_STATUSES`; then the slots trade
 *   their non-sticky settings, the package among them (deploy-staging-slots, "Swap operation steps",
 *   "Specify custom warm-up"). Identities and access restrictions stay with their slot.
 *
 * The stand-in does not run the packages: a package is identified by its `package.json` name
 * (keyfront-api or keyfront-publisher, as `deploy package` writes them), and a package whose bytes
 * hold `BROKEN_HEALTH` answers 500 on /api/health once it runs, one holding `BROKEN_START` never starts.
 */
import { roleGrants, type DeployedResource, type AzureWorld } from './arm-deployment';
import { isAuthorized } from './azure-roles';
import { readZip } from '../infra/functions-host-stand-in';

export const BROKEN_HEALTH_MARKER = 'BROKEN_HEALTH';
export const BROKEN_START_MARKER = 'BROKEN_START';

/**
 * Source addresses of the stand-in (documentation ranges, RFC 5737): its Front Door sends from
 * TEST-NET-1, the stand-in's `AzureFrontDoor.Backend` service tag; everyone else from TEST-NET-2.
 */
export const SERVICE_TAGS: Readonly<Record<string, string[]>> = { 'AzureFrontDoor.Backend': ['192.0.2.0/24'] };
export const FRONT_DOOR_SOURCE = '192.0.2.10';
export const OUTSIDE_SOURCE = '198.51.100.23';

const FUNCTIONS_OF: Record<string, string[]> = { 'keyfront-api': ['register', 'publish', 'health', 'warmup'], 'keyfront-publisher': ['publishExports'] };

export interface HostState {
  started: boolean;
  /** Why the host does not run. */
  reason?: string;
  functions: string[];
  brokenHealth: boolean;
  packageUrl?: string;
}

export interface SlotState {
  site: string;
  /** `production` or the slot name. */
  slot: string;
  principalId: string;
  settings: Record<string, string>;
  /** The slot's `config/web`: access restrictions and the rest of its site configuration. */
  webConfig: Record<string, unknown>;
  serverFarmId: string;
  host: HostState;
  /** The WEBSITE_RUN_FROM_PACKAGE value the platform last synced triggers for. */
  syncedPackage?: string;
}

export interface SiteState {
  name: string;
  resourceGroup: string;
  slots: Map<string, SlotState>;
  /** Slot-sticky app settings (sites/config slotConfigNames). */
  stickySettings: string[];
}

export interface AppRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Where the request comes from, as App Service's front end sees it. */
  source: string;
}

export interface AppResponse {
  status: number;
  body: unknown;
}

/** Reads a blob's bytes as the storage service holds them (undefined when missing). */
export type BlobReader = (account: string, container: string, blob: string) => Promise<Buffer | undefined>;

function ipv4(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function inRange(address: string, cidr: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  const a = ipv4(address);
  const b = ipv4(base);
  if (a === undefined || b === undefined) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

interface RestrictionRule {
  ipAddress?: string;
  tag?: string;
  action?: string;
  priority?: number;
  headers?: Record<string, string[]>;
}

/** App Service's decision for one request: the first matching rule by priority, else the unmatched-rule action. */
export function accessAllowed(config: Record<string, unknown>, request: AppRequest, scm: boolean): boolean {
  const prefix = scm ? 'scmIpSecurityRestrictions' : 'ipSecurityRestrictions';
  const useMain = scm && config.scmIpSecurityRestrictionsUseMain === true;
  const list = ((config[useMain ? 'ipSecurityRestrictions' : prefix] as RestrictionRule[] | undefined) ?? []).slice().sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const rule of list) {
    const ranges = rule.tag === 'ServiceTag' ? (SERVICE_TAGS[rule.ipAddress ?? ''] ?? []) : (rule.ipAddress ?? '').split(',');
    const sourceMatches = rule.ipAddress?.toLowerCase() === 'any' || ranges.some((range) => inRange(request.source, range.trim()));
    if (!sourceMatches) continue;
    // Header filters are evaluated after the source; every filtered header must carry one of its values.
    const headersMatch = Object.entries(rule.headers ?? {}).every(([name, values]) => {
      const sent = request.headers[name.toLowerCase()];
      return sent !== undefined && values.some((value) => value.toLowerCase() === sent.toLowerCase());
    });
    if (!headersMatch) continue;
    return rule.action === 'Allow';
  }
  const defaultAction = config[useMain ? 'ipSecurityRestrictionsDefaultAction' : `${prefix}DefaultAction`] ?? (list.length === 0 ? 'Allow' : 'Deny');
  return defaultAction === 'Allow';
}

export interface AppServiceStandIn {
  sites: Map<string, SiteState>;
  /** Follows a provisioned resource of a deployment (sites, slots, config). */
  onProvisioned(resourceGroup: string, resource: DeployedResource): Promise<void>;
  slotOf(site: string, slot: string): SlotState | undefined;
  /** A host name's slot: `{site}.azurewebsites.net`, `{site}-{slot}...`, and their `.scm.` hosts. */
  resolveHost(hostName: string): { slot: SlotState; scm: boolean } | undefined;
  /** A request through App Service's front end (access restrictions apply). */
  request(hostName: string, request: AppRequest): Promise<AppResponse>;
  /** Restarts a slot's host with its current settings. */
  restart(slot: SlotState): Promise<void>;
  replaceSettings(slot: SlotState, settings: Record<string, string>): Promise<void>;
  syncTriggers(slot: SlotState): void;
  /** The functions ARM lists for a slot. */
  listFunctions(slot: SlotState): string[];
  /** Web Apps - Swap Slot: resolves, or rejects with the reason the swap stopped. */
  swap(site: SiteState, source: string): Promise<void>;
}

export function startAppServiceStandIn(world: AzureWorld, readBlob: BlobReader): AppServiceStandIn {
  const sites = new Map<string, SiteState>();
  const slotOf = (site: string, slot: string) => sites.get(site.toLowerCase())?.slots.get(slot.toLowerCase());

  const grants = (resourceGroup: string) => roleGrants(world, resourceGroup);

  const planOf = (resourceGroup: string, serverFarmId: string) => world.resourceGroups.get(resourceGroup.toLowerCase())?.resources.get(serverFarmId.toLowerCase());

  async function hostState(site: SiteState, slot: SlotState): Promise<HostState> {
    const down = (reason: string): HostState => ({ started: false, reason, functions: [], brokenHealth: false });
    const plan = planOf(site.resourceGroup, slot.serverFarmId);
    const tier = String(plan?.sku?.tier ?? '').toLowerCase();
    const packageSetting = slot.settings.WEBSITE_RUN_FROM_PACKAGE ?? '';
    const contentShare = slot.settings.WEBSITE_CONTENTAZUREFILECONNECTIONSTRING && slot.settings.WEBSITE_CONTENTSHARE;
    if (['dynamic', 'elasticpremium'].includes(tier) && !contentShare && !/^https:\/\//.test(packageSetting)) {
      return down(`no Azure Files content share and WEBSITE_RUN_FROM_PACKAGE=${JSON.stringify(packageSetting)} is not a package URL (storage considerations)`);
    }
    const url = /^https:\/\/([a-z0-9]+)\.blob\.core\.windows\.net\/([^/]+)\/(.+)$/.exec(packageSetting);
    if (!url) return down(`the stand-in runs apps from a blob package URL only, got ${JSON.stringify(packageSetting)}`);
    const [, account, container, blob] = url;
    const accountResource = [...(world.resourceGroups.get(site.resourceGroup.toLowerCase())?.resources.values() ?? [])].find((r) => r.type.toLowerCase() === 'microsoft.storage/storageaccounts' && r.name.toLowerCase() === account);
    if (!accountResource) return down(`the package account ${account} does not exist`);
    const readAction = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
    if (!isAuthorized(grants(site.resourceGroup), slot.principalId, readAction, `${accountResource.id}/blobServices/default/containers/${container}/blobs/${blob}`, { data: true })) {
      return down(`AuthorizationPermissionMismatch: the identity of ${site.name}/${slot.slot} may not read ${packageSetting} (no role with ${readAction})`);
    }
    const bytes = await readBlob(account, container, blob);
    if (!bytes) return down(`BlobNotFound: ${packageSetting}`);
    let name: string;
    try {
      name = String((JSON.parse((await readZip(bytes)).get('package.json')?.toString('utf8') ?? '{}') as { name?: string }).name ?? '');
    } catch {
      return down('the package is not a zip with a package.json');
    }
    if (bytes.includes(BROKEN_START_MARKER)) return down('the worker failed to load the app');
    return { started: true, functions: FUNCTIONS_OF[name] ?? [], brokenHealth: bytes.includes(BROKEN_HEALTH_MARKER), packageUrl: packageSetting };
  }

  const restart = async (slot: SlotState): Promise<void> => {
    slot.host = await hostState(sites.get(slot.site.toLowerCase())!, slot);
  };

  const settingsOf = (resource: DeployedResource): Record<string, string> =>
    Object.fromEntries((((resource.properties.siteConfig as { appSettings?: { name: string; value: unknown }[] } | undefined)?.appSettings) ?? []).map((s) => [s.name, String(s.value)]));

  /** The app itself, once App Service let the request through. */
  function answer(slot: SlotState, request: AppRequest): AppResponse {
    if (!slot.host.started) return { status: 503, body: { error: 'Function host is not running.', reason: slot.host.reason } };
    const [path] = request.path.split('?');
    const isApi = slot.host.functions.includes('health');
    if (isApi && request.method === 'GET' && path === '/api/warmup') return { status: 200, body: { status: 'ready' } };
    if (isApi && path === '/api/health') {
      const accepted = (slot.settings.KEYFRONT_FRONT_DOOR_ID ?? '').split(',').map((id) => id.trim().toLowerCase());
      if (!accepted.includes((request.headers['x-azure-fdid'] ?? '').toLowerCase())) return { status: 403, body: { error: 'requests must come through the service front door', code: 'front_door_required' } };
      if (slot.host.brokenHealth) return { status: 500, body: { status: 'failing' } };
      return { status: 200, body: { status: 'ok', version: '0.1.0', store: 'ok' } };
    }
    return { status: 404, body: { error: 'not found' } };
  }

  const resolveHost = (hostName: string) => {
    const match = /^(.+?)(\.scm)?\.azurewebsites\.net$/.exec(hostName.toLowerCase());
    if (!match) return undefined;
    const [, label, scm] = match;
    for (const site of sites.values()) {
      for (const slot of site.slots.values()) {
        const host = slot.slot === 'production' ? site.name : `${site.name}-${slot.slot}`;
        if (host.toLowerCase() === label) return { slot, scm: Boolean(scm) };
      }
    }
    return undefined;
  };

  return {
    sites,
    slotOf,
    resolveHost,
    restart,
    async onProvisioned(resourceGroup, resource) {
      const type = resource.type.toLowerCase();
      const [siteName, second] = resource.name.split('/');
      if (type === 'microsoft.web/sites' || type === 'microsoft.web/sites/slots') {
        let site = sites.get(siteName.toLowerCase());
        if (!site) {
          site = { name: siteName, resourceGroup, slots: new Map(), stickySettings: [] };
          sites.set(siteName.toLowerCase(), site);
        }
        const slotName = type === 'microsoft.web/sites' ? 'production' : second;
        const previous = site.slots.get(slotName.toLowerCase());
        const { appSettings: _settings, ...siteConfig } = (resource.properties.siteConfig as Record<string, unknown> | undefined) ?? {};
        // A PUT of the site replaces its app settings with the template's.
        const slot: SlotState = {
          site: siteName,
          slot: slotName,
          principalId: String(resource.runtime.principalId),
          settings: settingsOf(resource),
          webConfig: { ...(previous?.webConfig ?? {}), ...siteConfig },
          serverFarmId: String(resource.properties.serverFarmId ?? ''),
          host: previous?.host ?? { started: false, functions: [], brokenHealth: false },
          syncedPackage: previous?.syncedPackage,
        };
        site.slots.set(slotName.toLowerCase(), slot);
        await restart(slot);
        return;
      }
      if (type === 'microsoft.web/sites/config' || type === 'microsoft.web/sites/slots/config') {
        const configName = resource.name.split('/').pop()!.toLowerCase();
        const site = sites.get(siteName.toLowerCase());
        if (!site) return;
        if (configName === 'slotconfignames') {
          site.stickySettings = ((resource.properties.appSettingNames as string[] | undefined) ?? []).slice();
          return;
        }
        const slot = site.slots.get((type === 'microsoft.web/sites/config' ? 'production' : second).toLowerCase());
        if (slot && configName === 'web') slot.webConfig = { ...slot.webConfig, ...resource.properties };
      }
    },
    async request(hostName, request) {
      const found = resolveHost(hostName);
      if (!found) return { status: 404, body: { error: `no app at ${hostName}` } };
      if (!accessAllowed(found.slot.webConfig, request, found.scm)) {
        // App Service's own page for a request an access restriction denied.
        return { status: 403, body: 'Error 403 - Forbidden. The web app you have attempted to reach has blocked your access.' };
      }
      if (found.scm) return { status: 404, body: { error: 'the stand-in has no deployment service (releases run from a package URL)' } };
      return answer(found.slot, request);
    },
    async replaceSettings(slot, settings) {
      slot.settings = { ...settings };
      await restart(slot);
    },
    syncTriggers(slot) {
      slot.syncedPackage = slot.settings.WEBSITE_RUN_FROM_PACKAGE;
    },
    listFunctions(slot) {
      // The platform learns a URL package's functions from a trigger sync (or a swap, which moves them with the content).
      if (!slot.host.started || slot.syncedPackage !== slot.settings.WEBSITE_RUN_FROM_PACKAGE) return [];
      return slot.host.functions;
    },
    async swap(site, source) {
      const staging = site.slots.get(source.toLowerCase());
      const production = site.slots.get('production');
      if (!staging || !production) throw new Error(`no slot ${source}`);
      const sticky = new Set(site.stickySettings);
      const before = { ...staging.settings };
      // 1. Production's slot-sticky settings go to the source slot, which restarts with them.
      const prepared = Object.fromEntries([...Object.entries(staging.settings).filter(([name]) => !sticky.has(name)), ...Object.entries(production.settings).filter(([name]) => sticky.has(name))]);
      await this.replaceSettings(staging, prepared);
      // 2. The warm-up ping, from inside: no access restriction, no Front Door header, plain path.
      const path = staging.settings.WEBSITE_SWAP_WARMUP_PING_PATH ?? '/';
      const statuses = (staging.settings.WEBSITE_SWAP_WARMUP_PING_STATUSES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const ping = answer(staging, { method: 'GET', path, headers: { 'user-agent': 'SiteWarmup' }, source: '127.0.0.1' });
      if (!staging.host.started || (statuses.length > 0 && !statuses.includes(String(ping.status)))) {
        await this.replaceSettings(staging, before);
        throw new Error(`Cannot swap slots for site '${site.name}' because the application initialization in '${source}' slot either took too long or failed (warm-up ${path} answered ${ping.status}).`);
      }
      // 3. The slots trade content and non-sticky settings; sticky ones, identities and restrictions stay.
      const productionSettings = { ...production.settings };
      const swapped = (from: Record<string, string>, keep: Record<string, string>) => Object.fromEntries([...Object.entries(from).filter(([name]) => !sticky.has(name)), ...Object.entries(keep).filter(([name]) => sticky.has(name))]);
      production.settings = swapped(staging.settings, productionSettings);
      staging.settings = swapped(productionSettings, before);
      [production.host, staging.host] = [staging.host, production.host];
      [production.syncedPackage, staging.syncedPackage] = [staging.syncedPackage, production.syncedPackage];
      // The former production restarts in the staging slot with its identity.
      await restart(staging);
      await restart(production);
    },
  };
}
