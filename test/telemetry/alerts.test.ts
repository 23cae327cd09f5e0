/**
 * Every log alert of the compiled prod template, evaluated on the telemetry of its failure: the
 * apps' code runs each failure (uploads while the store is down, register with a broken key, a
 * region whose signing fails, purges the edge refuses, blob storage gone, a publisher that was down
 * for hours...) with the Azure Monitor distro exporting to the ingestion stand-in; what arrived
 * becomes workspace rows (AppMetrics, ...), and each rule's own query, window, aggregation and
 * threshold are applied to them (test/support/alert-evaluation.ts). Each alert fires on its
 * failure, and no alert fires on a healthy hour of the same telemetry.
 *
 * A new alert is one entry in infra/monitoring.ts `logAlerts` plus its row in `CASES` below.
 */
import { StoreUnavailableError, type Exposure } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import type { ArmResource } from '../../infra/arm';
import { regionStaleMinutes, THRESHOLDS } from '../../infra/monitoring';
import { deploymentProfile } from '../../infra/profiles';
import { compileDeployment } from '../../infra/template';
import { silentLogger } from '../../platform/log';
import { startTelemetry, type Telemetry } from '../../platform/telemetry';
import type { BlobWriter } from '../../publisher/blob/blob-writer';
import { createMemoryPublisher } from '../../publisher/memory-publisher';
import type { Purger } from '../../publisher/purgers/purger';
import { publishExports } from '../../publisher/run';
import { publishWithTelemetry, recordingCalls } from '../../publisher/run-telemetry';
import { scheduleOf } from '../../publisher/signers/schedule';
import { importFromPeers } from '../../publisher/federation/import-timer';
import type { Peer } from '../../publisher/federation/peer';
import { MemoryBlobWriter } from '../../publisher/blob/memory-blob-writer';
import { evaluateLogAlert, type Firing } from '../support/alert-evaluation';
import { peerFile, peerKey, peerKeys, startPeerStandIn, tampered, type PeerStandIn } from '../support/peer-stand-in';
import { createApiFixture, dailyKeys, type ApiFixture } from '../support/api-fixture';
import { startIngestionStandIn, type IngestionStandIn } from '../support/ingestion-stand-in';
import { exposureAt, TEST_SETTINGS } from '../support/publisher-harness';
import { merged, shifted, workspaceRows, type WorkspaceTables } from '../support/workspace-rows';

const HOUR = 3600;
const REGIONS = ['440', '441'];

type Scenario = 'healthy' | 'storeDown' | 'allUploadsFailing' | 'refusals' | 'registerBroken' | 'signingFails' | 'purgesFail' | 'blobStorageGone' | 'publisherWasDown' | 'peerFileMissing' | 'peerTampered';

const PEER_PORT = 20908;
let standIn: IngestionStandIn;
let peerServer: PeerStandIn;
let telemetry: Telemetry;
const tables = {} as Record<Scenario, WorkspaceTables>;
const rules = new Map<string, ArmResource>();

/** Runs `work`, flushes what it recorded and keeps the rows that arrived meanwhile. */
async function scenario(name: Scenario, work: () => Promise<void>): Promise<void> {
  const mark = standIn.received.length;
  await work();
  await telemetry.flush();
  tables[name] = workspaceRows(standIn.received.slice(mark));
}

function api(): ApiFixture {
  return createApiFixture({ metrics: telemetry.metrics, sleep: async () => undefined });
}

async function uploads(fixture: ApiFixture, counts: { stored?: number; failed?: number; refused?: number; chaff?: number }): Promise<void> {
  const caller = await fixture.callerHeaders();
  const insert = fixture.store.insert.bind(fixture.store);
  for (let i = 0; i < (counts.stored ?? 0); i++) expect((await fixture.invoke('publish', { headers: caller, body: await fixture.publishBody(dailyKeys(3)) })).status).toBe(200);
  fixture.store.insert = async () => {
    throw new StoreUnavailableError('the store is down');
  };
  for (let i = 0; i < (counts.failed ?? 0); i++) expect((await fixture.invoke('publish', { headers: caller, body: await fixture.publishBody(dailyKeys(3)) })).status).toBe(503);
  fixture.store.insert = insert;
  for (let i = 0; i < (counts.refused ?? 0); i++) expect((await fixture.invoke('publish', { headers: caller, body: await fixture.publishBody(dailyKeys(3), {}, { hmacKey: Buffer.from('not the key').toString('base64') }) })).status).toBe(401);
  const body = await fixture.publishBody(dailyKeys(3));
  for (let i = 0; i < (counts.chaff ?? 0); i++) expect((await fixture.invoke('publish', { headers: { 'x-chaff': '1' }, body: { ...body, verificationPayload: 'x' } })).status).toBe(200);
}

