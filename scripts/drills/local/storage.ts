/**
 * The local storage drill: the exports account's primary dies while phones sync and the publisher
 * publishes; the edge moves reads to the RA-GRS secondary, the secondary is promoted, and the
 * publisher resumes there, re-publishing what the lost writes held.
 *
 * Measured: RPO (age of the oldest primary write the secondary lacked at the cut, and the files
 * and keys that were only on the primary), RTO (until phones read again, until publishing
 * resumed), syncs that failed after their retries, index entries naming a missing file, and keys
 * lost or published twice after recovery.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { localEdgeEnvironment } from '../../../edge-config/config';
import { keyfrontEdge } from '../../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../../edge-config/validate';
import { openExport } from '../../../proto/codec';
import { AzureBlobWriter } from '../../../publisher/blob/azure-blob-writer';
import { LocalEdgePurger } from '../../../publisher/purgers/local-edge';
import type { PublisherDeps } from '../../../publisher/publisher-deps';
import { prepareStorage } from '../../../publisher/setup';
import { startAzurite, type Azurite } from '../../local-stack/azurite';
import type { Drill, DrillPlan, DrillProgress } from '../plan';
import { drillPassed, type DrillReport } from '../report';
import { auditPublished, danglingThroughEdge } from './audit';
import { drillExposures, hexOf } from './drill-keys';
import { DRILL_FRONT_DOOR_ID, DRILL_REGION, drillPublisherDeps, drillSigning, startDrillCosmos, type DrillCosmos } from './drill-stack';
import { PhoneFleet } from './fleet';
import { PublisherLoop } from './publisher-loop';
import { Replicator } from './replicator';
import { firstFailure } from './write-stack';

export interface StorageDrillOptions {
  phones: number;
  replicationLagInMs: number;
  /** Normal operation before the primary dies. */
  steadyInMs: number;
  /** From the primary's death until the secondary is promoted. */
  outageInMs: number;
  /** Normal operation on the promoted secondary. */
  recoveryInMs: number;
  syncIntervalInMs: number;
  publishIntervalInMs: number;
  uploadIntervalInMs: number;
  keysPerUpload: number;
}

export const STORAGE_DRILL_DEFAULTS: StorageDrillOptions = {
  phones: 100,
  replicationLagInMs: 5000,
  steadyInMs: 20_000,
  outageInMs: 10_000,
  recoveryInMs: 15_000,
  syncIntervalInMs: 3000,
  publishIntervalInMs: 2000,
  uploadIntervalInMs: 1000,
  keysPerUpload: 14,
};

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function storageDrillPlan(options: StorageDrillOptions): DrillPlan {
  return {
    drill: 'storage',
    target: 'local',
    summary: `the exports account's primary dies under ${options.phones} syncing phones and continuous publishing; reads fail over to the RA-GRS secondary (${seconds(options.replicationLagInMs)} behind), which is then promoted`,
    touches: ['its own Cosmos emulator, two Azurite processes, the local edge and a publisher, on fresh loopback ports; nothing of a running stack'],
    steps: [
      { title: 'start', detail: 'Cosmos emulator, primary and secondary Azurite, the replicator, the local edge with both blob origins, the publisher on the primary' },
      { title: 'steady', detail: `${seconds(options.steadyInMs)}: ${options.keysPerUpload} keys uploaded every ${seconds(options.uploadIntervalInMs)}, published every ${seconds(options.publishIntervalInMs)}, ${options.phones} phones syncing every ~${seconds(options.syncIntervalInMs)}` },
      { title: 'cut', detail: 'note what the secondary lacks (the RPO), then kill the primary Azurite (SIGKILL) and stop replication' },
      { title: 'outage', detail: `${seconds(options.outageInMs)}: phones read through the edge from the secondary; publisher runs fail cleanly` },
      { title: 'promote', detail: 'the publisher writes to the secondary from now on; it re-publishes what only the primary held' },
      { title: 'recovery', detail: `${seconds(options.recoveryInMs)} of normal operation on the secondary` },
      { title: 'drain and audit', detail: 'uploads stop, the publisher catches up, every phone syncs once more; the index, the files and the keys are checked' },
    ],
  };
}

interface Running {
  cosmos?: DrillCosmos;
  primary?: Azurite;
  secondary?: Azurite;
  replicator?: Replicator;
  edge?: LocalEdge;
  fleet?: PhoneFleet;
  publisher?: PublisherLoop;
}

export function storageDrill(options: StorageDrillOptions = STORAGE_DRILL_DEFAULTS): Drill {
  const plan = storageDrillPlan(options);
  return { plan, execute: (progress, abortSignal) => executeStorageDrill(plan, options, progress, abortSignal) };
}

