/**
 * Each step of a region run alone, on memory parts: a run is begun under the region's lock as
 * `run.ts` begins it, the state before the step is set up by earlier steps (or whole runs), and
 * the test looks at the state the step hands back, at what it saved and at storage.
 */
import { silentLogger } from '../../platform/log';
import { indexJsonName, indexTxtName } from '../export-names';
import { INDEX_CACHE_GRACE_SECONDS } from '../index-file';
import { acquireLock } from '../lock';
import { emptyManifest, manifestBlobName, readManifest } from '../manifest';
import { createMemoryPublisher, type MemoryPublisher } from '../memory-publisher';
import type { PublisherSettings } from '../publisher-deps';
import { publishExports } from '../run';
import { beginRegionRun, cleanUp, publishNewRanges, purgeIndex, recheckEarlyRanges, writeIndex, type PublishStep, type RegionRun, type RegionState } from '.';
import { DAY, exposureAt, exposuresInWindow, hex, HOUR, readPublished, RecordingPurger, T0, TEST_SETTINGS } from '../../test/support/publisher-harness';

const REGION = '440';

interface Opened {
  run: RegionRun;
  state: RegionState;
  steps: PublishStep[];
  release(): Promise<void>;
}

/** Begins a run of the region under its lock; the wall clock stands at `wall` (default `now`). */
async function open(p: MemoryPublisher, now: number, options: { wall?: number; deadlineAt?: number } = {}): Promise<Opened> {
  const lock = (await acquireLock(p.state, manifestBlobName(REGION), { leaseSeconds: 15, initialContent: Buffer.from(JSON.stringify(emptyManifest(REGION))), logger: silentLogger }))!;
  const steps: PublishStep[] = [];
  const wall = options.wall ?? now;
  const { run, state } = await beginRegionRun(p, REGION, lock.leaseId, { now, wallClock: () => wall * 1000, deadlineAt: options.deadlineAt ?? Infinity, signal: lock.signal, onStep: (step) => void steps.push(step) });
  return { run, state, steps, release: () => lock.release() };
}

/** Runs `step` alone; checks that what it handed back is what it saved. */
async function alone(p: MemoryPublisher, now: number, step: (run: RegionRun, state: RegionState) => Promise<RegionState>, options: { wall?: number; deadlineAt?: number } = {}) {
  const opened = await open(p, now, options);
  try {
    const after = await step(opened.run, opened.state);
    const saved = await readManifest(p.state, REGION);
    if (after.manifestEtag === saved.etag) expect(after.manifest).toEqual(saved.manifest);
    return { before: opened.state, after, saved, steps: opened.steps };
  } finally {
    await opened.release();
  }
}

async function wholeRun(p: MemoryPublisher, now: number, wall = now) {
  const result = await publishExports(p, { now: new Date(now * 1000), wallClock: () => wall * 1000 });
  expect(result.regions[0].status).toBe('done');
  return result.regions[0];
}

const publisher = (settings: Partial<PublisherSettings> = {}, purger = new RecordingPurger()) => createMemoryPublisher({ ...TEST_SETTINGS, maxKeysPerFile: 4, ...settings }, { purger });
const file = (start: number, end: number, n: number) => `v1/${REGION}/${start}-${end}-${String(n).padStart(5, '0')}.zip`;

describe('recheckEarlyRanges', () => {
  it('reads a range closed early again: late keys become a further file of it, and the record settles once the wall clock closed it', async () => {
    const p = await publisher();
    await p.store.insert(exposuresInWindow(REGION, T0, 2));
    // `--now` closed the window while the wall clock stood inside it.
    await wholeRun(p, T0 + HOUR + 300, T0 + HOUR - 600);
    const late = exposureAt(REGION, T0 + HOUR - 60);
    await p.store.insert([late]);
    const { before, after, saved, steps } = await alone(p, T0 + HOUR + 400, recheckEarlyRanges);
    expect(before.manifest.ranges).toMatchObject([{ start: T0, settled: false }]);
    expect(after.summary).toMatchObject({ rangesPublished: 1, filesWritten: [file(T0, T0 + HOUR, 2)], keysPublished: 1 });
    expect(saved.manifest.ranges).toMatchObject([{ start: T0, end: T0 + HOUR, settled: true, realKeys: 3, files: [{ n: 1 }, { n: 2 }] }]);
    expect(after.stored.map((f) => f.name)).toEqual([file(T0, T0 + HOUR, 1), file(T0, T0 + HOUR, 2)]);
    expect((await readPublished(p.exports, REGION)).files.get(file(T0, T0 + HOUR, 2))!.keys).toEqual([hex(late.tek.keyData)]);
    expect(steps).toEqual(['file-written', 'range-recorded']);
  });

  it('drops the record of an empty range closed early once it settles with nothing in it', async () => {
    const p = await publisher();
    await wholeRun(p, T0 + HOUR + 300, T0 + HOUR - 600);
    const { before, after } = await alone(p, T0 + HOUR + 400, recheckEarlyRanges);
    expect(before.manifest.ranges).toMatchObject([{ start: T0, files: [], settled: false }]);
    expect(after.manifest.ranges).toEqual([]);
    expect(after.summary.filesWritten).toEqual([]);
  });

  it('past the deadline it reads nothing and says so', async () => {
    const p = await publisher();
    await wholeRun(p, T0 + HOUR + 300, T0 + HOUR - 600);
    const { before, after } = await alone(p, T0 + HOUR + 400, recheckEarlyRanges, { deadlineAt: 0 });
    expect(after).toEqual({ ...before, summary: { ...before.summary, deadlineReached: true } });
  });
});

