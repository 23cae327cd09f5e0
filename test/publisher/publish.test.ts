/**
 * The publisher end to end over the real parts: keys in the Cosmos emulator, files and index in
 * Azurite through the Azure SDK, read back as a client would.
 */
import { createLogger } from '../../platform/log';
import type { ExposureStore } from '../../exposures/exposure-store';
import { openExport } from '../../proto/codec';
import { ReportType } from '../../proto/tek';
import type { BlobWriter } from '../../publisher/blob/blob-writer';
import { indexJsonName, indexTxtName } from '../../publisher/export-names';
import { EXPORT_CACHE_CONTROL, INDEX_CACHE_CONTROL, INDEX_CACHE_GRACE_SECONDS, INDEX_JSON_CONTENT_TYPE, INDEX_TXT_CONTENT_TYPE } from '../../publisher/index-file';
import { manifestBlobName, type Manifest } from '../../publisher/manifest';
import type { PublisherSettings } from '../../publisher/publisher-deps';
import { publishExports } from '../../publisher/run';
import type { PublishStep } from '../../publisher/steps';
import { DAY, expectComplete, expectConsistent, exposureAt, exposuresInWindow, harnessDeps, hex, HOUR, readPublished, RecordingPurger, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: ExposureStore;
let regionCount = 0;
/** Each test publishes its own region: its own manifest, index, files and keys. */
const nextRegion = () => `r${++regionCount}`;
const at = (seconds: number) => new Date(seconds * 1000);
/** The publisher clock once the window ending at `end` is closed. */
const closedAt = (end: number) => at(end + 300);

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('publish-test');
});

afterAll(async () => {
  await h?.stop();
});

interface RunExtra {
  purger?: RecordingPurger;
  onStep?: (step: PublishStep) => void;
  /** Default: the wall clock stands at `now` (deterministic: the clean-up grace counts by it). */
  wallClock?: () => number;
  exports?: BlobWriter;
  logged?: Array<{ level: string; message: string }>;
}

/** One run of the region; its outcome, whatever its status. */
async function attempt(region: string, now: Date, settings: Partial<PublisherSettings> = {}, extra: RunExtra = {}) {
  const logger = extra.logged ? createLogger('publisher', { write: (line) => extra.logged!.push(JSON.parse(line) as { level: string; message: string }) }) : undefined;
  const deps = harnessDeps(h, store, { regions: [region], ...settings }, { purger: extra.purger, logger });
  const result = await publishExports({ ...deps, exports: extra.exports ?? deps.exports }, { now, onStep: extra.onStep, wallClock: extra.wallClock ?? (() => now.getTime()) });
  return result.regions[0];
}

async function run(region: string, now: Date, settings: Partial<PublisherSettings> = {}, extra: RunExtra = {}) {
  const outcome = await attempt(region, now, settings, extra);
  if (outcome.status !== 'done') throw new Error(`publisher run ${outcome.status}: ${outcome.error}`);
  return outcome;
}

/** A run whose wall clock stands at `wall` (seconds), whatever the publisher clock `now` says. */
async function runAt(region: string, now: number, wall: number, settings: Partial<PublisherSettings> = {}, extra: RunExtra = {}) {
  return run(region, at(now), settings, { ...extra, wallClock: () => wall * 1000 });
}

/** Export storage whose index.txt writes fail. */
function failingIndexTxt(region: string): BlobWriter {
  const replace: BlobWriter['replace'] = (name, ...rest) => (name === indexTxtName(region) ? Promise.reject(new Error('injected: index.txt not written')) : h.exports.replace(name, ...rest));
  return Object.assign(Object.create(h.exports) as BlobWriter, { replace });
}

async function manifestOf(region: string): Promise<Manifest> {
  return JSON.parse((await h.state.read(manifestBlobName(region)))!.data.toString('utf8')) as Manifest;
}