async function executeStorageDrill(plan: DrillPlan, options: StorageDrillOptions, progress: DrillProgress, abortSignal?: AbortSignal): Promise<DrillReport> {
  const started = Date.now();
  const running: Running = {};
  try {
    progress.step(0, plan.steps[0]);
    running.cosmos = await startDrillCosmos();
    [running.primary, running.secondary] = await Promise.all([startAzurite(), startAzurite()]);
    const { primary, secondary, cosmos } = running;
    const signing = drillSigning();
    // Both accounts get the same containers, as geo-replication has them.
    await prepareStorage(drillPublisherDeps(primary.connectionString, { store: cosmos.store, signer: signing.signer, purger: { name: 'none', purge: async () => undefined } }));
    await prepareStorage(drillPublisherDeps(secondary.connectionString, { store: cosmos.store, signer: signing.signer, purger: { name: 'none', purge: async () => undefined } }));
    running.replicator = new Replicator({ primary: primary.connectionString, secondary: secondary.connectionString, containers: ['exports', 'publisher-state'], lagInMs: options.replicationLagInMs });
    await running.replicator.start();
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: primary.blobEndpoint, blobSecondary: secondary.blobEndpoint, probeRegion: DRILL_REGION })), 'local');
    running.edge = await startLocalEdge(declaration, { frontDoorId: DRILL_FRONT_DOOR_ID, probeIntervalInMs: 500 });
    const edge = running.edge;
    const purger = new LocalEdgePurger(edge.adminUrl);
    // The publisher reads the secondary's Last Sync Time as it would from Get Blob Service Stats.
    const replicator = running.replicator;
    const geoReplication = { lastSyncTime: async () => (replicator.status.lastSyncTime > 0 ? Math.floor(replicator.status.lastSyncTime / 1000) : undefined) };
    const deps: PublisherDeps = { ...drillPublisherDeps(primary.connectionString, { store: cosmos.store, signer: signing.signer, purger }), replication: { source: geoReplication, maxWaitSeconds: 900 } };

    // The activities: uploads into the store, publisher runs, phone syncs, index checks.
    const accepted = new Set<string>();
    /** Dangling index entries, with when they were first seen (ms since the drill began). */
    const danglingSeen = new Map<string, number>();
    const sawDangling = (names: readonly string[]) => {
      for (const name of names) if (!danglingSeen.has(name)) danglingSeen.set(name, Date.now() - started);
    };
    let stopUploads = false;
    let stopChecks = false;
    const uploads = (async () => {
      while (!stopUploads && !abortSignal?.aborted) {
        const exposures = drillExposures(DRILL_REGION, options.keysPerUpload, Math.floor(Date.now() / 1000));
        await cosmos.store.insert(exposures);
        for (const exposure of exposures) accepted.add(hexOf(exposure.tek.keyData));
        await sleep(options.uploadIntervalInMs);
      }
    })();
    const publisher = new PublisherLoop(deps, options.publishIntervalInMs);
    running.publisher = publisher;
    publisher.start();
    const checks = (async () => {
      while (!stopChecks && !abortSignal?.aborted) {
        sawDangling(await danglingThroughEdge(edge.url, DRILL_REGION).catch(() => []));
        await sleep(1000);
      }
    })();
    // Phones start against a service that has published: wait for the first index.
    for (let attempt = 0; attempt < 30 && !(await publisher.deps.exports.read(`v1/${DRILL_REGION}/index.txt`)); attempt++) await sleep(500);
    running.fleet = new PhoneFleet({ baseUrl: edge.url, region: DRILL_REGION, publicKeyPem: signing.publicKeyPem, phones: options.phones, syncIntervalInMs: options.syncIntervalInMs });
    const fleet = running.fleet;
    fleet.start();

    progress.step(1, plan.steps[1]);
    await sleep(options.steadyInMs, undefined, { signal: abortSignal });
    progress.note(`${accepted.size} keys uploaded, ${publisher.filesWritten} files published, ${fleet.events.filter((e) => e.ok).length} phone syncs so far`);

    progress.step(2, plan.steps[2]);
    const missing = await running.replicator.unreplicated();
    let keysOnlyOnPrimary = 0;
    const primaryExports = AzureBlobWriter.fromConnectionString(primary.connectionString, 'exports');
    for (const blob of missing.filter((b) => b.container === 'exports' && b.name.endsWith('.zip'))) {
      const zip = await primaryExports.read(blob.name);
      if (zip) keysOnlyOnPrimary += (await openExport(zip.data)).export.keys.length;
    }
    const lastSyncTime = running.replicator.status.lastSyncTime;
    primary.process.kill('SIGKILL');
    const cutAt = Date.now();
    await running.replicator.stop();
    publisher.abortRun();
    const rpoMs = missing.length === 0 ? 0 : cutAt - Math.min(...missing.map((b) => b.lastModified));
    progress.note(`primary killed; the secondary lacked ${missing.length} blobs (${missing.filter((b) => b.name.endsWith('.zip')).length} export files, ${keysOnlyOnPrimary} keys); last sync ${seconds(cutAt - lastSyncTime)} before the cut`);

    progress.step(3, plan.steps[3]);
    await sleep(options.outageInMs, undefined, { signal: abortSignal });

    progress.step(4, plan.steps[4]);
    publisher.abortRun();
    // The promoted account has no secondary (LRS until geo-replication is configured again): no gate.
    publisher.deps = drillPublisherDeps(secondary.connectionString, { store: cosmos.store, signer: signing.signer, purger });
    const promotedAt = Date.now();

    progress.step(5, plan.steps[5]);
    await sleep(options.recoveryInMs, undefined, { signal: abortSignal });

    progress.step(6, plan.steps[6]);
    stopUploads = true;
    await uploads;
    await publisher.stop();
    // The last uploads' windows close by the publisher's clock; a few runs publish them all.
    let audit = await auditPublished(publisher.deps.exports, DRILL_REGION, accepted);
    for (let attempt = 0; attempt < 5 && audit.missingKeys.length > 0; attempt++) {
      await publisher.runOnce();
      audit = await auditPublished(publisher.deps.exports, DRILL_REGION, accepted);
    }
    await fleet.stop();
    stopChecks = true;
    await checks;
    // The end state: every phone syncs once more, and the index the edge serves is whole.
    const syncsBeforeEnd = fleet.events.length;
    await fleet.syncAll();
    sawDangling(await danglingThroughEdge(edge.url, DRILL_REGION));
    sawDangling(audit.danglingIndexEntries);

    const firstReadAfterCut = fleet.events.filter((e) => e.ok && e.startedAt >= cutAt).reduce((min, e) => Math.min(min, e.endedAt), Number.POSITIVE_INFINITY);
    const firstPublishAfterPromotion = publisher.firstOkSince(promotedAt) ?? Number.POSITIVE_INFINITY;
    const readRtoMs = firstReadAfterCut - cutAt;
    const publishRtoMs = firstPublishAfterPromotion - cutAt;
    const failedSyncs = fleet.events.filter((e) => !e.ok).length;
    const phonesInSync = Array.from({ length: fleet.size }, (_, i) => fleet.filesOf(i).length).filter((n) => n === audit.indexEntries).length;
    const figures = {
      rpoSeconds: rpoMs / 1000,
      rtoSeconds: Math.max(readRtoMs, publishRtoMs) / 1000,
      failedSyncs,
      lostUploads: audit.missingKeys.length,
      danglingIndexEntries: danglingSeen.size,
      duplicateKeys: audit.duplicateKeys,
    };
    return {
      drill: 'storage',
      target: 'local',
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      ...figures,
      details: {
        phones: options.phones,
        replicationLagSeconds: options.replicationLagInMs / 1000,
        lastSyncAgeAtCutSeconds: (cutAt - lastSyncTime) / 1000,
        blobsOnlyOnPrimary: missing.length,
        filesOnlyOnPrimary: missing.filter((b) => b.name.endsWith('.zip')).length,
        keysOnlyOnPrimary,
        readRtoSeconds: readRtoMs / 1000,
        publishRtoSeconds: publishRtoMs / 1000,
        publishRunsFailed: publisher.runs.filter((r) => !r.ok).length,
        phoneSyncs: fleet.events.length,
        phoneSyncsAtEnd: fleet.events.length - syncsBeforeEnd,
        phonesInSyncAtEnd: phonesInSync,
        keysAccepted: accepted.size,
        keysPublished: audit.keysPublished,
        filesInIndex: audit.indexEntries,
        cutAtSeconds: (cutAt - started) / 1000,
        promotedAtSeconds: (promotedAt - started) / 1000,
        ...(danglingSeen.size > 0 ? { danglingSeen: [...danglingSeen].map(([name, at]) => `${name} at ${(at / 1000).toFixed(1)} s`).join(', ') } : {}),
        ...firstFailure(fleet.events, 'firstFailedSync'),
      },
      passed: drillPassed(figures) && Number.isFinite(readRtoMs) && Number.isFinite(publishRtoMs),
    };
  } finally {
    await running.publisher?.stop();
    await running.fleet?.stop();
    await running.replicator?.stop();
    await running.edge?.stop();
    await Promise.all([running.primary?.stop(), running.secondary?.stop()]);
    await running.cosmos?.emulator.stop();
  }
}