describe('publishNewRanges', () => {
  it('publishes each closed window after the cursor as a range, recorded once its files exist; the index is left to the next step', async () => {
    const p = await publisher();
    const keys = [...exposuresInWindow(REGION, T0, 5), ...exposuresInWindow(REGION, T0 + HOUR, 2)];
    await p.store.insert(keys);
    await wholeRun(p, T0); // nothing closed yet: the cursor stands before the first window, the index names nothing
    const index = await p.exports.read(indexTxtName(REGION));
    const { after, saved, steps } = await alone(p, T0 + 2 * HOUR + 300, publishNewRanges);
    expect(after.summary).toMatchObject({ rangesPublished: 2, keysPublished: 7, filesWritten: [file(T0, T0 + HOUR, 1), file(T0, T0 + HOUR, 2), file(T0 + HOUR, T0 + 2 * HOUR, 1)] });
    expect(saved.manifest).toMatchObject({ publishedThrough: T0 + 2 * HOUR, ranges: [{ start: T0, realKeys: 5 }, { start: T0 + HOUR, realKeys: 2 }] });
    expect(steps).toEqual(['file-written', 'file-written', 'range-recorded', 'file-written', 'range-recorded']);
    expect(await p.exports.read(indexTxtName(REGION))).toEqual(index);
  });

  it('moves the cursor over empty windows without a record', async () => {
    const p = await publisher();
    await p.store.insert(exposuresInWindow(REGION, T0 + 5 * HOUR, 1));
    await wholeRun(p, T0);
    const { after } = await alone(p, T0 + 8 * HOUR + 300, publishNewRanges);
    expect(after.manifest).toMatchObject({ publishedThrough: T0 + 8 * HOUR, ranges: [{ start: T0 + 5 * HOUR, end: T0 + 6 * HOUR }] });
  });

  it('in hold mode keeps keys below the floor back, the cursor where they start', async () => {
    const p = await publisher({ privacyFloor: 'hold', minKeysPerFile: 5 });
    await p.store.insert(exposuresInWindow(REGION, T0, 2));
    await wholeRun(p, T0);
    const { after } = await alone(p, T0 + HOUR + 300, publishNewRanges);
    expect(after.summary).toMatchObject({ heldSince: T0, filesWritten: [] });
    expect(after.manifest).toMatchObject({ publishedThrough: T0, ranges: [] });
    expect(after.stored).toEqual([]);
  });

  it('in hold mode closes a range before its longest-waiting key would wait longer than the longest hold, padded', async () => {
    // The first key waits from T0 + 5 min: 2 h 30 min reach to T0 + 2 h 35 min, so the range ends at T0 + 2 h, not T0 + 3 h.
    const p = await publisher({ privacyFloor: 'hold', minKeysPerFile: 5, maxKeysPerFile: 10, maxHoldSeconds: 2.5 * HOUR });
    await p.store.insert([exposureAt(REGION, T0 + 300), exposureAt(REGION, T0 + HOUR + 600), exposureAt(REGION, T0 + 2 * HOUR + 600)]);
    await wholeRun(p, T0);
    const { after } = await alone(p, T0 + 4 * HOUR + 300, publishNewRanges);
    // The third key, alone since T0 + 2 h 10 min, may wait until T0 + 4 h 40 min: its range ends at T0 + 4 h.
    expect(after.summary.filesWritten).toEqual([file(T0, T0 + 2 * HOUR, 1), file(T0 + 2 * HOUR, T0 + 4 * HOUR, 1)]);
    expect(after.manifest.ranges.map(({ realKeys, paddingKeys }) => ({ realKeys, paddingKeys }))).toEqual([
      { realKeys: 2, paddingKeys: 3 },
      { realKeys: 1, paddingKeys: 4 },
    ]);
  });

  it('finishes a range a crashed run began: only the keys its files lack, in files numbered after them', async () => {
    const p = await publisher();
    const keys = exposuresInWindow(REGION, T0, 10);
    await p.store.insert(keys);
    const crashed = await publishExports(p, { now: new Date((T0 + HOUR + 300) * 1000), wallClock: () => (T0 + HOUR + 300) * 1000, onStep: (step) => { if (step === 'file-written') throw new Error('killed'); } });
    expect(crashed.regions[0].status).toBe('failed');
    const { after } = await alone(p, T0 + HOUR + 300, publishNewRanges);
    expect(after.summary.filesWritten).toEqual([file(T0, T0 + HOUR, 2), file(T0, T0 + HOUR, 3)]);
    const view = await readPublished(p.exports, REGION);
    expect([...view.files.values()].flatMap((f) => f.keys).sort()).toEqual(keys.map((e) => hex(e.tek.keyData)).sort());
  });

  it('past the deadline it publishes nothing and says so', async () => {
    const p = await publisher();
    await p.store.insert(exposuresInWindow(REGION, T0, 2));
    await wholeRun(p, T0);
    const { before, after } = await alone(p, T0 + HOUR + 300, publishNewRanges, { deadlineAt: 0 });
    expect(after).toEqual({ ...before, summary: { ...before.summary, deadlineReached: true } });
  });
});