describe('windows and embargo', () => {
  it('publishes each key in the window that contains its publishAt, once that window is closed, and a key under embargo later', async () => {
    const region = nextRegion();
    const w0 = exposuresInWindow(region, T0, 3);
    const w1 = exposuresInWindow(region, T0 + HOUR, 2);
    // Uploaded in the first window, but its rolling period ends at T0 + 30 min: embargoed until T0 + 2.5 h.
    const embargoed = exposureAt(region, T0 + 600, { rollingStartIntervalNumber: (T0 + 1800) / 600 - 144 });
    expect(embargoed.publishAt).toBe(T0 + 1800 + 2 * HOUR);
    await store.insert([...w0, ...w1, embargoed]);

    const first = await run(region, at(T0 + 2 * HOUR + 299)); // the second window is 1 s short of closed
    expect(first.filesWritten).toEqual([`v1/${region}/${T0}-${T0 + HOUR}-00001.zip`]);

    const second = await run(region, closedAt(T0 + 2 * HOUR));
    expect(second.filesWritten).toEqual([`v1/${region}/${T0 + HOUR}-${T0 + 2 * HOUR}-00001.zip`]);
    let view = await readPublished(h.exports, region);
    expect(view.files.get(first.filesWritten[0])!.keys.sort()).toEqual(w0.map((e) => hex(e.tek.keyData)).sort());
    expect(view.files.get(second.filesWritten[0])!.keys.sort()).toEqual(w1.map((e) => hex(e.tek.keyData)).sort());

    const third = await run(region, closedAt(T0 + 3 * HOUR));
    view = await readPublished(h.exports, region);
    expect(view.files.get(third.filesWritten[0])!.keys).toEqual([hex(embargoed.tek.keyData)]);
    await expectConsistent(view, h.publicKey);
    expectComplete(view, { keys: [...w0, ...w1, embargoed].map((e) => hex(e.tek.keyData)) });
  });

  it('writes nothing for a window without keys and moves on', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0 + 2 * HOUR, 2));
    const outcome = await run(region, closedAt(T0 + 3 * HOUR));
    expect(outcome.filesWritten).toEqual([`v1/${region}/${T0 + 2 * HOUR}-${T0 + 3 * HOUR}-00001.zip`]);
    expect(outcome.publishedThrough).toBe(T0 + 3 * HOUR);
  });
});

describe('privacy floor', () => {
  it('pads a file below the minimum with generated keys that copy real keys’ metadata, with jitter on the count', async () => {
    const region = nextRegion();
    const real = [
      exposureAt(region, T0 + 60, { transmissionRiskLevel: 2, reportType: ReportType.CONFIRMED_TEST, daysSinceOnsetOfSymptoms: 1 }),
      exposureAt(region, T0 + 120, { transmissionRiskLevel: 6, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS }),
      exposureAt(region, T0 + 180, { transmissionRiskLevel: 4, reportType: ReportType.SELF_REPORT, daysSinceOnsetOfSymptoms: -2 }),
    ];
    await store.insert(real);
    const outcome = await run(region, closedAt(T0 + HOUR), { minKeysPerFile: 40, paddingJitter: 10 });
    const opened = await openExport((await h.exports.read(outcome.filesWritten[0]))!.data);
    const keys = opened.export.keys;
    expect(keys.length).toBeGreaterThanOrEqual(40);
    expect(keys.length).toBeLessThanOrEqual(50);
    const realHex = new Set(real.map((e) => hex(e.tek.keyData)));
    expect(keys.filter((k) => realHex.has(hex(k.keyData)))).toHaveLength(3);
    const metadata = (k: { rollingStartIntervalNumber?: number; rollingPeriod: number; transmissionRiskLevel?: number; reportType?: number; daysSinceOnsetOfSymptoms?: number }) =>
      JSON.stringify([k.rollingStartIntervalNumber, k.rollingPeriod, k.transmissionRiskLevel, k.reportType, k.daysSinceOnsetOfSymptoms]);
    const realMetadata = new Set(real.map((e) => metadata(e.tek)));
    for (const key of keys) expect(realMetadata).toContain(metadata(key));
    const manifest = await manifestOf(region);
    expect(manifest.ranges[0]).toMatchObject({ realKeys: 3, paddingKeys: keys.length - 3 });
    // The public index gives the file's count, padding included: never the real count.
    const view = await readPublished(h.exports, region);
    expect(view.indexJson!.files[0].keys).toBe(keys.length);
  });

  it('draws a different padded count from run to run (jitter)', async () => {
    const counts = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const region = nextRegion();
      await store.insert([exposureAt(region, T0 + 60)]);
      const outcome = await run(region, closedAt(T0 + HOUR), { minKeysPerFile: 20, paddingJitter: 1000 });
      counts.add((await readPublished(h.exports, region)).files.get(outcome.filesWritten[0])!.keys.length);
    }
    expect(counts.size).toBeGreaterThan(1);
  });

  it('holds keys below the minimum back and publishes them with a later window, in one file covering both', async () => {
    const region = nextRegion();
    const settings = { privacyFloor: 'hold' as const, minKeysPerFile: 10 };
    const w0 = exposuresInWindow(region, T0, 4);
    const w1 = exposuresInWindow(region, T0 + HOUR, 3);
    const w2 = exposuresInWindow(region, T0 + 2 * HOUR, 5);
    await store.insert([...w0, ...w1, ...w2]);

    const held = await run(region, closedAt(T0 + 2 * HOUR), settings);
    expect(held.filesWritten).toEqual([]);
    expect(held.heldSince).toBe(T0);
    expect((await readPublished(h.exports, region)).files.size).toBe(0);

    const published = await run(region, closedAt(T0 + 3 * HOUR), settings);
    expect(published.filesWritten).toEqual([`v1/${region}/${T0}-${T0 + 3 * HOUR}-00001.zip`]);
    const view = await readPublished(h.exports, region);
    expect(view.files.get(published.filesWritten[0])!.keys).toHaveLength(12); // no padding: the floor is met
    expectComplete(view, { keys: [...w0, ...w1, ...w2].map((e) => hex(e.tek.keyData)) });
  });

  it('holds keys no longer than the longest hold, then publishes them padded', async () => {
    const region = nextRegion();
    const settings = { privacyFloor: 'hold' as const, minKeysPerFile: 10, maxHoldSeconds: 2 * HOUR };
    const keys = [...exposuresInWindow(region, T0, 2), ...exposuresInWindow(region, T0 + HOUR, 1)];
    await store.insert(keys);
    const outcome = await run(region, closedAt(T0 + 5 * HOUR), settings);
    expect(outcome.filesWritten).toEqual([`v1/${region}/${T0}-${T0 + 2 * HOUR}-00001.zip`]);
    const view = await readPublished(h.exports, region);
    expect(view.files.get(outcome.filesWritten[0])!.keys).toHaveLength(10);
    expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
  });
});

