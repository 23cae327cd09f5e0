/**
 * `keyfront deploy release`: a package goes to production through the staging slot, never
 * straight to production. The apps run from a package URL (README "Deploy to Azure", decision 1),
 * so a release is a new blob and a setting, and every check goes where the operator can reach:
 *
 *   upload   the zip to the site's region's packages container as `{app}/{sha256}.zip`, create-only
 *            (a package released before is reused; `--digest` releases one by its digest)
 *   stage    the staging slot's WEBSITE_RUN_FROM_PACKAGE names it; triggers are synced
 *            ("Run your functions from a package file": a URL package needs a trigger sync)
 *   warm     the staging host lists the app's functions (ARM; the slot itself admits only Front Door)
 *   swap     Web Apps - Swap Slot: App Service warms staging with its own ping
 *            (WEBSITE_SWAP_WARMUP_PING_PATH/_STATUSES) and stops the swap if it fails
 *   check    the API: /api/health through the Front Door endpoint, the path phones use, answers
 *            "ok" several times in a row; the publisher: production lists publishExports
 *   swap-back  only if that check fails: the previous package goes back to production
 *
 * A failure before the swap completes leaves production unchanged; one after it is swapped back.
 * Nothing here calls an app's own host name: access restrictions admit only Front Door, on the
 * sites and on their slots, and the scm site is closed.
 */
import { createHash } from 'node:crypto';
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { CdnManagementClient } from '@azure/arm-cdn';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { AppName } from './host/host-json';
import { PUBLISHER_FUNCTION } from './template';
import { sleep } from './sleep';

export type ReleaseStepName = 'upload' | 'stage' | 'warm' | 'swap' | 'check' | 'swap-back';
export const RELEASE_STEPS: readonly ReleaseStepName[] = ['upload', 'stage', 'warm', 'swap', 'check'];

/** The functions each package registers (api/routes.ts and publisher/index.ts; a test holds them equal). */
export const APP_FUNCTIONS: Readonly<Record<AppName, readonly string[]>> = {
  api: ['register', 'publish', 'health', 'warmup'],
  publisher: [PUBLISHER_FUNCTION],
};

/** The health route the release reads through Front Door. */
export const HEALTH_PATH = '/api/health';

export interface ReleaseSite {
  name: string;
  /** `https://{account}.blob.core.windows.net/packages/{app}`: the site's region's packages. */
  packagesUrl: string;
}

export interface ReleaseTarget {
  resourceGroupName: string;
  app: AppName;
  /** The app's sites, primary first: each is released in turn, and a failure stops the rest. */
  sites: ReleaseSite[];
  slot: string;
  /** The Front Door endpoint the API is checked through. */
  frontDoor: { profileName: string; endpointName: string };
}

/** A zip to upload, or the digest of one released before. */
export type PackageSource = { zip: Buffer } | { digest: string };

export interface ReleaseOptions {
  web: WebSiteManagementClient;
  cdn: CdnManagementClient;
  /** The packages blob a URL names, with the operator's credential (tests pass one that reaches Azurite). */
  blobClient: (url: string) => BlockBlobClient;
  /** `fetch` for the Front Door endpoint (tests pass one that trusts the stand-in's certificate). */
  fetch?: typeof fetch;
  /** Where a host name is reached; `https://{host}` in Azure. */
  hostUrl?: (hostName: string) => string;
  /** Checks before giving up, the successes in a row that pass, and the pause between checks. */
  healthAttempts?: number;
  healthSuccesses?: number;
  retryIntervalInMs?: number;
  onStep?: (site: string, step: ReleaseStepName, state: 'start' | 'done' | 'failed', detail?: string) => void;
  abortSignal?: AbortSignal;
}

export type SiteOutcome = 'released' | 'failed-before-swap' | 'rolled-back' | 'rollback-failed' | 'not-started';

export interface SiteReport {
  site: string;
  outcome: SiteOutcome;
  failedStep?: ReleaseStepName;
  error?: string;
}

export interface ReleaseReport {
  app: AppName;
  ok: boolean;
  /** The package's SHA-256: `--digest` releases it again. */
  digest: string;
  sites: SiteReport[];
}

const SHA256 = /^[0-9a-f]{64}$/;

class StepError extends Error {
  constructor(
    readonly step: ReleaseStepName,
    message: string,
  ) {
    super(message);
  }
}

/** An error as one line of the report (SDK errors can span several). */
function messageOf(error: unknown): string {
  const failure = error as { message?: string };
  return String(failure?.message ?? error).split('\n')[0];
}

/** The digest a package is stored under: SHA-256 of the zip, hex. */
export function packageDigest(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('hex');
}