describe('writeIndex', () => {
  async function published() {
    const p = await publisher();
    await p.store.insert([...exposuresInWindow(REGION, T0, 3), ...exposuresInWindow(REGION, T0 + HOUR, 1)]);
    await wholeRun(p, T0);
    const opened = await open(p, T0 + 2 * HOUR + 300);
    await publishNewRanges(opened.run, opened.state);
    await opened.release();
    return p;
  }

  it('writes index.txt, then index.json, naming the recorded files; a purge is recorded as due before either is written', async () => {
    const p = await published();
    const opened = await open(p, T0 + 2 * HOUR + 300);
    let pendingWhenTxtWritten: boolean | undefined;
    opened.run = { ...opened.run, boundary: async (step) => { if (step === 'index-txt-written') pendingWhenTxtWritten = (await readManifest(p.state, REGION)).manifest.purgePending; } };
    const after = await writeIndex(opened.run, opened.state);
    await opened.release();
    expect(pendingWhenTxtWritten).toBe(true);
    expect(after.summary.indexChanged).toBe(true);
    const view = await readPublished(p.exports, REGION);
    expect(view.indexTxt!.split('\n')).toEqual([file(T0, T0 + HOUR, 1), file(T0 + HOUR, T0 + 2 * HOUR, 1)]);
    expect(view.indexJson!.files.map((f) => f.path)).toEqual(view.indexTxt!.split('\n'));
    expect(view.indexHeaders).toEqual([
      { name: indexJsonName(REGION), contentType: 'application/json; charset=utf-8', cacheControl: 'public, max-age=60, s-maxage=3600' },
      { name: indexTxtName(REGION), contentType: 'text/plain; charset=utf-8', cacheControl: 'public, max-age=60, s-maxage=3600' },
    ]);
  });

  it('writes nothing and saves nothing when the index already names exactly the recorded files', async () => {
    const p = await published();
    await alone(p, T0 + 2 * HOUR + 300, writeIndex);
    const { before, after, steps } = await alone(p, T0 + 2 * HOUR + 301, writeIndex);
    expect(after).toBe(before);
    expect(steps).toEqual([]);
  });

  it('takes ranges past the file retention out of the index, recording when once both files are written', async () => {
    const p = await published();
    await alone(p, T0 + 2 * HOUR + 300, writeIndex);
    const unlistAt = T0 + 2 * HOUR + 14 * DAY + 1;
    const { saved, steps } = await alone(p, unlistAt, writeIndex);
    expect(steps).toEqual(['index-txt-written', 'index-written']);
    expect(saved.manifest.ranges.map((r) => r.unlistedAt)).toEqual([unlistAt, unlistAt]);
    expect((await readPublished(p.exports, REGION)).indexTxt).toBe('');
  });
});

