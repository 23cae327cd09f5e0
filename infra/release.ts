/**
 * `keyfront deploy release`: a package goes to production through the staging slot, never
 * straight to production. For each site of the app (the API has one per region):
 *
 *   upload   zip deploy to the staging slot's deployment service (run-from-package mounts it)
 *   warm     the staging host answers: the API's /api/health, or the publisher's timer indexed
 *   swap     staging <-> production (Web Apps - Swap Slot, a long-running operation)
 *   check    production answers the same check
 *   swap-back  only if that check fails: the previous package goes back to production
 *
 * A failure before the swap leaves production untouched; one after it is swapped back. The
 * control plane goes through `@azure/arm-appservice`; the zip upload and the health check are
 * HTTPS calls to the app's own hosts (the deployment service is not an ARM API), with the same
 * Entra ID credential.
 */
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { TokenCredential } from '@azure/core-auth';
import type { AppName } from './host/host-json';
import { PUBLISHER_FUNCTION } from './template';
import { sleep } from './sleep';

export type ReleaseStepName = 'upload' | 'warm' | 'swap' | 'check' | 'swap-back';
export const RELEASE_STEPS: readonly ReleaseStepName[] = ['upload', 'warm', 'swap', 'check'];

export interface ReleaseTarget {
  resourceGroupName: string;
  app: AppName;
  /** The app's sites, primary first: each is released in turn, and a failure stops the rest. */
  sites: string[];
  slot: string;
}

export interface ReleaseOptions {
  web: WebSiteManagementClient;
  credential: TokenCredential;
  /** `fetch` for the app hosts (tests pass one that trusts the stand-in's certificate). */
  fetch?: typeof fetch;
  /** Where a host name is reached; `https://{host}` in Azure. */
  hostUrl?: (hostName: string) => string;
  /** Checks of a warming host before giving up, and the pause between them. */
  healthAttempts?: number;
  retryIntervalInMs?: number;
  /** Polls of the deployment service before giving up. */
  uploadPolls?: number;
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
  sites: SiteReport[];
}

/** The scope the deployment service (Kudu) accepts Entra ID tokens for, as ARM itself. */
const ARM_SCOPE = 'https://management.azure.com/.default';
/** Kudu deployment status: 3 failed, 4 succeeded (the zip deploy reference). */
const DEPLOY_SUCCESS = 4;
const DEPLOY_FAILED = 3;

class StepError extends Error {
  constructor(
    readonly step: ReleaseStepName,
    message: string,
  ) {
    super(message);
  }
}

interface Hosts {
  app: string;
  scm: string;
}

function hostsOf(site: { defaultHostName?: string; enabledHostNames?: string[] }, fallback: string): Hosts {
  const app = site.defaultHostName ?? `${fallback}.azurewebsites.net`;
  const scm = site.enabledHostNames?.find((host) => host.includes('.scm.')) ?? app.replace('.azurewebsites.net', '.scm.azurewebsites.net');
  return { app, scm };
}

