/**
 * The stack of the write-side drills (cosmos, origin), on fresh loopback ports: the Cosmos
 * emulator behind a switch (so it can become unreachable without losing its data), Azurite, one
 * or two API hosts sharing the store, the local edge in front of them, the publisher, and the
 * phones (syncing and uploading) through the edge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { loadApiConfig } from '../../../api/config';
import { createApiRuntime } from '../../../api/runtime';
import { localEdgeEnvironment } from '../../../edge-config/config';
import { keyfrontEdge } from '../../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../../edge-config/validate';
import { CosmosExposureStore, ensureExposuresContainer } from '../../../exposures/cosmos-store';
import { silentLogger } from '../../../platform/log';
import { LocalEdgePurger } from '../../../publisher/purgers/local-edge';
import { prepareStorage } from '../../../publisher/setup';
import { startApiHost, type ApiHost } from '../../local-stack/api-host';
import { startAzurite, type Azurite } from '../../local-stack/azurite';
import { cosmosEmulatorClientOptions, startCosmosEmulator, type CosmosEmulator } from '../../local-stack/cosmos-emulator';
import { createDevMaterial, devApiEnvironment, type DevMaterial } from '../../local-stack/dev-material';
import { auditPublished, danglingThroughEdge } from './audit';
import { DRILL_REGION, drillPublisherDeps, drillSigning } from './drill-stack';
import { PhoneFleet } from './fleet';
import { PublisherLoop } from './publisher-loop';
import type { DrillPlan, DrillProgress } from '../plan';
import { TcpSwitch } from './tcp-switch';
import { UploadLoad } from './upload-load';

export interface WriteDrillStackOptions {
  apiOrigins: 1 | 2;
  phones: number;
  syncIntervalInMs: number;
  publishIntervalInMs: number;
  uploaders: number;
  uploadPauseInMs: number;
}

export interface WriteDrillStack {
  material: DevMaterial;
  cosmos: CosmosEmulator;
  cosmosSwitch: TcpSwitch;
  store: CosmosExposureStore;
  azurite: Azurite;
  apiHosts: ApiHost[];
  edge: LocalEdge;
  publisher: PublisherLoop;
  fleet: PhoneFleet;
  uploads: UploadLoad;
  stop(): Promise<void>;
}

export async function startWriteDrillStack(options: WriteDrillStackOptions): Promise<WriteDrillStack> {
  const stops: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    const material = createDevMaterial();
    const cosmos = await startCosmosEmulator();
    stops.push(() => cosmos.stop());
    const cosmosSwitch = new TcpSwitch(cosmos.port);
    await cosmosSwitch.on();
    stops.push(() => cosmosSwitch.off());
    // Everyone reaches Cosmos through the switch, as apps reach the service over the network.
    const client = new CosmosClient(cosmosEmulatorClientOptions(`https://127.0.0.1:${cosmosSwitch.port}`));
    stops.push(() => client.dispose());
    const store = new CosmosExposureStore({ container: await ensureExposuresContainer(client), shards: 4 });

    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const config = loadApiConfig({ ...devApiEnvironment(material, DRILL_REGION), KEYFRONT_STORE: 'memory' });
    const apiHosts: ApiHost[] = [];
    for (let i = 0; i < options.apiOrigins; i++) {
      const host = await startApiHost({ runtime: createApiRuntime(config, { store, logger: silentLogger, healthCacheInMs: 500 }) });
      apiHosts.push(host);
      stops.push(() => host.stop());
    }
    const environment = { ...localEdgeEnvironment({ api: apiHosts[0].url, blobPrimary: azurite.blobEndpoint, probeRegion: DRILL_REGION }), apiOrigins: apiHosts.map((host) => ({ url: host.url })) };
    const edge = await startLocalEdge(validateEdgeDeclaration(keyfrontEdge(environment), 'local'), { frontDoorId: material.frontDoorId, probeIntervalInMs: 500 });
    stops.push(() => edge.stop());

    const signing = drillSigning();
    const deps = drillPublisherDeps(azurite.connectionString, { store, signer: signing.signer, purger: new LocalEdgePurger(edge.adminUrl) });
    await prepareStorage(deps);
    const publisher = new PublisherLoop(deps, options.publishIntervalInMs);
    // Phones start against a service that has published: the first run writes the index.
    await publisher.runOnce();
    publisher.start();
    stops.push(() => publisher.stop());
    const fleet = new PhoneFleet({ baseUrl: edge.url, region: DRILL_REGION, publicKeyPem: signing.publicKeyPem, phones: options.phones, syncIntervalInMs: options.syncIntervalInMs });
    fleet.start();
    stops.push(() => fleet.stop());
    const uploads = new UploadLoad({ baseUrl: edge.url, material, concurrency: options.uploaders, pauseInMs: options.uploadPauseInMs });
    uploads.start();
    stops.push(() => uploads.stop());
    return { material, cosmos, cosmosSwitch, store, azurite, apiHosts, edge, publisher, fleet, uploads, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface WriteDrillEnd {
  acceptedUploads: number;
  failedUploads: number;
  /** Accepted uploads with a key that is neither stored nor published. */
  lostUploads: number;
  failedSyncs: number;
  danglingIndexEntries: number;
  duplicateKeys: number;
  keysPublished: number;
  filesInIndex: number;
}

