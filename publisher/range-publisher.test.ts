/** The range publisher on memory parts: files of a range, numbering, padding, keys already published, embargo, bad stored keys, revisions, taken names. */
import { createLogger } from '../platform/log';
import { openExport, verifyExport } from '../proto/codec';
import { ReportType } from '../proto/tek';
import { fileMetadata, publishedFileFromBlob } from './manifest';
import { createMemoryPublisher, type MemoryPublisher } from './memory-publisher';
import { PublishConflictError, RangePublisher, type RangeDeps, type RangeSettings } from './range-publisher';
import type { PublishStep, StepDetail } from './steps';
import { exposureAt, exposuresInWindow, hex, HOUR, T0, TEST_SETTINGS } from '../test/support/publisher-harness';

const REGION = '440';
const SETTINGS: RangeSettings = { maxKeysPerFile: 4, minKeysPerFile: 0, paddingJitter: 0, storePageSize: 3 };
const WALL = T0 + HOUR + 300;

async function setup(): Promise<{ p: MemoryPublisher; deps: RangeDeps; steps: Array<[PublishStep, StepDetail]>; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const p = await createMemoryPublisher(TEST_SETTINGS, { logger });
  const steps: Array<[PublishStep, StepDetail]> = [];
  const deps: RangeDeps = { store: p.store, exports: p.exports, signer: p.signer, logger, wallClock: () => WALL * 1000, onStep: (step, detail) => void steps.push([step, detail]) };
  return { p, deps, steps, lines };
}

async function keysOf(p: MemoryPublisher, name: string): Promise<string[]> {
  return (await openExport((await p.exports.read(name))!.data)).export.keys.map((k) => hex(k.keyData));
}

const fileName = (n: number, end = T0 + HOUR) => `v1/${REGION}/${T0}-${end}-${String(n).padStart(5, '0')}.zip`;

it('streams a range into files of at most maxKeysPerFile, numbered from 1, each written create-only with the export headers and its metadata', async () => {
  const { p, deps, steps } = await setup();
  const exposures = exposuresInWindow(REGION, T0, 10);
  await p.store.insert(exposures);
  const publisher = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await publisher.read(T0, T0 + HOUR);
  const result = await publisher.finish(T0 + HOUR);
  expect(result.files.map((f) => [f.name, f.keys])).toEqual([[fileName(1), 4], [fileName(2), 4], [fileName(3), 2]]);
  expect(result).toMatchObject({ start: T0, end: T0 + HOUR, realKeys: 10, realRevisedKeys: 0, paddingKeys: 0, publishedKeys: 10, publishedRevisedKeys: 0 });
  expect(result.newFiles).toEqual(result.files);
  expect(steps).toEqual(result.files.map((f) => ['file-written', { region: REGION, name: f.name }]));
  const all: string[] = [];
  for (const file of result.files) {
    const blob = (await p.exports.read(file.name))!;
    expect(blob).toMatchObject({ contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable', metadata: fileMetadata(file) });
    // A listing knows all but when the file was written, which the run records (its wall clock).
    expect(publishedFileFromBlob(blob)).toEqual({ ...file, createdAt: undefined });
    expect(file.createdAt).toBe(WALL);
    expect(await verifyExport(blob.data, p.publicKey)).toMatchObject({ valid: true, binSha256: file.binSha256 });
    all.push(...(await keysOf(p, file.name)));
  }
  expect(all.sort()).toEqual(exposures.map((e) => hex(e.tek.keyData)).sort());
});

it('pads a file below the privacy floor with generated keys, counted apart from the real ones', async () => {
  const { p, deps } = await setup();
  await p.store.insert(exposuresInWindow(REGION, T0, 2));
  const publisher = await RangePublisher.open(deps, { ...SETTINGS, minKeysPerFile: 5, maxKeysPerFile: 10 }, REGION, T0, []);
  await publisher.read(T0, T0 + HOUR);
  const result = await publisher.finish(T0 + HOUR);
  expect(result).toMatchObject({ realKeys: 2, paddingKeys: 3, publishedKeys: 2 });
  expect(result.files.map((f) => f.keys)).toEqual([5]);
});

it('skips the keys files of the range already carry, and numbers new files after them and after a name once used', async () => {
  const { p, deps } = await setup();
  const early = exposuresInWindow(REGION, T0, 3);
  await p.store.insert(early);
  const first = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await first.read(T0, T0 + HOUR);
  const before = await first.finish(T0 + HOUR);
  const late = [exposureAt(REGION, T0 + 1000), exposureAt(REGION, T0 + 2000)];
  await p.store.insert(late);
  const again = await RangePublisher.open(deps, SETTINGS, REGION, T0, before.files, undefined, 4);
  await again.read(T0, T0 + HOUR);
  const result = await again.finish(T0 + HOUR);
  expect(result.newFiles.map((f) => f.name)).toEqual([fileName(5)]);
  expect(result.files.map((f) => f.n)).toEqual([1, 5]);
  expect(result).toMatchObject({ realKeys: 5, publishedKeys: 2 });
  expect((await keysOf(p, fileName(5))).sort()).toEqual(late.map((e) => hex(e.tek.keyData)).sort());
});

it('leaves out keys still under embargo by the wall clock, and stored keys that break the format, logging ids, never key data', async () => {
  const { p, deps, lines } = await setup();
  const good = exposureAt(REGION, T0 + 100);
  // Rolling period ends at T0 + 1 h: embargoed until T0 + 3 h, after the wall clock.
  const embargoed = exposureAt(REGION, T0 + 200, { rollingStartIntervalNumber: (T0 + HOUR) / 600 - 144 });
  const broken = exposureAt(REGION, T0 + 300, { transmissionRiskLevel: 9 });
  await p.store.insert([good, { ...embargoed, publishAt: T0 + 200 }, broken]);
  const publisher = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await publisher.read(T0, T0 + HOUR);
  const result = await publisher.finish(T0 + HOUR);
  expect(await keysOf(p, result.files[0].name)).toEqual([hex(good.tek.keyData)]);
  expect(result).toMatchObject({ realKeys: 1, publishedKeys: 1 });
  expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'stored key breaks the format', id: broken.id, rule: 'transmission_risk_invalid' }));
  expect(lines).toContainEqual(expect.objectContaining({ message: 'keys still under embargo by the wall clock left for a later run', keyCount: 1 }));
  const logged = JSON.stringify(lines);
  for (const e of [good, embargoed, broken]) {
    expect(logged).not.toContain(hex(e.tek.keyData));
    expect(logged).not.toContain(Buffer.from(e.tek.keyData).toString('base64'));
  }
});