export async function releasePackage(target: ReleaseTarget, zip: Buffer, options: ReleaseOptions): Promise<ReleaseReport> {
  const doFetch = options.fetch ?? fetch;
  const hostUrl = options.hostUrl ?? ((host: string) => `https://${host}`);
  const attempts = options.healthAttempts ?? 10;
  const intervalInMs = options.retryIntervalInMs ?? 3000;
  const { web, credential } = options;
  const rg = target.resourceGroupName;

  const bearer = async (): Promise<string> => {
    const token = await credential.getToken(ARM_SCOPE, { abortSignal: options.abortSignal });
    if (!token) throw new Error('no Entra ID token for the deployment service');
    return `Bearer ${token.token}`;
  };

  const upload = async (site: string): Promise<void> => {
    const slot = await web.webApps.getSlot(rg, site, target.slot);
    const { scm } = hostsOf(slot, `${site}-${target.slot}`);
    const response = await doFetch(`${hostUrl(scm)}/api/zipdeploy?isAsync=true`, { method: 'POST', headers: { authorization: await bearer(), 'content-type': 'application/zip' }, body: zip, signal: options.abortSignal });
    await response.arrayBuffer();
    if (response.status !== 202 && response.status !== 200) throw new Error(`zip deploy answered ${response.status}`);
    const location = response.headers.get('location');
    if (response.status === 200 || !location) return;
    for (let poll = 0; poll < (options.uploadPolls ?? 100); poll += 1) {
      const status = await doFetch(location.startsWith('http') ? location.replace(`https://${scm}`, hostUrl(scm)) : `${hostUrl(scm)}${location}`, { headers: { authorization: await bearer() }, signal: options.abortSignal });
      const body = (await status.json().catch(() => ({}))) as { status?: number; complete?: boolean; status_text?: string };
      if (status.ok && body.complete) {
        if (body.status === DEPLOY_SUCCESS) return;
        throw new Error(`the deployment service reports status ${body.status}${body.status === DEPLOY_FAILED ? ' (failed)' : ''}${body.status_text ? `: ${body.status_text}` : ''}`);
      }
      await sleep(intervalInMs, options.abortSignal);
    }
    throw new Error('the deployment service did not finish in time');
  };

  /** One check of a host: what "it runs" means for each app. */
  const checkOnce = async (site: string, slot: string | undefined): Promise<string | undefined> => {
    if (target.app === 'publisher') {
      const functions = [];
      for await (const fn of slot ? web.webApps.listInstanceFunctionsSlot(rg, site, slot) : web.webApps.listFunctions(rg, site)) functions.push(fn);
      const names = functions.map((fn) => String(fn.name ?? '').split('/').pop());
      return names.includes(PUBLISHER_FUNCTION) ? undefined : `the host indexed ${names.length === 0 ? 'no function' : names.join(', ')}, not ${PUBLISHER_FUNCTION}`;
    }
    const settings = slot ? await web.webApps.listApplicationSettingsSlot(rg, site, slot) : await web.webApps.listApplicationSettings(rg, site);
    const frontDoorId = String(settings.properties?.KEYFRONT_FRONT_DOOR_ID ?? '').split(',')[0].trim();
    const resource = slot ? await web.webApps.getSlot(rg, site, slot) : await web.webApps.get(rg, site);
    const { app } = hostsOf(resource, slot ? `${site}-${slot}` : site);
    // The API answers only requests carrying its Front Door ID; the release presents it as Front Door does.
    const response = await doFetch(`${hostUrl(app)}/api/health`, { headers: { 'x-azure-fdid': frontDoorId }, signal: options.abortSignal });
    const body = (await response.json().catch(() => ({}))) as { status?: string };
    return response.status === 200 && body.status === 'ok' ? undefined : `/api/health answered ${response.status}${body.status ? ` (${body.status})` : ''}`;
  };

  const check = async (site: string, slot: string | undefined, step: ReleaseStepName): Promise<void> => {
    let problem: string | undefined = 'not checked';
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        problem = await checkOnce(site, slot);
      } catch (error) {
        problem = (error as Error).message;
      }
      if (problem === undefined) return;
      if (attempt < attempts) await sleep(intervalInMs, options.abortSignal);
    }
    throw new StepError(step, problem ?? 'failed');
  };

  const swap = async (site: string): Promise<void> => {
    await web.webApps.swapSlot(rg, site, target.slot, { targetSlot: 'production', preserveVnet: true }, { updateIntervalInMs: intervalInMs, abortSignal: options.abortSignal }).pollUntilDone();
  };

  const step = async (site: string, name: ReleaseStepName, work: () => Promise<void>): Promise<void> => {
    options.onStep?.(site, name, 'start');
    try {
      await work();
      options.onStep?.(site, name, 'done');
    } catch (error) {
      const message = error instanceof StepError ? error.message : (error as Error)?.message ?? String(error);
      options.onStep?.(site, name, 'failed', message);
      throw error instanceof StepError ? error : new StepError(name, message);
    }
  };

  const reports: SiteReport[] = [];
  for (const site of target.sites) {
    if (reports.some((report) => report.outcome !== 'released')) {
      reports.push({ site, outcome: 'not-started' });
      continue;
    }
    let swapped = false;
    try {
      await step(site, 'upload', () => upload(site));
      await step(site, 'warm', () => check(site, target.slot, 'warm'));
      await step(site, 'swap', () => swap(site));
      swapped = true;
      await step(site, 'check', () => check(site, undefined, 'check'));
      reports.push({ site, outcome: 'released' });
    } catch (error) {
      const failure = error as StepError;
      if (!swapped) {
        reports.push({ site, outcome: 'failed-before-swap', failedStep: failure.step, error: failure.message });
        continue;
      }
      try {
        await step(site, 'swap-back', async () => {
          await swap(site);
          await check(site, undefined, 'swap-back');
        });
        reports.push({ site, outcome: 'rolled-back', failedStep: failure.step, error: failure.message });
      } catch (rollback) {
        reports.push({ site, outcome: 'rollback-failed', failedStep: failure.step, error: `${failure.message}; swap back: ${(rollback as Error).message}` });
      }
    }
  }
  return { app: target.app, ok: reports.every((report) => report.outcome === 'released'), sites: reports };
}

/** The clear final line an operator reads. */
export function releaseSummary(report: ReleaseReport): string {
  if (report.ok) return `released ${report.app} to production on ${report.sites.map((s) => s.site).join(', ')}`;
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