/**
 * Ends a write drill: uploads stop, the publisher catches up, every phone syncs once more, and
 * storage is audited against every key the API accepted.
 */
export async function settleWriteDrill(stack: WriteDrillStack, danglingSeen: Set<string>): Promise<WriteDrillEnd> {
  await stack.uploads.stop();
  await stack.publisher.stop();
  const accepted = stack.uploads.events.filter((event) => event.ok);
  const acceptedKeys = new Set(accepted.flatMap((event) => event.keys));
  let audit = await auditPublished(stack.publisher.deps.exports, DRILL_REGION, acceptedKeys);
  for (let attempt = 0; attempt < 5 && audit.missingKeys.length > 0; attempt++) {
    await stack.publisher.runOnce();
    audit = await auditPublished(stack.publisher.deps.exports, DRILL_REGION, acceptedKeys);
  }
  await stack.fleet.stop();
  await stack.fleet.syncAll();
  for (const name of [...audit.danglingIndexEntries, ...(await danglingThroughEdge(stack.edge.url, DRILL_REGION))]) danglingSeen.add(name);
  const missing = new Set(audit.missingKeys);
  return {
    acceptedUploads: accepted.length,
    failedUploads: stack.uploads.events.length - accepted.length,
    lostUploads: accepted.filter((event) => event.keys.some((key) => missing.has(key))).length,
    failedSyncs: stack.fleet.events.filter((event) => !event.ok).length,
    danglingIndexEntries: danglingSeen.size,
    duplicateKeys: audit.duplicateKeys,
    keysPublished: audit.keysPublished,
    filesInIndex: audit.indexEntries,
  };
}

/** Checks, every second until stopped, that the index the edge serves names only files it serves. */
export function watchIndex(stack: WriteDrillStack, danglingSeen: Set<string>): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const name of await danglingThroughEdge(stack.edge.url, DRILL_REGION).catch(() => [])) danglingSeen.add(name);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/** The first failure among `events`, for the report (what to look at when a figure is not 0). */
export function firstFailure(events: ReadonlyArray<{ ok: boolean; code?: string; message?: string }>, name: string): Record<string, string> {
  const failed = events.find((event) => !event.ok);
  return failed ? { [name]: `${failed.code ?? 'failed'}: ${failed.message ?? ''}`.trim() } : {};
}

/** A write drill under way: its stack, the index watch, and what the watch has seen. */
export interface WriteDrillRun {
  stack: WriteDrillStack;
  danglingSeen: Set<string>;
  stopWatching: () => Promise<void>;
}

/**
 * The first two steps of a write drill (plan steps 0 and 1): start the stack and watch the index,
 * then run normally for `steadyInMs`. If starting fails, nothing is left running.
 */
export async function beginWriteDrill(plan: DrillPlan, progress: DrillProgress, stackOptions: WriteDrillStackOptions, steadyInMs: number, abortSignal?: AbortSignal): Promise<WriteDrillRun> {
  progress.step(0, plan.steps[0]);
  const stack = await startWriteDrillStack(stackOptions);
  const danglingSeen = new Set<string>();
  const stopWatching = watchIndex(stack, danglingSeen);
  try {
    progress.step(1, plan.steps[1]);
    await sleep(steadyInMs, undefined, { signal: abortSignal });
    progress.note(`${stack.uploads.events.filter((e) => e.ok).length} uploads accepted so far`);
    return { stack, danglingSeen, stopWatching };
  } catch (error) {
    await stopWatching();
    await stack.stop();
    throw error;
  }
}
