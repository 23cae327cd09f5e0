import { MemoryExposureStore } from '../../exposures/memory-store';
import { ReportType, tekFromJson, type Tek } from '../../proto/tek';
import type { HealthAuthority } from '../config';
import { storeUpload } from './store-upload';
import { dailyKeys, NOW } from '../../test/support/api-fixture';

const ha: HealthAuthority = { id: 'ha', issuer: 'i', audience: 'a', regions: ['DE', 'AT'], jwks: { keys: [] } };
const nowSeconds = NOW.getTime() / 1000;

function teks(count: number): Tek[] {
  return dailyKeys(count).map((k) => (tekFromJson(k) as { tek: Tek }).tek);
}

describe('storeUpload', () => {
  it('stores each key once per region of the health authority, with its traveler flag', async () => {
    const store = new MemoryExposureStore();
    const result = await storeUpload(store, { teks: teks(3), certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_TEST, uploadId: 'u1' }, traveler: true, nowSeconds });
    expect(result).toMatchObject({ inserted: 6, revised: 0 });
    for (const region of ha.regions) {
      const listed = [];
      for await (const page of store.listForPublication(region, 0, 2 ** 31)) listed.push(...page);
      expect(listed).toHaveLength(3);
      expect(listed.every((e) => e.traveler === true && e.healthAuthorityId === 'ha')).toBe(true);
    }
  });

  it('writes nothing when a revision is refused, not even the new keys of the upload', async () => {
    const store = new MemoryExposureStore();
    const old = teks(1);
    await storeUpload(store, { teks: old, certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, uploadId: 'u1' }, nowSeconds });
    const before = store.size;
    const upload = storeUpload(store, { teks: [...old, ...teks(2).map((t, i) => ({ ...t, rollingStartIntervalNumber: old[0].rollingStartIntervalNumber - (i + 1) * 144 }))], certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_TEST, uploadId: 'u1' }, nowSeconds });
    await expect(upload).rejects.toMatchObject({ code: 'invalid_revision_token' });
    expect(store.size).toBe(before);
  });

  it('lets a token name only keys this uploader stored (now, or before: a retry), in every region, never keys somebody else stored', async () => {
    const store = new MemoryExposureStore();
    const mine = teks(3);
    const hexOf = (tek: Tek) => Buffer.from(tek.keyData).toString('hex');
    const hexes = (keys: Set<Uint8Array>) => [...keys].map((keyData) => Buffer.from(keyData).toString('hex')).sort();
    const first = await storeUpload(store, { teks: mine, certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, uploadId: 'victim' }, nowSeconds });
    expect(hexes(first.revisable)).toEqual(mine.map(hexOf).sort());
    // The same upload again (its answer was lost): the same uploader, the same keys.
    const retry = await storeUpload(store, { teks: mine, certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, uploadId: 'victim' }, nowSeconds });
    expect(retry).toMatchObject({ inserted: 0 });
    expect(hexes(retry.revisable)).toEqual(mine.map(hexOf).sort());
    // Somebody who knows a published key and holds a certificate of their own.
    const other = await storeUpload(store, { teks: [mine[0]], certificate: { healthAuthority: ha, reportType: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, uploadId: 'attacker' }, nowSeconds });
    expect(other).toMatchObject({ inserted: 0 });
    expect(other.revisable.size).toBe(0);
  });
});
