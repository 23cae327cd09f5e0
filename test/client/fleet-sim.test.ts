/**
 * The fleet simulation reads the production declaration and the publisher's configuration: turning
 * caching off on the exports route sends every request to the origin, a shorter s-maxage on the
 * index refills it more often, and the publisher's privacy floor changes what phones download.
 * Phones in one class are one real sync however many they are. Small fleets, one simulated day,
 * a publisher warm-up of a day, five-minute ticks: a few seconds each.
 */
import type { EdgeDeclaration } from '../../edge-config/declaration';
import { loadAzureEdgeConfig } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { simulateFleet, type FleetConfig, type FleetResult } from '../../scripts/bench/fleet/simulate';

const DECLARATION = validateEdgeDeclaration(keyfrontEdge(loadAzureEdgeConfig({}).environment), 'azure');

const BASE: FleetConfig = {
  phones: 300,
  sites: 3,
  nodesPerSite: 2,
  siteSkew: 1,
  days: 1,
  warmUpHours: 2,
  publisherWarmUpDays: 1,
  tickSeconds: 300,
  pollIntervalSeconds: 4 * 3600,
  pollJitter: 0.25,
  newInstallsPerDay: 0.05,
  offlinePerDay: 0.02,
  offlineDaysMax: 2,
  wrongClocks: 0,
  uploadsPerDay: 100,
  purge: { failureRate: 0, outageMinutesPerDay: 0, delayInMs: { min: 0, max: 0 } },
  originLatencyMs: 80,
  originErrorRate: 0,
  // Files of at least 100 keys: hold mode gathers the 1,000 or so keys uploaded a day into a file every few hours.
  publisherEnv: { KEYFRONT_MIN_KEYS_PER_FILE: '100', KEYFRONT_PADDING_JITTER: '10' },
  declaration: DECLARATION,
  headerBytes: { notModified: 500, index: 600, file: 600, error: 400 },
  bytesPerKey: 17.6,
  cacheMaxBytes: 64 * 1024 * 1024,
  seed: 7,
};

function withoutExportsCaching(declaration: EdgeDeclaration): EdgeDeclaration {
  return { ...declaration, routes: declaration.routes.map((route) => (route.name === 'exports' ? { ...route, cache: undefined } : route)) };
}

let base: FleetResult;

beforeAll(async () => {
  base = await simulateFleet(BASE);
}, 60_000);

describe('the fleet simulation', () => {
  it('runs the publisher and the phones: files published, every phone syncing, nothing failed, almost every read answered by the edge', () => {
    const c = base.counters;
    expect(base.publisher.counters.filesMeasured).toBeGreaterThan(0);
    expect(c.syncs).toBeGreaterThan(BASE.phones * 4);
    expect(c.failedSyncs).toBe(0);
    expect(c.realKeyBytes).toBeGreaterThan(0);
    expect(c.bytesToPhones).toBeGreaterThan(c.realKeyBytes);
    expect(c.originRequests).toBeLessThan(c.clientRequests * 0.1);
    expect(c.phonesInSync).toBeGreaterThan(0);
    expect(base.verify.mismatches).toBe(0);
    // Probes from the declaration: 3 sites x 2 origins x 2 a minute, for each of the two origin groups.
    expect(base.probesPerDay).toEqual({ api: 3 * 2 * 2880, exports: 3 * 2 * 2880 });
  });

  it('sends every request to the origin when the exports route does not cache', async () => {
    const uncached = await simulateFleet({ ...BASE, declaration: withoutExportsCaching(DECLARATION) });
    expect(uncached.counters.originRequests).toBe(uncached.counters.clientRequests);
    expect(base.counters.originRequests).toBeLessThan(uncached.counters.originRequests / 5);
  }, 60_000);

  it('refills the index more often with a shorter s-maxage', async () => {
    const short = await simulateFleet({ ...BASE, indexCacheControl: 'public, max-age=60, s-maxage=600' });
    expect(short.counters.originIndexRequests).toBeGreaterThan(base.counters.originIndexRequests * 1.5);
    // Files are filled once per node either way (give or take the last file of the day reaching a node or not).
    expect(Math.abs(short.counters.originFileRequests - base.counters.originFileRequests)).toBeLessThanOrEqual(BASE.sites * BASE.nodesPerSite);
  }, 60_000);

  it('pads a file for every window with keys under KEYFRONT_PRIVACY_FLOOR=pad, and phones download more', async () => {
    const pad = await simulateFleet({ ...BASE, publisherEnv: { ...BASE.publisherEnv, KEYFRONT_PRIVACY_FLOOR: 'pad' } });
    expect(pad.publisher.counters.filesMeasured).toBeGreaterThan(base.publisher.counters.filesMeasured * 2);
    expect(pad.publisher.counters.realKeysMeasured / pad.publisher.counters.keysMeasured).toBeLessThan(base.publisher.counters.realKeysMeasured / base.publisher.counters.keysMeasured);
    expect(pad.counters.bytesToPhones).toBeGreaterThan(base.counters.bytesToPhones);
  }, 60_000);

  it('runs one real sync per class of phones, however many phones are in it', async () => {
    const many = await simulateFleet({ ...BASE, phones: 30 * BASE.phones });
    expect(many.counters.syncs).toBeGreaterThan(25 * base.counters.syncs);
    expect(many.counters.realSyncs).toBeLessThan(many.counters.syncs / 20);
  }, 60_000);
});