export async function releasePackage(target: ReleaseTarget, source: PackageSource, options: ReleaseOptions): Promise<ReleaseReport> {
  const doFetch = options.fetch ?? fetch;
  const hostUrl = options.hostUrl ?? ((host: string) => `https://${host}`);
  const blobClient = options.blobClient;
  const attempts = options.healthAttempts ?? 10;
  const successes = options.healthSuccesses ?? 3;
  const intervalInMs = options.retryIntervalInMs ?? 3000;
  const { web, cdn } = options;
  const rg = target.resourceGroupName;
  const digest = 'digest' in source ? source.digest.toLowerCase() : packageDigest(source.zip);
  if (!SHA256.test(digest)) throw new Error(`not a SHA-256 digest: ${JSON.stringify(digest)}`);
  const urlOf = (site: ReleaseSite) => `${site.packagesUrl}/${digest}.zip`;
  let edgeHost: string | undefined;

  /** The package in the site's region: written once, never replaced (a name is its content). */
  const upload = async (site: ReleaseSite): Promise<void> => {
    if (target.app === 'api' && edgeHost === undefined) {
      const endpoint = await cdn.afdEndpoints.get(rg, target.frontDoor.profileName, target.frontDoor.endpointName, { abortSignal: options.abortSignal });
      if (!endpoint.hostName) throw new Error(`the Front Door endpoint ${target.frontDoor.endpointName} has no host name yet`);
      edgeHost = endpoint.hostName;
    }
    const blob = blobClient(urlOf(site));
    if ('digest' in source) {
      if (!(await blob.exists({ abortSignal: options.abortSignal }))) throw new Error(`no released package ${digest} in ${site.packagesUrl}: release it from its zip (--package)`);
      return;
    }
    try {
      await blob.uploadData(source.zip, {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/zip', blobContentMD5: createHash('md5').update(source.zip).digest() },
        metadata: { sha256: digest },
        abortSignal: options.abortSignal,
      });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      // Released before: the same name must hold the same bytes.
      const existing = await blob.getProperties({ abortSignal: options.abortSignal });
      if (existing.metadata?.sha256 !== digest) throw new Error(`${urlOf(site)} exists with other content (sha256 ${existing.metadata?.sha256 ?? 'unknown'})`, { cause: error });
    }
  };

  const stage = async (site: ReleaseSite): Promise<void> => {
    // The whole dictionary is replaced: read it, change the package, write it back (Web Apps - Update Application Settings Slot).
    const current = await web.webApps.listApplicationSettingsSlot(rg, site.name, target.slot, { abortSignal: options.abortSignal });
    await web.webApps.updateApplicationSettingsSlot(rg, site.name, target.slot, { properties: { ...(current.properties ?? {}), WEBSITE_RUN_FROM_PACKAGE: urlOf(site) } }, { abortSignal: options.abortSignal });
    await web.webApps.syncFunctionTriggersSlot(rg, site.name, target.slot, { abortSignal: options.abortSignal });
  };

  const functionsOf = async (site: string, slot: string | undefined): Promise<string[]> => {
    const functions: string[] = [];
    for await (const fn of slot ? web.webApps.listInstanceFunctionsSlot(rg, site, slot) : web.webApps.listFunctions(rg, site)) functions.push(String(fn.name ?? '').split('/').pop() ?? '');
    return functions;
  };

  const packageOf = async (site: string, slot: string | undefined): Promise<string | undefined> => {
    const settings = slot ? await web.webApps.listApplicationSettingsSlot(rg, site, slot) : await web.webApps.listApplicationSettings(rg, site);
    return settings.properties?.WEBSITE_RUN_FROM_PACKAGE;
  };

  /** Retries `once` until it passes `needed` times in a row, within the attempts. */
  const until = async (step: ReleaseStepName, needed: number, once: () => Promise<string | undefined>): Promise<void> => {
    let problem: string | undefined = 'not checked';
    let row = 0;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        problem = await once();
      } catch (error) {
        problem = messageOf(error);
      }
      row = problem === undefined ? row + 1 : 0;
      if (row >= needed) return;
      if (attempt < attempts) await sleep(intervalInMs, options.abortSignal);
    }
    throw new StepError(step, problem ?? `passed ${row} time(s) in a row, ${needed} needed`);
  };

  const warm = (site: ReleaseSite) =>
    until('warm', 1, async () => {
      const listed = await functionsOf(site.name, target.slot);
      const missing = APP_FUNCTIONS[target.app].filter((name) => !listed.includes(name));
      return missing.length === 0 ? undefined : `the staging host lists ${listed.length ? listed.join(', ') : 'no function'}; missing ${missing.join(', ')}`;
    });

  /** Production as its users see it: the API through Front Door; the publisher's timer indexed. */
  const check = (site: ReleaseSite, step: ReleaseStepName, expectedPackage: string | undefined) =>
    until(step, target.app === 'api' ? successes : 1, async () => {
      if (expectedPackage !== undefined) {
        const running = await packageOf(site.name, undefined);
        if (running !== expectedPackage) return `production runs ${running ?? 'no package'}, not ${expectedPackage}`;
      }
      if (target.app === 'publisher') {
        const listed = await functionsOf(site.name, undefined);
        return listed.includes(PUBLISHER_FUNCTION) ? undefined : `production lists ${listed.length ? listed.join(', ') : 'no function'}, not ${PUBLISHER_FUNCTION}`;
      }
      const response = await doFetch(`${hostUrl(edgeHost!)}${HEALTH_PATH}`, { signal: options.abortSignal });
      const body = (await response.json().catch(() => ({}))) as { status?: string };
      return response.status === 200 && body.status === 'ok' ? undefined : `${HEALTH_PATH} through Front Door answered ${response.status}${body.status ? ` (${body.status})` : ''}`;
    });

  const swap = async (site: ReleaseSite): Promise<void> => {
    await web.webApps.swapSlot(rg, site.name, target.slot, { targetSlot: 'production', preserveVnet: true }, { updateIntervalInMs: intervalInMs, abortSignal: options.abortSignal }).pollUntilDone();
  };

  const step = async (site: string, name: ReleaseStepName, work: () => Promise<void>): Promise<void> => {
    options.onStep?.(site, name, 'start');
    try {
      await work();
      options.onStep?.(site, name, 'done');
    } catch (error) {
      const message = messageOf(error);
      options.onStep?.(site, name, 'failed', message);
      throw error instanceof StepError ? error : new StepError(name, message);
    }
  };

  const reports: SiteReport[] = [];
  for (const site of target.sites) {
    if (reports.some((report) => report.outcome !== 'released')) {
      reports.push({ site: site.name, outcome: 'not-started' });
      continue;
    }
    let swapped = false;
    let previous: string | undefined;
    try {
      await step(site.name, 'upload', () => upload(site));
      await step(site.name, 'stage', () => stage(site));
      await step(site.name, 'warm', () => warm(site));
      previous = await packageOf(site.name, undefined);
      try {
        await step(site.name, 'swap', () => swap(site));
      } catch (error) {
        // App Service stops a swap whose warm-up fails before it switches; whether it switched is read, not assumed.
        swapped = (await packageOf(site.name, undefined).catch(() => previous)) === urlOf(site);
        throw error;
      }
      swapped = true;
      await step(site.name, 'check', () => check(site, 'check', urlOf(site)));
      reports.push({ site: site.name, outcome: 'released' });
    } catch (error) {
      const failure = error as StepError;
      if (!swapped) {
        reports.push({ site: site.name, outcome: 'failed-before-swap', failedStep: failure.step, error: failure.message });
        continue;
      }
      try {
        await step(site.name, 'swap-back', async () => {
          await swap(site);
          await check(site, 'swap-back', previous);
        });
        reports.push({ site: site.name, outcome: 'rolled-back', failedStep: failure.step, error: failure.message });
      } catch (rollback) {
        reports.push({ site: site.name, outcome: 'rollback-failed', failedStep: failure.step, error: `${failure.message}; swap back: ${messageOf(rollback)}` });
      }
    }
  }
  return { app: target.app, ok: reports.every((report) => report.outcome === 'released'), digest, sites: reports };
}

/** The clear final line an operator reads. */
export function releaseSummary(report: ReleaseReport): string {
  if (report.ok) return `released ${report.app} to production on ${report.sites.map((s) => s.site).join(', ')} (package ${report.digest})`;
  const failed = report.sites.find((site) => site.outcome !== 'released' && site.outcome !== 'not-started')!;
  const untouched = report.sites.filter((site) => site.outcome === 'not-started').map((site) => site.site);
  const what: Record<SiteOutcome, string> = {
    released: 'released',
    'failed-before-swap': 'production unchanged',
    'rolled-back': 'swapped back: production runs the previous package',
    'rollback-failed': 'SWAP BACK FAILED: production may run the new package; swap the staging slot back by hand',
    'not-started': 'not started',
  };
  return `release of ${report.app} FAILED on ${failed.site} at ${failed.failedStep}: ${failed.error}; ${what[failed.outcome]}${untouched.length ? `; not started: ${untouched.join(', ')}` : ''}`;
}