describe('files', () => {
  it('splits a window into files of at most the maximum keys, each key in exactly one', async () => {
    const region = nextRegion();
    const keys = exposuresInWindow(region, T0, 25);
    await store.insert(keys);
    const outcome = await run(region, closedAt(T0 + HOUR), { maxKeysPerFile: 10 });
    expect(outcome.filesWritten).toEqual([1, 2, 3].map((n) => `v1/${region}/${T0}-${T0 + HOUR}-0000${n}.zip`));
    const view = await readPublished(h.exports, region);
    expect([...view.files.values()].map((f) => f.keys.length)).toEqual([10, 10, 5]);
    await expectConsistent(view, h.publicKey);
    expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
  });

  it('puts a revision into revised_keys of the window of its revision, with the revised report type', async () => {
    const region = nextRegion();
    const original = exposureAt(region, T0 + 60);
    await store.insert([original]);
    await run(region, closedAt(T0 + HOUR));
    await store.revise([{ ...original, revision: { reportType: ReportType.REVOKED, revisedAt: T0 + 2 * HOUR + 10, publishAt: T0 + 2 * HOUR + 10 } }]);
    const outcome = await run(region, closedAt(T0 + 3 * HOUR));
    expect(outcome.filesWritten).toEqual([`v1/${region}/${T0 + 2 * HOUR}-${T0 + 3 * HOUR}-00001.zip`]);
    const opened = await openExport((await h.exports.read(outcome.filesWritten[0]))!.data);
    expect(opened.export.keys).toHaveLength(0);
    expect(opened.export.revisedKeys.map((k) => [hex(k.keyData), k.reportType])).toEqual([[hex(original.tek.keyData), ReportType.REVOKED]]);
    expectComplete(await readPublished(h.exports, region), { keys: [hex(original.tek.keyData)], revisedKeys: [hex(original.tek.keyData)] });
  });

  it('stores files and index with their content types and cache headers, as storage and an anonymous client read them back', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 2));
    const outcome = await run(region, closedAt(T0 + HOUR));
    const view = await readPublished(h.exports, region);
    expect(view.files.get(outcome.filesWritten[0])).toMatchObject({ contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable' });
    expect(view.indexHeaders).toEqual([
      { name: indexJsonName(region), contentType: INDEX_JSON_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL },
      { name: indexTxtName(region), contentType: INDEX_TXT_CONTENT_TYPE, cacheControl: INDEX_CACHE_CONTROL },
    ]);
    // Public read access: what the edge (and a phone) fetches without credentials.
    for (const [name, contentType, cacheControl] of [
      [outcome.filesWritten[0], 'application/zip', EXPORT_CACHE_CONTROL],
      [indexTxtName(region), INDEX_TXT_CONTENT_TYPE, INDEX_CACHE_CONTROL],
    ]) {
      const response = await fetch(`${h.exports.url}/${name}`);
      expect({ status: response.status, type: response.headers.get('content-type'), cache: response.headers.get('cache-control') }).toEqual({ status: 200, type: contentType, cache: cacheControl });
      await response.arrayBuffer();
    }
    // ...but not list the container.
    expect((await fetch(`${h.exports.url}?restype=container&comp=list`)).status).toBeGreaterThanOrEqual(400);
  });

  it('lists the files in both indexes oldest first, with size, digest and signing key of each', async () => {
    const region = nextRegion();
    await store.insert([...exposuresInWindow(region, T0 + HOUR, 3), ...exposuresInWindow(region, T0, 12)]);
    await run(region, closedAt(T0 + 2 * HOUR), { maxKeysPerFile: 10 });
    const view = await readPublished(h.exports, region);
    const names = [`v1/${region}/${T0}-${T0 + HOUR}-00001.zip`, `v1/${region}/${T0}-${T0 + HOUR}-00002.zip`, `v1/${region}/${T0 + HOUR}-${T0 + 2 * HOUR}-00001.zip`];
    expect(view.indexTxt).toBe(names.join('\n'));
    expect(view.indexJson).toEqual({
      region,
      generatedAt: new Date((T0 + 2 * HOUR + 300) * 1000).toISOString(),
      files: names.map((name) => {
        const file = view.files.get(name)!;
        const [start, end] = name.split('/')[2].split('-').map(Number);
        return { path: name, start, end, keys: file.keys.length, revisedKeys: 0, bytes: file.zip.length, sha256: file.sha256, keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }] };
      }),
    });
    await expectConsistent(view, h.publicKey);
  });

  it('publishes nothing new and rewrites nothing when run again', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 5));
    const purger = new RecordingPurger();
    await run(region, closedAt(T0 + HOUR), {}, { purger });
    const etags = new Map<string, string>();
    for await (const blob of h.exports.list(`v1/${region}/`)) etags.set(blob.name, blob.etag);
    const again = await run(region, closedAt(T0 + HOUR) /* same clock */, {}, { purger });
    const later = await run(region, closedAt(T0 + 2 * HOUR), {}, { purger });
    for (const outcome of [again, later]) expect(outcome).toMatchObject({ filesWritten: [], indexChanged: false, purged: null });
    const after = new Map<string, string>();
    for await (const blob of h.exports.list(`v1/${region}/`)) after.set(blob.name, blob.etag);
    expect(after).toEqual(etags);
    expect(purger.calls).toHaveLength(1);
  });
});

