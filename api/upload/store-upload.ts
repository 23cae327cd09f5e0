/**
 * Turns a verified upload into store writes: one exposure per key and region of the health
 * authority, new keys inserted, keys stored before revised (or left alone when unchanged). All
 * refusals happen before the first write, so a refused upload stores nothing.
 */
import { exposureId, publishAtOf, type Exposure, type ExposureStore, type StoreOptions } from '../../exposures/exposure-store';
import { ReportType, type Tek } from '../../proto/tek';
import type { VerifiedCertificate } from './certificate';
import { revisionOf } from './revise';
import type { RevisableKey } from './revision-token';
import { daysSinceOnset, isPlausibleDaysSinceOnset } from './symptom-onset';

export interface VerifiedUpload {
  teks: readonly Tek[];
  certificate: VerifiedCertificate;
  /** From `chooseOnsetInterval`. */
  onsetInterval?: number;
  traveler?: boolean;
  /** The keys of the presented revision token; `undefined` when none was presented. */
  revisable?: readonly RevisableKey[];
  nowSeconds: number;
}

export interface StoredUpload {
  inserted: number;
  revised: number;
  /**
   * The keys a revision token may name, by their `keyData` (the upload's own arrays): those this
   * request stored or revised, and those its uploader stored before (a retry after a lost answer),
   * in every region. Never a key somebody else stored: keys are public once published, and a
   * token for them would let anyone with a certificate revoke them.
   */
  revisable: Set<Uint8Array>;
}

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

/** The keys as the certificate says they are; keys whose onset distance the format cannot hold are left out (GAEN). */
export function certifiedTeks(upload: Pick<VerifiedUpload, 'teks' | 'certificate' | 'onsetInterval'>): Tek[] {
  const teks: Tek[] = [];
  for (const tek of upload.teks) {
    const certified: Tek = { keyData: tek.keyData, rollingStartIntervalNumber: tek.rollingStartIntervalNumber, rollingPeriod: tek.rollingPeriod, transmissionRiskLevel: tek.transmissionRiskLevel, reportType: upload.certificate.reportType };
    if (upload.onsetInterval !== undefined) {
      const days = daysSinceOnset(upload.onsetInterval, tek.rollingStartIntervalNumber);
      if (!isPlausibleDaysSinceOnset(days)) continue;
      certified.daysSinceOnsetOfSymptoms = days;
    }
    teks.push(certified);
  }
  return teks;
}

export async function storeUpload(store: ExposureStore, upload: VerifiedUpload, options: StoreOptions = {}): Promise<StoredUpload> {
  const { healthAuthority } = upload.certificate;
  const tokenKeys = new Map((upload.revisable ?? []).map((key) => [hex(key.keyData), key]));
  const toInsert: Exposure[] = [];
  const toRevise: Exposure[] = [];
  /** Per key (its keyData array, shared by the certified copies): in how many regions this uploader may revise it. */
  const owned = new Map<Uint8Array, number>();
  const own = (keyData: Uint8Array) => owned.set(keyData, (owned.get(keyData) ?? 0) + 1);
  const teks = certifiedTeks(upload);
  for (const region of healthAuthority.regions) {
    const candidates = teks.map((tek): Exposure => {
      const exposure: Exposure = { id: exposureId(region, tek.keyData), region, tek, uploadedAt: upload.nowSeconds, publishAt: publishAtOf(tek, upload.nowSeconds), healthAuthorityId: healthAuthority.id, uploadId: upload.certificate.uploadId };
      if (upload.traveler !== undefined) exposure.traveler = upload.traveler;
      return exposure;
    });
    const stored = new Map((await store.get(region, candidates.map((e) => e.id), options)).map((e) => [e.id, e]));
    for (const candidate of candidates) {
      const existing = stored.get(candidate.id);
      if (!existing) {
        // A negative result for keys never uploaded: nothing to revoke, nothing to store.
        if (candidate.tek.reportType !== ReportType.REVOKED) toInsert.push(candidate);
        continue;
      }
      const incoming = { ...candidate.tek, reportType: candidate.tek.reportType ?? ReportType.UNKNOWN };
      const revision = revisionOf(existing, incoming, { presented: upload.revisable !== undefined, key: tokenKeys.get(hex(candidate.tek.keyData)) }, upload.nowSeconds);
      if (revision) toRevise.push({ ...existing, revision });
      // Revised with a valid token now, or stored by this same uploader before.
      if (revision || (existing.uploadId !== undefined && existing.uploadId === upload.certificate.uploadId)) own(candidate.tek.keyData);
    }
  }
  const { inserted, insertedIds } = toInsert.length > 0 ? await store.insert(toInsert, options) : { inserted: 0, insertedIds: [] };
  const { revised } = toRevise.length > 0 ? await store.revise(toRevise, options) : { revised: 0 };
  const insertedNow = new Set(insertedIds);
  for (const exposure of toInsert) if (insertedNow.has(exposure.id)) own(exposure.tek.keyData);
  const regions = healthAuthority.regions.length;
  const revisable = new Set<Uint8Array>();
  for (const [keyData, count] of owned) if (count === regions) revisable.add(keyData);
  return { inserted, revised, revisable };
}
