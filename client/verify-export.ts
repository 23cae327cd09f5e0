/**
 * What a phone checks before it hands a downloaded export file to the exposure-notification
 * framework. First proto/'s one rule set (`verifyExportArchive`, the same `keyfront export verify`
 * applies, with the same codes): exactly export.bin and export.sig, both parse, batch 1 of 1, a
 * window of seconds, every key within the format and none twice, and a signature by the health
 * authority's key that export.bin announces. Then what only the phone knows: the region it asked
 * for, the window the file's name announces, and whether the window fits the server's time
 * (clock.ts). A verifier may accept several keys (during a key rotation the files carry one
 * signature per key); with a key id and version, a key verifies only the signature that names
 * them, as GAEN phones do. WebCrypto and protobufjs only: the same code runs in a browser.
 */
import { ECDSA_P256_SHA256_OID, namesExpectedKey, verifyExportArchive } from '../proto/export-rules';
import { checkWindowTime } from './clock';
import { rawOfDerSignature } from './der-signature';
import { asClientError, ClientError } from './errors';
import { importVerificationKey, type CryptoKey, type VerificationKey } from './public-key';

export { ECDSA_P256_SHA256_OID };

export interface SignatureInfoFields {
  verificationKeyId: string;
  verificationKeyVersion: string;
  signatureAlgorithm: string;
}

export interface VerifiedExport {
  region: string;
  /** Window start, UTC seconds. */
  startTimestamp: number;
  /** Window end, UTC seconds. */
  endTimestamp: number;
  batchNum: number;
  batchSize: number;
  keyCount: number;
  revisedKeyCount: number;
  /** The info of the first signature that verified with an accepted key. */
  signatureInfo: SignatureInfoFields;
  /** Every signature that verified with an accepted key (and that export.bin announces), in export.sig's order: which keys signed the file. */
  signedBy: SignatureInfoFields[];
  /** SHA-256 of export.bin, hex: the content identity of the file. */
  binSha256: string;
  bytes: number;
}

export interface VerifyExpectations {
  /** The region the phone asked for. */
  region?: string;
  /** The window the file's name announces (`{start}-{end}-{n}.zip`), UTC seconds. */
  window?: { start: number; end: number };
  /**
   * The phone's clock, UTC seconds. It may be off by up to 24 hours (`CLOCK_TOLERANCE_SECONDS`):
   * alone, it refuses only windows ending more than 25 hours after it or more than 16 days before it.
   */
  nowSeconds?: number;
  /**
   * What the server said the time is (the index's `Date` plus `Age`, or its `Last-Modified`), UTC
   * seconds: a window ending more than an hour after it, or more than 15 days before it, is refused.
   */
  serverNowSeconds?: number;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The keys a phone or the page accepts: one, or several during a key rotation. */
export type AcceptedKeys = VerificationKey | readonly VerificationKey[];

function keyList(keys: AcceptedKeys): readonly VerificationKey[] {
  const list = Array.isArray(keys) ? (keys as readonly VerificationKey[]) : [keys as VerificationKey];
  if (list.length === 0) throw new ClientError('public_key_invalid', 'no public key to verify with');
  return list;
}

/**
 * A signature check for proto/'s rules: each accepted key whose id and version the signature names
 * (any, for a key configured without them) tries it; DER (read as strictly as OpenSSL) to r||s,
 * then WebCrypto.
 */
function webCryptoCheck(keys: readonly { key: CryptoKey; expected: VerificationKey }[]) {
  return async (data: Uint8Array, der: Uint8Array, info: Parameters<typeof namesExpectedKey>[0]): Promise<boolean> => {
    const raw = rawOfDerSignature(der);
    if (raw === undefined) return false;
    for (const { key, expected } of keys) {
      if (namesExpectedKey(info, expected) && (await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data))) return true;
    }
    return false;
  };
}

function infoFields(info: { verificationKeyId?: string; verificationKeyVersion?: string; signatureAlgorithm?: string }): SignatureInfoFields {
  return { verificationKeyId: info.verificationKeyId ?? '', verificationKeyVersion: info.verificationKeyVersion ?? '', signatureAlgorithm: info.signatureAlgorithm ?? '' };
}

/**
 * Verifies one downloaded export file (the zip's bytes) with the key, or any of the keys, the app
 * accepts. Resolves to what the file holds and which accepted keys signed it, or throws
 * `ClientError`: a code of proto/'s rule set (the one `keyfront export verify` prints, see
 * `ClientErrorCode`; `signature_invalid` also when no signature names the key id and version the
 * app expects), or `wrong_region`, `window_invalid`, `public_key_invalid`.
 */
export async function verifyExportFile(bytes: Uint8Array, keys: AcceptedKeys, expect: VerifyExpectations = {}): Promise<VerifiedExport> {
  const accepted = await Promise.all(keyList(keys).map(async (expected) => ({ key: await importVerificationKey(expected.publicKey), expected })));
  let verified;
  try {
    verified = await verifyExportArchive(bytes, webCryptoCheck(accepted), { allSignatures: true });
  } catch (error) {
    throw asClientError(error);
  }
  const fields = verified.export;
  const info = verified.signatureInfo;
  const region = fields.region as string;
  const start = fields.startTimestamp as number;
  const end = fields.endTimestamp as number;
  if (expect.region !== undefined && region !== expect.region) {
    throw new ClientError('wrong_region', `the file is of region ${JSON.stringify(region)}, not ${JSON.stringify(expect.region)}`);
  }
  if (expect.window && (expect.window.start !== start || expect.window.end !== end)) {
    throw new ClientError('window_invalid', `the file is named for ${expect.window.start}..${expect.window.end} but holds the window ${start}..${end}`);
  }
  checkWindowTime(end, { phoneSeconds: expect.nowSeconds, serverSeconds: expect.serverNowSeconds });
  return {
    region,
    startTimestamp: start,
    endTimestamp: end,
    batchNum: 1,
    batchSize: 1,
    keyCount: fields.keys.length,
    revisedKeyCount: fields.revisedKeys.length,
    signatureInfo: infoFields(info),
    signedBy: verified.verifiedSignatures.map(infoFields),
    binSha256: hex(await crypto.subtle.digest('SHA-256', verified.bin)),
    bytes: bytes.length,
  };
}
