/**
 * The `ExposureStore` contract, run against both implementations: the Cosmos store on the
 * emulator through the real `@azure/cosmos` client, and the memory store used in unit tests.
 */
import { randomBytes } from 'node:crypto';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { exposureId, type Exposure, type ExposureStore } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { ReportType } from '../../proto/tek';
import { startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';

const DAY = 86400;
const T0 = 1_800_000_000;

function exposure(region: string, fields: Partial<Exposure> = {}): Exposure {
  const keyData = randomBytes(16);
  return {
    id: exposureId(region, keyData),
    region,
    tek: { keyData, rollingStartIntervalNumber: T0 / 600 - 144, rollingPeriod: 144, transmissionRiskLevel: 2, reportType: ReportType.CONFIRMED_TEST, daysSinceOnsetOfSymptoms: 1 },
    uploadedAt: T0,
    publishAt: T0 + 3600,
    healthAuthorityId: 'ha',
    ...fields,
  };
}

async function collect(pages: AsyncIterable<Exposure[]>): Promise<{ pages: Exposure[][]; all: Exposure[] }> {
  const seen: Exposure[][] = [];
  for await (const page of pages) seen.push(page);
  return { pages: seen, all: seen.flat() };
}

const ids = (list: readonly Exposure[]) => list.map((e) => e.id).sort();

let emulator: CosmosEmulator;
let databaseCount = 0;

beforeAll(async () => {
  emulator = await startCosmosEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

const implementations: [string, () => Promise<ExposureStore>][] = [
  ['memory', async () => new MemoryExposureStore()],
  [
    'cosmos',
    async () => {
      // A database per test keeps the tests independent on one emulator.
      const container = await ensureExposuresContainer(emulator.client(), { databaseId: `contract${databaseCount++}` });
      return new CosmosExposureStore({ container, shards: 4 });
    },
  ],
];

describe.each(implementations)('ExposureStore contract: %s', (_name, open) => {
  let store: ExposureStore;
  beforeEach(async () => {
    store = await open();
  });

  it('inserts new keys and reads them back field for field', async () => {
    const a = exposure('DE', { traveler: true, uploadId: 'upload-a' });
    const b = exposure('DE', { healthAuthorityId: undefined });
    delete b.healthAuthorityId;
    const result = await store.insert([a, b]);
    expect({ ...result, insertedIds: [...result.insertedIds].sort() }).toEqual({ inserted: 2, insertedIds: [a.id, b.id].sort() });
    const got = await store.get('DE', [b.id, a.id]);
    expect(got).toHaveLength(2);
    const byId = new Map(got.map((e) => [e.id, e]));
    for (const original of [a, b]) {
      const stored = byId.get(original.id)!;
      expect({ ...stored, tek: { ...stored.tek, keyData: Buffer.from(stored.tek.keyData) } }).toEqual({ ...original, tek: { ...original.tek, keyData: Buffer.from(original.tek.keyData) } });
    }
  });

  it('stores a re-uploaded key once and keeps its first times, even hours later', async () => {
    const first = exposure('DE');
    await store.insert([first]);
    const later = { ...first, uploadedAt: first.uploadedAt + 5 * 3600, publishAt: first.publishAt + 5 * 3600 };
    const other = exposure('DE');
    expect(await store.insert([later, other])).toEqual({ inserted: 1, insertedIds: [other.id] });
    const [stored] = await store.get('DE', [first.id]);
    expect(stored.uploadedAt).toBe(first.uploadedAt);
    expect(stored.publishAt).toBe(first.publishAt);
    const { all } = await collect(store.listForPublication('DE', 0, T0 + 30 * DAY));
    expect(all.filter((e) => e.id === first.id)).toHaveLength(1);
  });

  it('leaves ids that are not stored, or stored in another region, out of get', async () => {
    const a = exposure('DE');
    await store.insert([a]);
    expect(await store.get('DE', ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', a.id])).toHaveLength(1);
    expect(await store.get('FR', [a.id])).toEqual([]);
    expect(await store.get('DE', [])).toEqual([]);
  });

  it('lists a region by publishAt in [from, to), each key exactly once, in pages no larger than asked', async () => {
    const inside = Array.from({ length: 23 }, (_, i) => exposure('DE', { publishAt: T0 + i * 60 }));
    const atEnd = exposure('DE', { publishAt: T0 + 3600 });
    const before = exposure('DE', { publishAt: T0 - 1 });
    const otherRegion = exposure('FR', { publishAt: T0 + 5 });
    await store.insert([...inside, atEnd, before, otherRegion]);
    const { pages, all } = await collect(store.listForPublication('DE', T0, T0 + 3600, { pageSize: 5 }));
    expect(ids(all)).toEqual(ids(inside));
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(5);
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect((await collect(store.listForPublication('XX', 0, T0 * 2))).all).toEqual([]);
  });

  it('revises a stored key once, and lists revisions by the revision publishAt', async () => {
    const a = exposure('DE', { tek: { ...exposure('DE').tek, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS } });
    a.id = exposureId('DE', a.tek.keyData);
    const missing = exposure('DE');
    await store.insert([a]);
    const revision = { reportType: ReportType.CONFIRMED_TEST, daysSinceOnsetOfSymptoms: 2, revisedAt: T0 + 100, publishAt: T0 + 3600 };
    expect(await store.revise([{ ...a, revision }, { ...missing, revision }, a])).toEqual({ revised: 1 });
    const [stored] = await store.get('DE', [a.id]);
    expect(stored.revision).toEqual(revision);
    expect(stored.tek.reportType).toBe(ReportType.CONFIRMED_CLINICAL_DIAGNOSIS);
    expect(stored.uploadedAt).toBe(a.uploadedAt);
    // A second revision of the same key changes nothing.
    const again = { ...revision, reportType: ReportType.REVOKED, revisedAt: T0 + 200 };
    expect(await store.revise([{ ...a, revision: again }])).toEqual({ revised: 0 });
    expect((await store.get('DE', [a.id]))[0].revision).toEqual(revision);
    expect(ids((await collect(store.listRevisionsForPublication('DE', T0 + 3600, T0 + 7200))).all)).toEqual([a.id]);
    expect((await collect(store.listRevisionsForPublication('DE', T0, T0 + 3600))).all).toEqual([]);
    expect(await store.get('DE', [missing.id])).toEqual([]);
  });

  it('deletes the keys of a region uploaded before a time, and only those', async () => {
    const old = Array.from({ length: 7 }, (_, i) => exposure('DE', { uploadedAt: T0 - 16 * DAY + i }));
    const fresh = exposure('DE', { uploadedAt: T0 - 14 * DAY });
    const otherRegion = exposure('FR', { uploadedAt: T0 - 20 * DAY });
    await store.insert([...old, fresh, otherRegion]);
    expect(await store.deleteUploadedBefore('DE', T0 - 15 * DAY)).toEqual({ deleted: 7 });
    expect(await store.get('DE', old.map((e) => e.id))).toEqual([]);
    expect(await store.get('DE', [fresh.id])).toHaveLength(1);
    expect(await store.get('FR', [otherRegion.id])).toHaveLength(1);
    expect(await store.deleteUploadedBefore('DE', T0 - 15 * DAY)).toEqual({ deleted: 0 });
  });

  it('keeps an old key whose revision is not yet as old, and deletes it once the revision is', async () => {
    const revisedLate = exposure('DE', { uploadedAt: T0 - 16 * DAY });
    const revisedEarly = exposure('DE', { uploadedAt: T0 - 16 * DAY });
    await store.insert([revisedLate, revisedEarly]);
    const revision = (at: number) => ({ reportType: ReportType.REVOKED, revisedAt: at, publishAt: at });
    expect(await store.revise([{ ...revisedLate, revision: revision(T0 - 15 * DAY + 60) }, { ...revisedEarly, revision: revision(T0 - 15 * DAY - 60) }])).toEqual({ revised: 2 });
    expect(await store.deleteUploadedBefore('DE', T0 - 15 * DAY)).toEqual({ deleted: 1 });
    expect(ids(await store.get('DE', [revisedLate.id, revisedEarly.id]))).toEqual([revisedLate.id]);
    // A minute later the revision is as old as the cut: now the key goes too.
    expect(await store.deleteUploadedBefore('DE', T0 - 15 * DAY + 61)).toEqual({ deleted: 1 });
    expect(await store.get('DE', [revisedLate.id])).toEqual([]);
  });

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(store.insert([exposure('DE')], { abortSignal: controller.signal })).rejects.toThrow();
    await expect(store.deleteUploadedBefore('DE', T0, { abortSignal: controller.signal })).rejects.toThrow();
  });
});
