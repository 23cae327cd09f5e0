/**
 * A peer's export file judged as `keyfront export verify` judges one (proto/export-rules.ts, with
 * the same node:crypto signature check, for the peer's key id and version only), then as an
 * importer must: the region is the peer's source region, and every key kept the clock rules at the
 * file's end (not older than 15 UTC days, not starting after it) and does not start after our
 * now. Keys that were fine when the peer published them but are too old now are left out, not
 * refused: a peer's index keeps files for 14 days.
 */
import { nodeSignatureCheck } from '../../proto/codec';
import { ExportFormatError } from '../../proto/errors';
import { verifyExportArchive } from '../../proto/export-rules';
import type { TemporaryExposureKeyFields } from '../../proto/schema';
import { checkTekAt, INTERVALS_PER_DAY, type Tek } from '../../proto/tek';
import { FederationError, type RefusalCode } from './codes';
import type { Peer } from './peer';

export interface VerifiedPeerFile {
  /** The keys to import. */
  keys: Tek[];
  /** Keys left out: older than 15 UTC days now. */
  expired: number;
  /** Revised keys the file carries: not imported (a revision needs the key it revises, stored by the peer). */
  revisedKeys: number;
}

function tekOf(key: TemporaryExposureKeyFields): Tek {
  const tek: Tek = { keyData: key.keyData, rollingStartIntervalNumber: key.rollingStartIntervalNumber as number, rollingPeriod: key.rollingPeriod ?? INTERVALS_PER_DAY, transmissionRiskLevel: key.transmissionRiskLevel ?? 0 };
  if (key.reportType !== undefined) tek.reportType = key.reportType;
  if (key.daysSinceOnsetOfSymptoms !== undefined) tek.daysSinceOnsetOfSymptoms = key.daysSinceOnsetOfSymptoms;
  return tek;
}

/** The keys of a peer's file, or a `FederationError` with the first rule it breaks (never retried: a published file never changes). */
export async function verifyPeerFile(zip: Uint8Array, peer: Pick<Peer, 'publicKey' | 'keyId' | 'keyVersion' | 'sourceRegion'>, now: Date): Promise<VerifiedPeerFile> {
  let fields;
  try {
    ({ export: fields } = await verifyExportArchive(zip, nodeSignatureCheck(peer.publicKey, { keyId: peer.keyId, keyVersion: peer.keyVersion })));
  } catch (error) {
    if (error instanceof ExportFormatError) throw new FederationError(error.code, error.message, false);
    throw error;
  }
  if (fields.region !== peer.sourceRegion) throw new FederationError('wrong_region', `the file is of region ${JSON.stringify(fields.region)}, not the peer's ${JSON.stringify(peer.sourceRegion)}`, false);
  const end = new Date((fields.endTimestamp as number) * 1000);
  const keys: Tek[] = [];
  let expired = 0;
  for (const [i, key] of fields.keys.entries()) {
    const tek = tekOf(key);
    const atEnd = checkTekAt(tek, end, i);
    if (!atEnd.ok) throw new FederationError(atEnd.code as RefusalCode, `key ${i} breaks the rules at the file's end: ${atEnd.message}`, false);
    const atNow = checkTekAt(tek, now, i);
    if (!atNow.ok && atNow.code === 'rolling_start_in_future') throw new FederationError('rolling_start_in_future', `key ${i} starts after our clock: ${atNow.message}`, false);
    if (!atNow.ok) expired++;
    else keys.push(tek);
  }
  return { keys, expired, revisedKeys: fields.revisedKeys.length };
}