/** Keys of region 440 in the newest closed window (a publish lag of minutes), or `hoursLate` behind. */
function keysToPublish(hoursLate = 0): Exposure[] {
  const now = Math.floor(Date.now() / 1000);
  const closedWindowEnd = Math.floor((now - TEST_SETTINGS.safetyMarginSeconds) / HOUR) * HOUR;
  const publishAt = hoursLate > 0 ? now - hoursLate * HOUR : closedWindowEnd - 60;
  return Array.from({ length: 5 }, () => exposureAt('440', publishAt));
}

const fail = (what: string, name = 'RestError') => async (): Promise<never> => {
  throw Object.assign(new Error(`${what} unavailable`), { name, statusCode: 503 });
};

/** A blob container whose every call fails, as when the account cannot be reached. */
function unreachable(writer: BlobWriter): BlobWriter {
  return new Proxy(writer, { get: (target, property) => (typeof Reflect.get(target, property) === 'function' ? fail('storage') : Reflect.get(target, property)) });
}

async function publisherRuns(runs: number, parts: { exposures?: Exposure[]; signingFails?: boolean; purger?: Purger; blobsGone?: boolean } = {}): Promise<void> {
  const store = new MemoryExposureStore();
  await store.insert(parts.exposures ?? []);
  const publisher = await createMemoryPublisher({ ...TEST_SETTINGS, regions: REGIONS }, { store, ...(parts.purger ? { purger: parts.purger } : {}) });
  if (parts.signingFails) for (const { signer } of scheduleOf(publisher.signer).entries) signer.sign = fail('Key Vault');
  const deps = recordingCalls(parts.blobsGone ? { ...publisher, exports: unreachable(publisher.exports), state: unreachable(publisher.state) } : publisher, telemetry.metrics);
  for (let run = 0; run < runs; run++) await publishWithTelemetry(() => publishExports(deps), { metrics: telemetry.metrics, logger: silentLogger });
}

/**
 * Imports from peer `de` (a stand-in on loopback) through the publisher's own scheduled import,
 * `runs` times: its index names one good file, then `second` (a tampered file, or a file it does not serve).
 */
async function peerImports(runs: number, second?: 'missing' | 'tampered'): Promise<void> {
  const key = peerKey('DE', 'v1');
  const end = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const good = await peerFile(key, 'DE', end - HOUR, peerKeys(end - HOUR, 2));
  const names = [`v1/DE/${end - 2 * HOUR}-${end - HOUR}-00001.zip`, `v1/DE/${end - HOUR}-${end}-00001.zip`];
  peerServer.answers.clear();
  peerServer.answers.set('/v1/DE/index.txt', { body: (second ? names : names.slice(0, 1)).join('\n') });
  peerServer.answers.set(`/${names[0]}`, { body: good });
  if (second === 'tampered') peerServer.answers.set(`/${names[1]}`, { body: await tampered(good) });
  const peer: Peer = { name: 'de', indexUrl: `${peerServer.url}/v1/DE/index.txt`, indexFormat: 'keyfront', publicKey: key.publicKeyPem, keyId: 'DE', keyVersion: 'v1', sourceRegion: 'DE', intoRegion: '440' };
  const deps = { store: new MemoryExposureStore(), state: new MemoryBlobWriter('publisher-state'), logger: silentLogger };
  await deps.state.ensureContainer({ publicRead: false });
  for (let run = 0; run < runs; run++) {
    // A refused file is never fetched again: each run of the tampered case starts from scratch, as a new peer file would.
    if (second === 'tampered') await deps.state.delete('federation/de.json');
    await importFromPeers(deps, { peers: [peer], peerTimeoutInMs: 2000, leaseSeconds: 15 }, { metrics: telemetry.metrics });
  }
}

beforeAll(async () => {
  standIn = await startIngestionStandIn();
  peerServer = await startPeerStandIn(PEER_PORT);
  telemetry = startTelemetry({ connectionString: standIn.connectionString }, { ca: standIn.ca, offlineStorage: false });
  for (const resource of compileDeployment(deploymentProfile('prod')).resources) {
    if (resource.type === 'Microsoft.Insights/scheduledQueryRules') rules.set(resource.name.replace(/^[^-]+-/, ''), resource);
  }
  await scenario('healthy', async () => {
    const fixture = api();
    await uploads(fixture, { stored: 20, refused: 4, chaff: 10 });
    await fixture.register();
    await publisherRuns(1, { exposures: keysToPublish() });
    await peerImports(1);
  });
  await scenario('storeDown', () => uploads(api(), { stored: 16, failed: 6, refused: 5, chaff: 5 }));
  await scenario('allUploadsFailing', () => uploads(api(), { failed: 2, refused: 1 }));
  await scenario('refusals', () => uploads(api(), { stored: 4, refused: 21, chaff: 10 }));
  await scenario('registerBroken', async () => {
    const fixture = api();
    expect((await fixture.invoke('register')).status).toBe(201);
    // The register keys' current version names no key (a secret rotated by half): every call fails.
    const config = fixture.runtime.config;
    fixture.runtime.config = { ...config, registerKeys: { current: 'v9', keys: new Map() } };
    for (let i = 0; i < 3; i++) expect((await fixture.invoke('register')).status).toBe(500);
    fixture.runtime.config = config;
  });
  await scenario('signingFails', () => publisherRuns(2, { exposures: keysToPublish(), signingFails: true }));
  await scenario('purgesFail', () => publisherRuns(2, { exposures: keysToPublish(), purger: { name: 'refused', purge: fail('Front Door') } }));
  await scenario('blobStorageGone', () => publisherRuns(2, { blobsGone: true }));
  await scenario('publisherWasDown', () => publisherRuns(1, { exposures: keysToPublish(3) }));
  await scenario('peerFileMissing', () => peerImports(3, 'missing'));
  await scenario('peerTampered', () => peerImports(2, 'tampered'));
  await telemetry.shutdown();
}, 120_000);