describe('deadline', () => {
  it('starts no new window past its deadline, and the next run continues', async () => {
    const region = nextRegion();
    const keys = [...exposuresInWindow(region, T0, 2), ...exposuresInWindow(region, T0 + HOUR, 2)];
    await store.insert(keys);
    const stopped = await run(region, closedAt(T0 + 2 * HOUR), { deadlineSeconds: 0 });
    expect(stopped).toMatchObject({ deadlineReached: true, filesWritten: [] });
    const next = await run(region, closedAt(T0 + 2 * HOUR));
    expect(next).toMatchObject({ deadlineReached: false });
    expect(next.filesWritten).toHaveLength(2);
    expectComplete(await readPublished(h.exports, region), { keys: keys.map((e) => hex(e.tek.keyData)) });
  });
});

describe('late keys', () => {
  it('reads a window closed early (--now ahead of the clock) again and publishes keys that arrived since as a further file', async () => {
    const region = nextRegion();
    const early = exposuresInWindow(region, T0, 3);
    await store.insert(early);
    // The publisher clock says the window closed; the real clock is still inside it.
    const wallClock = { now: (T0 + 1800) * 1000 };
    await run(region, closedAt(T0 + HOUR), {}, { wallClock: () => wallClock.now });
    expect((await manifestOf(region)).ranges[0].settled).toBe(false);

    const late = exposureAt(region, T0 + 1900);
    await store.insert([late]);
    wallClock.now = (T0 + HOUR + 300) * 1000; // now the window is closed by the real clock too
    const outcome = await run(region, closedAt(T0 + HOUR), {}, { wallClock: () => wallClock.now });
    expect(outcome.filesWritten).toEqual([`v1/${region}/${T0}-${T0 + HOUR}-00002.zip`]);
    const view = await readPublished(h.exports, region);
    expect(view.files.get(outcome.filesWritten[0])!.keys).toEqual([hex(late.tek.keyData)]);
    expectComplete(view, { keys: [...early, late].map((e) => hex(e.tek.keyData)) });
    expect((await manifestOf(region)).ranges[0]).toMatchObject({ settled: true, realKeys: 4 });
  });

  it('lists a late file whose pass crashed before recording it as soon as the next run, before the wall clock closes the window', async () => {
    const region = nextRegion();
    const early = [exposureAt(region, T0 + 300)];
    await store.insert(early);
    const now = closedAt(T0 + HOUR);
    await runAt(region, now.getTime() / 1000, T0 + 600);
    const late = exposureAt(region, T0 + 1200);
    await store.insert([late]);
    const crash = (step: PublishStep) => {
      if (step === 'file-written') throw new Error('injected failure at file-written');
    };
    expect(await attempt(region, now, {}, { onStep: crash, wallClock: () => (T0 + 1300) * 1000 })).toMatchObject({ status: 'failed' });
    const lateFile = `v1/${region}/${T0}-${T0 + HOUR}-00002.zip`;
    expect((await readPublished(h.exports, region)).files.has(lateFile)).toBe(true);

    // The window is still open by the wall clock: nothing new to write, but the file found in storage joins the record and the index.
    expect(await runAt(region, now.getTime() / 1000, T0 + 1400)).toMatchObject({ filesWritten: [], indexChanged: true });
    expect((await manifestOf(region)).ranges[0]).toMatchObject({ settled: false, realKeys: 2 });
    const view = await readPublished(h.exports, region);
    expect(indexTxtNamesOf(view)).toEqual([`v1/${region}/${T0}-${T0 + HOUR}-00001.zip`, lateFile]);
    expectComplete(view, { keys: [...early, late].map((e) => hex(e.tek.keyData)) });
  });

  it('publishes again, under a new name and with a warning, the keys of a recorded file missing from storage, instead of failing the region', async () => {
    const region = nextRegion();
    const key = exposureAt(region, T0 + 300);
    await store.insert([key]);
    const now = T0 + HOUR + 400;
    await runAt(region, now, T0 + 600); // closed early: read again by the next run
    const first = `v1/${region}/${T0}-${T0 + HOUR}-00001.zip`;
    await h.exports.delete(first); // an operator's mistake

    const logged: Array<{ level: string; message: string }> = [];
    const outcome = await runAt(region, now, T0 + 700, {}, { logged });
    // Never the missing file's name again: an edge may still hold the old file under it.
    expect(outcome.filesWritten).toEqual([`v1/${region}/${T0}-${T0 + HOUR}-00002.zip`]);
    expect(logged.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual(['files a record names are missing from storage; their keys are published again in further files of the range']);
    const view = await readPublished(h.exports, region);
    expect(indexTxtNamesOf(view)).toEqual(outcome.filesWritten);
    expectComplete(view, { keys: [hex(key.tek.keyData)] });
  });
});

describe('a publisher clock ahead of the wall clock (--now)', () => {
  it('publishes no key before its embargo ended by the wall clock, however early --now closes its window; a later run publishes it', async () => {
    const region = nextRegion();
    const wall = T0 + 12 * HOUR;
    // Uploaded at noon; its rolling period ends at midnight, so it is under embargo until 02:00 tomorrow.
    const key = exposureAt(region, wall, { rollingStartIntervalNumber: T0 / 600 });
    expect(key.publishAt).toBe(T0 + DAY + 2 * HOUR);
    await store.insert([key]);
    const closed = T0 + DAY + 3 * HOUR + 300; // the key's window is closed by this clock

    const ahead = await runAt(region, closed, wall);
    expect(ahead.filesWritten).toEqual([]);
    expect((await readPublished(h.exports, region)).files.size).toBe(0);

    const later = await runAt(region, closed, closed);
    expect(later.filesWritten).toEqual([`v1/${region}/${T0 + DAY + 2 * HOUR}-${T0 + DAY + 3 * HOUR}-00001.zip`]);
    expectComplete(await readPublished(h.exports, region), { keys: [hex(key.tek.keyData)] });
    expect((await manifestOf(region)).ranges.map((r) => [r.start, r.settled])).toEqual([[T0 + DAY + 2 * HOUR, true]]);
  });

  it('only closes windows: files stay in the index, keys in the store, and keys uploaded after the run are still published', async () => {
    const region = nextRegion();
    const settings = { windowSeconds: DAY }; // 20 windows, not 480
    const wall = T0 + 2 * DAY + HOUR;
    const yesterday = exposureAt(region, T0 + DAY + HOUR);
    const today = exposureAt(region, wall - 60);
    await store.insert([yesterday, today]);
    const yesterdayFile = `v1/${region}/${T0 + DAY}-${T0 + 2 * DAY}-00001.zip`;
    expect((await runAt(region, wall, wall, settings)).filesWritten).toEqual([yesterdayFile]);

    // 20 days ahead: today's window closes, and nothing leaves the index or the store.
    const ahead = await runAt(region, wall + 20 * DAY, wall, settings);
    const todayFile = `v1/${region}/${T0 + 2 * DAY}-${T0 + 3 * DAY}-00001.zip`;
    expect(ahead).toMatchObject({ filesWritten: [todayFile], filesDeleted: 0, keysDeleted: 0 });
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toEqual([yesterdayFile, todayFile]);
    expect((await manifestOf(region)).ranges.filter((r) => r.unlistedAt !== undefined)).toEqual([]);
    expect(await store.get(region, [yesterday.id, today.id])).toHaveLength(2);

    // Uploaded after that run, into today's window: published once the wall clock closes it too.
    const late = exposureAt(region, wall + 600);
    await store.insert([late]);
    const closed = T0 + 3 * DAY + 300;
    const next = await runAt(region, closed, closed, settings);
    expect(next.filesWritten).toEqual([`v1/${region}/${T0 + 2 * DAY}-${T0 + 3 * DAY}-00002.zip`]);
    expectComplete(await readPublished(h.exports, region), { keys: [yesterday, today, late].map((e) => hex(e.tek.keyData)) });
  });
});

describe('purge', () => {
  it('purges exactly the two index paths after an index change, and retries a failed purge in the next run', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 2));
    const purger = new RecordingPurger(2); // both attempts of the first run fail
    const first = await run(region, closedAt(T0 + HOUR), { purgeAttempts: 2 }, { purger });
    expect(first).toMatchObject({ indexChanged: true, purged: false });
    expect((await manifestOf(region)).purgePending).toBe(true);
    // The files and the index stay published.
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toHaveLength(1);

    const second = await run(region, closedAt(T0 + HOUR), { purgeAttempts: 2 }, { purger });
    expect(second).toMatchObject({ indexChanged: false, purged: true });
    expect(purger.calls).toEqual(Array(3).fill([`/v1/${region}/index.txt`, `/v1/${region}/index.json`]));
    expect((await manifestOf(region)).purgePending).toBe(false);
  });
});

