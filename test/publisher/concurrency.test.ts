/**
 * Two publishers at once: the lock (a blob lease on the region's manifest) lets one work; a
 * publisher that lost its lease mid-run can neither record nor index anything, and its
 * create-only file writes cannot change what the other published.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import type { ExposureStore } from '../../exposures/exposure-store';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import { manifestBlobName } from '../../publisher/manifest';
import type { PublisherDeps } from '../../publisher/publisher-deps';
import { publishExports } from '../../publisher/run';
import type { PublishStep } from '../../publisher/steps';
import { expectComplete, expectConsistent, exposuresInWindow, harnessDeps, hex, HOUR, readPublished, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: ExposureStore;
let regionCount = 0;
const NOW = new Date((T0 + 2 * HOUR + 300) * 1000);

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('concurrency-test');
});

afterAll(async () => {
  await h?.stop();
});

/** A publisher with its own Blob clients, as a second Function instance would have. */
function publisher(region: string): PublisherDeps {
  return {
    ...harnessDeps(h, store, { regions: [region], maxKeysPerFile: 4 }),
    exports: AzureBlobWriter.fromConnectionString(h.azurite.connectionString, 'exports'),
    state: AzureBlobWriter.fromConnectionString(h.azurite.connectionString, 'publisher-state'),
  };
}

async function seed() {
  const region = `c${++regionCount}`;
  const keys = [...exposuresInWindow(region, T0, 10), ...exposuresInWindow(region, T0 + HOUR, 7)];
  await store.insert(keys);
  return { region, keys: keys.map((e) => hex(e.tek.keyData)) };
}

describe('two publishers', () => {
  it('started at the same moment: one publishes, the other finds the lock held and leaves it the work', async () => {
    const { region, keys } = await seed();
    const runs = await Promise.all([publishExports(publisher(region), { now: NOW }), publishExports(publisher(region), { now: NOW })]);
    expect(runs.map((r) => r.regions[0].status).sort()).toEqual(['busy', 'done']);
    const view = await readPublished(h.exports, region);
    await expectConsistent(view, h.publicKey);
    expectComplete(view, { keys });
  });

  it('the second waiting for the lock runs after the first and finds nothing left to publish', async () => {
    const { region, keys } = await seed();
    const runs = await Promise.all([publishExports(publisher(region), { now: NOW, waitForLockInMs: 20_000 }), publishExports(publisher(region), { now: NOW, waitForLockInMs: 20_000 })]);
    expect(runs.map((r) => r.regions[0].status)).toEqual(['done', 'done']);
    expect(runs.map((r) => r.regions[0].filesWritten.length).sort((a, b) => a - b)).toEqual([0, 5]);
    const view = await readPublished(h.exports, region);
    await expectConsistent(view, h.publicKey);
    expectComplete(view, { keys });
  });

  it('one that lost its lease mid-run (paused past it) records nothing, and the files it wrote change nothing published', async () => {
    const { region, keys } = await seed();
    const seen = new Map<string, string>();
    let second: Awaited<ReturnType<typeof publishExports>> | undefined;
    const pauseAfterFirstFile = async (step: PublishStep) => {
      if (step !== 'file-written' || second) return;
      // While the first is paused its lease runs out (broken here rather than waited for) and a second publisher runs to the end.
      const manifest = BlobServiceClient.fromConnectionString(h.azurite.connectionString).getContainerClient('publisher-state').getBlobClient(manifestBlobName(region));
      await manifest.getBlobLeaseClient().breakLease(0);
      second = await publishExports(publisher(region), { now: NOW });
      await expectConsistent(await readPublished(h.exports, region), h.publicKey, seen);
    };
    const first = await publishExports(publisher(region), { now: NOW, onStep: pauseAfterFirstFile });
    expect(second!.regions[0]).toMatchObject({ status: 'done' });
    expect(first.regions[0]).toMatchObject({ status: 'failed' });
    const view = await readPublished(h.exports, region);
    await expectConsistent(view, h.publicKey, seen);
    expectComplete(view, { keys });
  });

  it('keeps its lease while a run takes longer than the lease duration (renewal)', async () => {
    const { region, keys } = await seed();
    let rival: Awaited<ReturnType<typeof publishExports>> | undefined;
    const slowStep = async (step: PublishStep) => {
      if (step !== 'range-recorded' || rival) return;
      await sleep(16_000); // longer than the 15 s lease
      rival = await publishExports(publisher(region), { now: NOW });
    };
    const first = await publishExports(publisher(region), { now: NOW, onStep: slowStep });
    expect(rival!.regions[0].status).toBe('busy');
    expect(first.regions[0].status).toBe('done');
    expectComplete(await readPublished(h.exports, region), { keys });
  }, 40_000);
});