it('publishes a revision as a revised key of the range of its own publishAt, with the revised report type', async () => {
  const { p, deps } = await setup();
  const key = exposureAt(REGION, T0 - HOUR);
  await p.store.insert([key]);
  await p.store.revise([{ ...key, revision: { reportType: ReportType.REVOKED, revisedAt: T0 + 60, publishAt: T0 + 60 } }]);
  const publisher = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await publisher.read(T0, T0 + HOUR);
  const result = await publisher.finish(T0 + HOUR);
  expect(result).toMatchObject({ realKeys: 0, realRevisedKeys: 1, publishedKeys: 0, publishedRevisedKeys: 1 });
  const opened = await openExport((await p.exports.read(result.files[0].name))!.data);
  expect(opened.export.revisedKeys.map((k) => [hex(k.keyData), k.reportType])).toEqual([[hex(key.tek.keyData), ReportType.REVOKED]]);
});

it('takes a name already published with the same content as published, and refuses one taken by other content, leaving it as it was', async () => {
  const { p, deps } = await setup();
  await p.store.insert(exposuresInWindow(REGION, T0, 2));
  const first = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await first.read(T0, T0 + HOUR);
  const published = await first.finish(T0 + HOUR);
  // A second publisher unaware of the file builds the same export.bin.
  const twin = await RangePublisher.open(deps, SETTINGS, REGION, T0, []);
  await twin.read(T0, T0 + HOUR);
  expect((await twin.finish(T0 + HOUR)).newFiles).toEqual(published.files);
  const other = await createMemoryPublisher(TEST_SETTINGS);
  await other.store.insert(exposuresInWindow(REGION, T0, 2));
  const before = (await p.exports.read(fileName(1)))!;
  const rival = await RangePublisher.open({ ...deps, store: other.store }, SETTINGS, REGION, T0, []);
  await rival.read(T0, T0 + HOUR);
  await expect(rival.finish(T0 + HOUR)).rejects.toBeInstanceOf(PublishConflictError);
  expect(await p.exports.read(fileName(1))).toEqual(before);
});
