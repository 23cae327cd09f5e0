/**
 * Crash safety with failure injection: the publisher fails at each step boundary (and the store
 * fails mid-window); storage must be consistent right after the failure (the index names only
 * complete files, no key is in two files, nothing published changed), and the next run must
 * finish the job (every key in exactly one file, index complete, clean-up done).
 */
import type { Exposure, ExposureStore, ListOptions } from '../../exposures/exposure-store';
import { StoreUnavailableError } from '../../exposures/exposure-store';
import { INDEX_CACHE_GRACE_SECONDS } from '../../publisher/index-file';
import { manifestBlobName, type Manifest } from '../../publisher/manifest';
import type { PublisherSettings } from '../../publisher/publisher-deps';
import { publishExports } from '../../publisher/run';
import type { PublishStep } from '../../publisher/steps';
import { DAY, expectComplete, expectConsistent, exposuresInWindow, harnessDeps, hex, HOUR, readPublished, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: ExposureStore;
let regionCount = 0;

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('faults-test');
});

afterAll(async () => {
  await h?.stop();
});

/** Several files per window (4 keys each), padding on the small ones. */
const SETTINGS: Partial<PublisherSettings> = { maxKeysPerFile: 4, minKeysPerFile: 3, paddingJitter: 1 };
const PUBLISH_AT = T0 + 3 * HOUR + 300;
const UNLIST_AT = T0 + 3 * HOUR + 14 * DAY + 1;
const DELETE_AT = UNLIST_AT + INDEX_CACHE_GRACE_SECONDS;
const KEYS_GONE_AT = T0 + 3 * HOUR + 15 * DAY;

/** A store whose listing fails on the n-th page it serves. */
class FailingStore implements ExposureStore {
  private pages = 0;
  constructor(
    private readonly inner: ExposureStore,
    private readonly failOnPage: number,
  ) {}
  insert: ExposureStore['insert'] = (...args) => this.inner.insert(...args);
  get: ExposureStore['get'] = (...args) => this.inner.get(...args);
  revise: ExposureStore['revise'] = (...args) => this.inner.revise(...args);
  deleteUploadedBefore: ExposureStore['deleteUploadedBefore'] = (...args) => this.inner.deleteUploadedBefore(...args);
  ping: ExposureStore['ping'] = (...args) => this.inner.ping(...args);
  private async *failing(pages: AsyncIterable<Exposure[]>): AsyncIterable<Exposure[]> {
    for await (const page of pages) {
      if (page.length > 1 && ++this.pages === this.failOnPage) throw new StoreUnavailableError('injected: the store stopped answering mid-window');
      yield page;
    }
  }
  listForPublication(region: string, from: number, to: number, options?: ListOptions): AsyncIterable<Exposure[]> {
    return this.failing(this.inner.listForPublication(region, from, to, options));
  }
  listRevisionsForPublication(region: string, from: number, to: number, options?: ListOptions): AsyncIterable<Exposure[]> {
    return this.failing(this.inner.listRevisionsForPublication(region, from, to, options));
  }
}

type Fault = { step: PublishStep; occurrence: number } | { storePage: number };

async function manifestOf(region: string): Promise<Manifest> {
  return JSON.parse((await h.state.read(manifestBlobName(region)))!.data.toString('utf8')) as Manifest;
}

describe.each<[string, Fault]>([
  ['after the first zip write', { step: 'file-written', occurrence: 1 }],
  ['after a later zip write inside a window', { step: 'file-written', occurrence: 2 }],
  ['after a window is recorded, before the next', { step: 'range-recorded', occurrence: 1 }],
  ['between the zips and the index', { step: 'files-done', occurrence: 1 }],
  ['between index.txt and index.json', { step: 'index-txt-written', occurrence: 1 }],
  ['after the index, before the purge', { step: 'index-written', occurrence: 1 }],
  ['after the purge, before it is recorded', { step: 'purged', occurrence: 1 }],
  ['during clean-up, after the first file deletion', { step: 'file-deleted', occurrence: 1 }],
  ['during clean-up, before old keys are deleted', { step: 'files-deleted', occurrence: 3 }],
  ['when the store fails mid-window', { storePage: 3 }],
])('a publisher failing %s', (_name, fault) => {
  it('leaves storage consistent, and the next run finishes the job', async () => {
    const region = `f${++regionCount}`;
    const keys = [...exposuresInWindow(region, T0, 9), ...exposuresInWindow(region, T0 + HOUR, 2), ...exposuresInWindow(region, T0 + 2 * HOUR, 5)];
    await store.insert(keys);
    const seen = new Map<string, string>();
    let count = 0;
    let failed = false;
    const onStep = (step: PublishStep) => {
      if ('step' in fault && step === fault.step && ++count === fault.occurrence) {
        failed = true;
        throw new Error(`injected failure at ${step}`);
      }
    };
    const phase = async (now: number) => {
      const faulty = !failed && 'storePage' in fault ? new FailingStore(store, fault.storePage) : store;
      // The wall clock stands at `now`: the clean-up grace counts by it.
      const wallClock = () => now * 1000;
      const result = await publishExports(harnessDeps(h, faulty, { regions: [region], ...SETTINGS }), { now: new Date(now * 1000), wallClock, onStep });
      if (faulty !== store) failed = true;
      const outcome = result.regions[0];
      await expectConsistent(await readPublished(h.exports, region), h.publicKey, seen);
      if (outcome.status === 'failed') {
        // The re-run finishes what the failed run left.
        const rerun = await publishExports(harnessDeps(h, store, { regions: [region], ...SETTINGS }), { now: new Date(now * 1000), wallClock });
        expect(rerun.regions[0]).toMatchObject({ status: 'done' });
        await expectConsistent(await readPublished(h.exports, region), h.publicKey, seen);
      }
    };

    await phase(PUBLISH_AT);
    const published = await readPublished(h.exports, region);
    expectComplete(published, { keys: keys.map((e) => hex(e.tek.keyData)) });
    expect([...published.files.values()].every((file) => file.keys.length >= 3 && file.keys.length <= 4)).toBe(true);
    expect((await manifestOf(region)).purgePending).toBe(false);

    await phase(UNLIST_AT);
    const unlisted = await readPublished(h.exports, region);
    expect(unlisted.indexTxt).toBe('');
    expect(unlisted.files.size).toBe(published.files.size);

    await phase(DELETE_AT);
    expect((await readPublished(h.exports, region)).files.size).toBe(0);
    expect((await manifestOf(region)).ranges).toEqual([]);

    await phase(KEYS_GONE_AT);
    expect(await store.get(region, keys.map((e) => e.id))).toEqual([]);
    expect(failed).toBe(true);
  });
});