function indexTxtNamesOf(view: Awaited<ReturnType<typeof readPublished>>): string[] {
  return view.indexTxt ? view.indexTxt.split('\n') : [];
}

describe('clean-up', () => {
  it('takes files out of the index first, deletes them a cache lifetime later, and deletes keys after 15 days', async () => {
    const region = nextRegion();
    const old = exposuresInWindow(region, T0, 2);
    await store.insert(old);
    await run(region, closedAt(T0 + HOUR));
    const name = `v1/${region}/${T0}-${T0 + HOUR}-00001.zip`;

    const steps: string[] = [];
    const record = (step: PublishStep) => steps.push(step);
    const unlistAt = T0 + HOUR + 14 * DAY + 1; // the window ended more than 14 days ago
    const unlisted = await run(region, at(unlistAt), {}, { onStep: record });
    expect(unlisted).toMatchObject({ indexChanged: true, purged: true, filesDeleted: 0 });
    expect((await manifestOf(region)).ranges[0]).toMatchObject({ unlistedAt: unlistAt, purgedAt: unlistAt });
    let view = await readPublished(h.exports, region);
    expect(view.indexTxt).toBe('');
    expect(view.indexJson!.files).toEqual([]);
    expect(view.files.has(name)).toBe(true); // still in storage: an edge may still serve the old index

    const deleted = await run(region, at(unlistAt + INDEX_CACHE_GRACE_SECONDS), {}, { onStep: record });
    expect(deleted).toMatchObject({ indexChanged: false, filesDeleted: 1, keysDeleted: 0 });
    view = await readPublished(h.exports, region);
    expect(view.files.size).toBe(0);
    expect((await manifestOf(region)).ranges).toEqual([]);
    // Index written, then purged, then the file deleted.
    expect(steps.indexOf('index-written')).toBeLessThan(steps.indexOf('purged'));
    expect(steps.lastIndexOf('purged')).toBeLessThan(steps.indexOf('file-deleted'));

    const keysGone = await run(region, at(T0 + HOUR + 15 * DAY)); // both keys were uploaded more than 15 days before
    expect(keysGone.keysDeleted).toBe(2);
    expect(await store.get(region, old.map((e) => e.id))).toEqual([]);
  });

  it('keeps a file out of the index in storage until a purge after its unlisting succeeded, and a cache lifetime longer, even when the index write failed', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 2));
    await run(region, closedAt(T0 + HOUR));
    const name = `v1/${region}/${T0}-${T0 + HOUR}-00001.zip`;
    const unlistAt = T0 + HOUR + 14 * DAY + 1;

    const failed = await attempt(region, at(unlistAt), {}, { exports: failingIndexTxt(region) });
    expect(failed).toMatchObject({ status: 'failed', error: 'injected: index.txt not written' });
    // The index still names the file: it has not left it.
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toEqual([name]);
    expect((await manifestOf(region)).ranges[0].unlistedAt).toBeUndefined();

    const purger = new RecordingPurger(2); // both attempts of the next run fail
    const unpurged = await run(region, at(unlistAt + 2 * HOUR), {}, { purger });
    expect(unpurged).toMatchObject({ indexChanged: true, purged: false, filesDeleted: 0 });
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toEqual([]);
    const purged = await run(region, at(unlistAt + 3 * HOUR), {}, { purger });
    expect(purged).toMatchObject({ indexChanged: false, purged: true, filesDeleted: 0 });
    expect((await manifestOf(region)).ranges[0]).toMatchObject({ unlistedAt: unlistAt + 2 * HOUR, purgedAt: unlistAt + 3 * HOUR });

    expect((await run(region, at(unlistAt + 3 * HOUR + INDEX_CACHE_GRACE_SECONDS - 1))).filesDeleted).toBe(0);
    expect((await readPublished(h.exports, region)).files.has(name)).toBe(true);
    expect((await run(region, at(unlistAt + 3 * HOUR + INDEX_CACHE_GRACE_SECONDS))).filesDeleted).toBe(1);
    expect((await readPublished(h.exports, region)).files.has(name)).toBe(false);
  });

  it('deletes a file no record names (a lost manifest) only a cache lifetime after a purge that followed', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 2));
    await run(region, closedAt(T0 + HOUR));
    const name = `v1/${region}/${T0}-${T0 + HOUR}-00001.zip`;
    await h.state.delete(manifestBlobName(region)); // the index still names the file; no record does
    const unlistAt = T0 + HOUR + 14 * DAY + 1;

    const purger = new RecordingPurger(4); // the purges of the next two runs fail
    const first = await run(region, at(unlistAt), {}, { purger });
    expect(first).toMatchObject({ indexChanged: true, purged: false, filesDeleted: 0 });
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toEqual([]);
    // An edge may still serve the old index naming the file: no deletion while the purge is pending.
    const second = await run(region, at(unlistAt + INDEX_CACHE_GRACE_SECONDS), {}, { purger });
    expect(second).toMatchObject({ purged: false, filesDeleted: 0 });
    const third = await run(region, at(unlistAt + INDEX_CACHE_GRACE_SECONDS + 60), {}, { purger });
    expect(third).toMatchObject({ purged: true, filesDeleted: 0 });
    expect((await readPublished(h.exports, region)).files.has(name)).toBe(true);

    const fourth = await run(region, at(unlistAt + 2 * INDEX_CACHE_GRACE_SECONDS + 60));
    expect(fourth.filesDeleted).toBe(1);
    expect((await readPublished(h.exports, region)).files.size).toBe(0);
    expect((await manifestOf(region)).ranges).toEqual([]);
  });

  it('publishes a revision made near the end of its key’s retention before the key leaves the store, and deletes the key later', async () => {
    const region = nextRegion();
    const key = exposureAt(region, T0 + 60);
    await store.insert([key]);
    await run(region, closedAt(T0 + HOUR));
    const revisedAt = T0 + 15 * DAY - 600; // 11 minutes before the key is 15 days old
    await store.revise([{ ...key, revision: { reportType: ReportType.REVOKED, revisedAt, publishAt: revisedAt } }]);

    // The key is older than 15 days; its revision's window is not yet closed.
    const due = T0 + 15 * DAY + 120;
    expect(await runAt(region, due, due)).toMatchObject({ filesWritten: [], keysDeleted: 0 });
    const closed = T0 + 15 * DAY + 300;
    const published = await runAt(region, closed, closed);
    expect(published).toMatchObject({ filesWritten: [`v1/${region}/${T0 + 15 * DAY - HOUR}-${T0 + 15 * DAY}-00001.zip`], keysDeleted: 0 });
    const opened = await openExport((await h.exports.read(published.filesWritten[0]))!.data);
    expect(opened.export.revisedKeys.map((k) => [hex(k.keyData), k.reportType])).toEqual([[hex(key.tek.keyData), ReportType.REVOKED]]);

    // Once the revision is 15 days old too, the key goes.
    const gone = revisedAt + 15 * DAY + 1;
    expect(await runAt(region, gone, gone)).toMatchObject({ keysDeleted: 1 });
    expect(await store.get(region, [key.id])).toEqual([]);
  });

  it('counts the grace after a purge by the wall clock from the purge’s end: neither a --now behind nor one ahead shortens it', async () => {
    const region = nextRegion();
    await store.insert(exposuresInWindow(region, T0, 2));
    await run(region, closedAt(T0 + HOUR));
    const wall = { now: T0 + HOUR + 14 * DAY + 2 * HOUR + 10 }; // the window ended more than 14 days before --now too
    // A purge that takes ten minutes.
    const slowPurger = Object.assign(new RecordingPurger(), { purge: async () => void (wall.now += 600) });
    const behind = await run(region, at(wall.now - 2 * HOUR), {}, { purger: slowPurger, wallClock: () => wall.now * 1000 });
    expect(behind).toMatchObject({ indexChanged: true, purged: true, filesDeleted: 0 });
    const purgedAt = wall.now;
    expect((await manifestOf(region)).ranges[0].purgedAt).toBe(purgedAt);

    expect((await runAt(region, purgedAt + 60, purgedAt + 60)).filesDeleted).toBe(0);
    expect((await runAt(region, purgedAt + INDEX_CACHE_GRACE_SECONDS, purgedAt + INDEX_CACHE_GRACE_SECONDS - 1)).filesDeleted).toBe(0);
    expect((await readPublished(h.exports, region)).files.size).toBe(1);
    expect((await runAt(region, purgedAt + INDEX_CACHE_GRACE_SECONDS - 2 * HOUR, purgedAt + INDEX_CACHE_GRACE_SECONDS)).filesDeleted).toBe(1);
  });

  it('does not stop a region when a manifest restored from an old copy names a range closed early whose files have since been deleted', async () => {
    const region = nextRegion();
    await store.insert([exposureAt(region, T0 + 300)]);
    await runAt(region, T0 + HOUR + 400, T0 + 900); // closed early: unsettled in the copy
    const copy = (await h.state.read(manifestBlobName(region)))!.data;
    for (const t of [T0 + 2 * HOUR, T0 + 15 * DAY, T0 + 15 * DAY + 2 * HOUR]) await run(region, at(t));
    expect((await readPublished(h.exports, region)).files.size).toBe(0);

    await h.state.delete(manifestBlobName(region));
    await h.state.create(manifestBlobName(region), copy, { contentType: 'application/json' });
    const key = exposureAt(region, T0 + 16 * DAY);
    await store.insert([key]);
    const restored = await run(region, at(T0 + 16 * DAY + 2 * HOUR));
    expect(restored.filesWritten).toEqual([`v1/${region}/${T0 + 16 * DAY}-${T0 + 16 * DAY + HOUR}-00001.zip`]);
    expectComplete(await readPublished(h.exports, region), { keys: [hex(key.tek.keyData)] });
  });
});

