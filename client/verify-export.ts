/**
 * What a phone checks before it hands a downloaded export file to the exposure-notification
 * framework. First proto/'s one rule set (`verifyExportArchive`, the same `keyfront export verify`
 * applies, with the same codes): exactly export.bin and export.sig, both parse, batch 1 of 1, a
 * window of seconds, every key within the format and none twice, and a signature by the health
 * authority's key that export.bin announces. Then what only the phone knows: the region it asked
 * for, the key id and version it is configured with, the window the file's name announces, and
 * whether the window fits the server's time (clock.ts). WebCrypto and protobufjs only: the same
 * code runs in a browser.
 */
import { ECDSA_P256_SHA256_OID, verifyExportArchive } from '../proto/export-rules';
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
  /** The info of the signature that verified. */
  signatureInfo: SignatureInfoFields;
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

/** A signature check for proto/'s rules: DER (read as strictly as OpenSSL) to r||s, then WebCrypto. */
function webCryptoCheck(key: CryptoKey) {
  return async (data: Uint8Array, der: Uint8Array): Promise<boolean> => {
    const raw = rawOfDerSignature(der);
    return raw !== undefined && crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data);
  };
}

/**
 * Verifies one downloaded export file (the zip's bytes). Resolves to what the file holds, or
 * throws `ClientError`: a code of proto/'s rule set (the one `keyfront export verify` prints, see
 * `ClientErrorCode`), or `wrong_region`, `window_invalid`, `signature_invalid` (another key id or
 * version than the app expects), `public_key_invalid`.
 */
export async function verifyExportFile(bytes: Uint8Array, key: VerificationKey, expect: VerifyExpectations = {}): Promise<VerifiedExport> {
  const publicKey = await importVerificationKey(key.publicKey);
  let verified;
  try {
    verified = await verifyExportArchive(bytes, webCryptoCheck(publicKey));
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
  if (key.keyId !== undefined && info.verificationKeyId !== key.keyId) {
    throw new ClientError('signature_invalid', `the file is signed as key id ${JSON.stringify(info.verificationKeyId ?? '')}, the app expects ${JSON.stringify(key.keyId)}`);
  }
  if (key.keyVersion !== undefined && info.verificationKeyVersion !== key.keyVersion) {
    throw new ClientError('signature_invalid', `the file is signed as key version ${JSON.stringify(info.verificationKeyVersion ?? '')}, the app expects ${JSON.stringify(key.keyVersion)}`);
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
    signatureInfo: { verificationKeyId: info.verificationKeyId ?? '', verificationKeyVersion: info.verificationKeyVersion ?? '', signatureAlgorithm: info.signatureAlgorithm ?? '' },
    binSha256: hex(await crypto.subtle.digest('SHA-256', verified.bin)),
    bytes: bytes.length,
  };
}
