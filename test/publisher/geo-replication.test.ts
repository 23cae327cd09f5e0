/**
 * The index and geo-replication, on Azurite: a new file enters the index only once the account's
 * Last Sync Time has passed its creation, so a failover to the secondary never finds an index
 * naming a file the secondary lacks. A file the index named stays named, whatever the secondary says.
 */
import type { CosmosExposureStore } from '../../exposures/cosmos-store';
import { indexTxtName } from '../../publisher/export-names';
import { publishExports } from '../../publisher/run';
import { exposuresInWindow, harnessDeps, HOUR, readPublished, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: CosmosExposureStore;

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('geo-replication-test');
});

afterAll(async () => {
  await h?.stop();
});

describe('publisher runs with geo-replication', () => {
  it('names a new file in the index only after the last sync time passed its creation', async () => {
    const region = 'geo1';
    await store.insert(exposuresInWindow(region, T0, 3));
    let lastSync: number | undefined;
    const deps = { ...harnessDeps(h, store, { regions: [region] }), replication: { source: { lastSyncTime: async () => lastSync }, maxWaitSeconds: 900 } };
    const wall = T0 + 2 * HOUR;
    const run = () => publishExports(deps, { now: new Date(wall * 1000), wallClock: () => wall * 1000 });

    const first = (await run()).regions[0];
    expect(first).toMatchObject({ status: 'done', filesAwaitingReplication: 1 });
    expect(first.filesWritten).toHaveLength(1);
    const file = first.filesWritten[0];
    // Written, recorded, but not named: the secondary may not hold it yet.
    expect((await readPublished(h.exports, region)).files.has(file)).toBe(true);
    expect((await h.exports.read(indexTxtName(region)))?.data.toString('utf8') ?? '').not.toContain(file);

    lastSync = wall + 1;
    const second = (await run()).regions[0];
    expect(second).toMatchObject({ status: 'done', filesAwaitingReplication: 0, indexChanged: true });
    expect((await h.exports.read(indexTxtName(region)))!.data.toString('utf8')).toContain(file);

    // The secondary stops answering: the file stays in the index.
    lastSync = undefined;
    const third = (await run()).regions[0];
    expect(third).toMatchObject({ status: 'done', filesAwaitingReplication: 0, indexChanged: false });
    expect((await h.exports.read(indexTxtName(region)))!.data.toString('utf8')).toContain(file);
  });

  it('keeps a new file waiting across runs that read its range again (a window closed early)', async () => {
    const region = 'geo2';
    // The publisher clock closes the window; the wall clock is still inside it, so each run reads it again.
    const wall = T0 + 30 * 60;
    await store.insert(exposuresInWindow(region, T0, 3, 20 * 60));
    let lastSync: number | undefined = wall - 60;
    const deps = { ...harnessDeps(h, store, { regions: [region] }), replication: { source: { lastSyncTime: async () => lastSync }, maxWaitSeconds: 900 } };
    const run = () => publishExports(deps, { now: new Date((T0 + 2 * HOUR) * 1000), wallClock: () => wall * 1000 });

    const first = (await run()).regions[0];
    expect(first).toMatchObject({ status: 'done', filesAwaitingReplication: 1 });
    // Late keys of the same window: the next run writes a further file of the range and records the range anew.
    await store.insert(exposuresInWindow(region, T0 + 20 * 60, 2, 5 * 60));
    const second = (await run()).regions[0];
    expect(second.filesWritten).toHaveLength(1);
    expect(second).toMatchObject({ status: 'done', filesAwaitingReplication: 2 });
    expect((await h.exports.read(indexTxtName(region)))?.data.toString('utf8') ?? '').not.toContain(first.filesWritten[0]);

    lastSync = wall + 1;
    expect((await run()).regions[0]).toMatchObject({ status: 'done', filesAwaitingReplication: 0, indexChanged: true });
    expect((await h.exports.read(indexTxtName(region)))!.data.toString('utf8')).toContain(first.filesWritten[0]);
  });
});