describe('a lost manifest', () => {
  it('hold mode: does not publish again the keys of a held file the first window falls inside', async () => {
    const region = nextRegion();
    const settings: Partial<PublisherSettings> = { privacyFloor: 'hold', minKeysPerFile: 3 };
    const keys = [exposureAt(region, T0 + 300), exposureAt(region, T0 + 2 * HOUR + 300), exposureAt(region, T0 + 4 * HOUR + 300)];
    await store.insert(keys);
    for (let end = T0 + HOUR; end <= T0 + 5 * HOUR; end += HOUR) await run(region, closedAt(end), settings);
    const held = `v1/${region}/${T0}-${T0 + 5 * HOUR}-00001.zip`;
    expect(indexTxtNamesOf(await readPublished(h.exports, region))).toEqual([held]);

    await h.state.delete(manifestBlobName(region));
    const later = T0 + 14 * DAY + 2 * HOUR + 600; // the file retention starts at T0 + 2 h, inside the held file
    expect(await run(region, at(later), settings)).toMatchObject({ filesWritten: [] });
    const view = await readPublished(h.exports, region);
    await expectConsistent(view, h.publicKey);
    expect(indexTxtNamesOf(view)).toEqual([held]);
    expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
    expect((await manifestOf(region)).publishedThrough).toBe(T0 + 14 * DAY + 2 * HOUR);
    // The next run reads the recorded range again (its last file could have been lost in a crash): nothing to add.
    expect(await run(region, at(later + 60), settings)).toMatchObject({ filesWritten: [] });
    expect((await manifestOf(region)).ranges.map((r) => [r.start, r.settled, r.realKeys])).toEqual([[T0, true, 3]]);
  });
});