afterAll(async () => {
  await telemetry?.shutdown();
  await standIn?.stop();
  await peerServer?.stop();
});

function firing(alert: string, rows: WorkspaceTables, now = new Date()): Firing[] {
  const rule = rules.get(alert);
  if (!rule) throw new Error(`no alert ${alert} in the prod template`);
  return evaluateLogAlert(rule, rows, now).firing;
}

/** Each alert, the failure it is for, and what it says then (the split dimension's values, or `{}`). */
const CASES: ReadonlyArray<[alert: string, failure: Scenario, fires: Array<Record<string, unknown>>]> = [
  ['upload-failures', 'storeDown', [{}]],
  ['uploads-all-failing', 'allUploadsFailing', [{}]],
  ['upload-refusal-spike', 'refusals', [{}]],
  ['register-failures', 'registerBroken', [{}]],
  ['region-stale', 'signingFails', [{ Region: '440' }]],
  ['publish-lag', 'publisherWasDown', [{ Region: '440' }]],
  ['publisher-silent', 'blobStorageGone', [{}]],
  // Every region's index changed (441 got its first, empty one), and the edge refuses every purge.
  ['purge-failures', 'purgesFail', [{ Region: '440' }, { Region: '441' }]],
  ['store-errors', 'storeDown', [{ App: expect.any(String) }]],
  ['blob-errors', 'blobStorageGone', [{ App: expect.any(String) }]],
  ['signing-failures', 'signingFails', [{}]],
  // The peer's index names a file it does not serve: every import stops before it, none completes.
  ['peer-stale', 'peerFileMissing', [{ Peer: 'de' }]],
  ['peer-refusals', 'peerTampered', [{ Peer: 'de' }]],
];

describe('alerts of the prod template on the telemetry of their failures', () => {
  it('has a case for every log alert the template deploys, and the cases cover no other', () => {
    expect(CASES.map(([alert]) => alert).sort()).toEqual([...rules.keys()].sort());
  });

  it.each(CASES)('%s fires on %s', (alert, failure, fires) => {
    expect(firing(alert, tables[failure]).map((fired) => fired.dimensions).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(fires);
  });

  it.each([...CASES.map(([alert]) => alert)])('%s stays quiet on a healthy hour (uploads, refusals, chaff, register, a run that published and purged)', (alert) => {
    expect(firing(alert, tables.healthy)).toEqual([]);
  });

  it('counts failed uploads, not refusals or chaff: refusals alone do not fire upload-failures, and chaff does not dilute a refusal spike', () => {
    expect(firing('upload-failures', tables.refusals)).toEqual([]);
    expect(firing('upload-failures', tables.allUploadsFailing)).toEqual([]); // two uploads: below the rate rule's volume
    expect(firing('upload-refusal-spike', tables.refusals)[0].value).toBeCloseTo((100 * 21) / 25, 5);
  });

  it('the low-volume rule needs no upload stored; one stored upload in the window silences it', () => {
    expect(firing('uploads-all-failing', merged(tables.allUploadsFailing, tables.storeDown))).toEqual([]);
  });

  it(`region-stale: a region whose last success is older than its window (${regionStaleMinutes(THRESHOLDS.prod)} minutes, from the schedule) fires; a success inside it does not`, () => {
    const window = regionStaleMinutes(THRESHOLDS.prod);
    const success440 = tables.purgesFail; // runs where 440 was done
    expect(firing('region-stale', merged(shifted(success440, -(window + 5) * 60_000), tables.signingFails)).map((fired) => fired.dimensions)).toEqual([{ Region: '440' }]);
    expect(firing('region-stale', merged(shifted(success440, -(window - 5) * 60_000), tables.signingFails))).toEqual([]);
    // Both regions fail when blob storage is gone.
    expect(firing('region-stale', tables.blobStorageGone).map((fired) => fired.dimensions).sort((a, b) => String(a.Region).localeCompare(String(b.Region)))).toEqual([{ Region: '440' }, { Region: '441' }]);
  });

  it('publisher-silent fires over a window with no telemetry at all, and not after a done run', () => {
    expect(firing('publisher-silent', workspaceRows([]))).toEqual([{ dimensions: {}, value: 0 }]);
    expect(firing('publisher-silent', tables.signingFails)).toEqual([]); // region 441 was done
  });
});