describe('purgeIndex', () => {
  it('purges nothing when no purge is due', async () => {
    const purger = new RecordingPurger();
    const p = await publisher({}, purger);
    await wholeRun(p, T0);
    purger.calls.length = 0;
    const { before, after } = await alone(p, T0 + 60, purgeIndex);
    expect(after).toBe(before);
    expect(purger.calls).toEqual([]);
  });

  it('purges the two index paths, then records that no purge is pending and when the unlisted ranges were purged', async () => {
    const purger = new RecordingPurger();
    const p = await publisher({}, purger);
    await p.store.insert(exposuresInWindow(REGION, T0, 1));
    await wholeRun(p, T0 + HOUR + 300);
    const unlistAt = T0 + HOUR + 14 * DAY + 1;
    // `--now` behind the wall clock: the purge is dated by the wall clock.
    const opened = await open(p, unlistAt, { wall: unlistAt + 50 });
    const indexed = await writeIndex(opened.run, opened.state);
    purger.calls.length = 0;
    const after = await purgeIndex(opened.run, indexed);
    await opened.release();
    expect(after.summary).toMatchObject({ purged: true, purgeAttempts: 1 });
    expect(purger.calls).toEqual([[`/${indexTxtName(REGION)}`, `/${indexJsonName(REGION)}`]]);
    expect(opened.steps.at(-1)).toBe('purged');
    expect((await readManifest(p.state, REGION)).manifest).toMatchObject({ purgePending: false, ranges: [{ unlistedAt: unlistAt, purgedAt: unlistAt + 50 }] });
  });

  it('a purge that keeps failing is reported, counted and left pending', async () => {
    const purger = new RecordingPurger();
    const p = await publisher({ purgeAttempts: 3 }, purger);
    await p.store.insert(exposuresInWindow(REGION, T0, 1));
    const opened = await open(p, T0 + HOUR + 300);
    const indexed = await writeIndex(opened.run, await publishNewRanges(opened.run, opened.state));
    purger.failures = 10;
    const after = await purgeIndex(opened.run, indexed);
    await opened.release();
    expect(after.summary).toMatchObject({ purged: false, purgeAttempts: 3 });
    expect((await readManifest(p.state, REGION)).manifest.purgePending).toBe(true);
    expect(purger.calls).toHaveLength(3);
  });
});

describe('cleanUp', () => {
  it('deletes files a cache lifetime after the purge that followed their unlisting, not a second before, then their records', async () => {
    const p = await publisher();
    await p.store.insert(exposuresInWindow(REGION, T0, 5));
    await wholeRun(p, T0 + HOUR + 300);
    const unlistAt = T0 + HOUR + 14 * DAY + 1;
    await wholeRun(p, unlistAt);
    const early = await alone(p, unlistAt + INDEX_CACHE_GRACE_SECONDS - 1, cleanUp);
    expect(early.after.summary.filesDeleted).toBe(0);
    const { after, saved, steps } = await alone(p, unlistAt + INDEX_CACHE_GRACE_SECONDS, cleanUp);
    expect(after.summary.filesDeleted).toBe(2);
    expect(steps).toEqual(['file-deleted', 'file-deleted', 'files-deleted', 'keys-deleted']);
    expect(saved.manifest.ranges).toEqual([]);
    expect((await readPublished(p.exports, REGION)).files.size).toBe(0);
  });

  it('records files no record names, from before the cursor and past the retention, as unlisted, and a purge as due', async () => {
    const p = await publisher();
    await p.store.insert(exposuresInWindow(REGION, T0, 1));
    await wholeRun(p, T0 + HOUR + 300);
    // The manifest is lost: a fresh record far later finds the old file in storage.
    const lock = (await acquireLock(p.state, manifestBlobName(REGION), { leaseSeconds: 15, initialContent: Buffer.from(''), logger: silentLogger }))!;
    await p.state.replace(manifestBlobName(REGION), Buffer.from(JSON.stringify({ ...emptyManifest(REGION), publishedThrough: T0 + 20 * DAY })), { contentType: 'application/json' }, { ifMatch: (await p.state.read(manifestBlobName(REGION)))!.etag, leaseId: lock.leaseId });
    await lock.release();
    const { saved } = await alone(p, T0 + 20 * DAY, cleanUp);
    expect(saved.manifest).toMatchObject({ purgePending: true, ranges: [{ start: T0, end: T0 + HOUR, settled: true, unlistedAt: T0 + 20 * DAY, files: [{ name: file(T0, T0 + HOUR, 1) }] }] });
  });

  it('deletes keys uploaded before the key retention from the store', async () => {
    const p = await publisher();
    const keys = exposuresInWindow(REGION, T0, 3);
    await p.store.insert(keys);
    await wholeRun(p, T0 + HOUR + 300);
    expect((await alone(p, T0 + 15 * DAY, cleanUp)).after.summary.keysDeleted).toBe(0);
    expect((await alone(p, T0 + HOUR + 15 * DAY, cleanUp)).after.summary.keysDeleted).toBe(3);
    expect(await p.store.get(REGION, keys.map((e) => e.id))).toEqual([]);
  });
});
