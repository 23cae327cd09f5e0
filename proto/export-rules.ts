/**
 * The one rule set of an export file, judged on its raw decoded fields (export-decode.ts), in any
 * JavaScript runtime. `keyfront export verify` (codec.ts) and the phone (client/verify-export.ts)
 * both run `verifyExportArchive`, so a file is refused by both with the same code, the checks in
 * the same order; only the signature check differs (node:crypto or WebCrypto) and is passed in.
 *
 * Not here: the rules of an upload that a published file does not follow (`keys_overlap`, keys per
 * start interval: a file mixes many people's keys; `checkUpload` in tek.ts), and what needs a clock
 * or an expectation (the region asked for, the window a file's name announces, a window in the
 * future), which the phone judges after these rules.
 */
import { ExportFormatError } from './errors';
import { decodeExportBin, decodeSignatureList } from './export-decode';
import type { ExportFields, SignatureInfo, TEKSignatureFields } from './schema';
import { checkTekFormat, INTERVALS_PER_DAY, MAX_EXPORT_FILE_BYTES, MAX_KEYS_PER_FILE } from './tek';
import { readExportEntries } from './zip-reader';

/** ASN.1 OID of ecdsa-with-SHA256, the only algorithm GAEN files use and keyfront signs or accepts. */
export const ECDSA_P256_SHA256_OID = '1.2.840.10045.4.3.2';

/** Timestamps above this are milliseconds passed where seconds are due (year 5138 in seconds). */
export const MAX_TIMESTAMP_SECONDS = 1e11;

/**
 * Whether a DER-encoded ECDSA signature of `data` verifies with a key the verifier accepts for the
 * signature's key id and version (`info`, as export.sig names it). A verifier that accepts several
 * keys (during a key rotation) tries the ones whose id and version match; false when none does.
 */
export type SignatureCheck = (data: Uint8Array, derSignature: Uint8Array, info: SignatureInfo) => boolean | Promise<boolean>;

export interface VerifyArchiveOptions {
  /**
   * Check every signature of export.sig, not only up to the first that verifies: to show which
   * keys signed a file (the transparency page). The verdict is the same either way.
   */
  allSignatures?: boolean;
}

/** An archive that met every rule, with what a caller reports. */
export interface VerifiedArchive {
  export: ExportFields;
  signatures: TEKSignatureFields[];
  bin: Uint8Array;
  sig: Uint8Array;
  /** The info of the first signature that verified: the one the verdict rests on. */
  signatureInfo: SignatureInfo;
  /**
   * The infos of the signatures that verified and that export.bin announces, in export.sig's order:
   * the first alone, or every one with `allSignatures`.
   */
  verifiedSignatures: SignatureInfo[];
}

function fail(code: ConstructorParameters<typeof ExportFormatError>[0], message: string): never {
  throw new ExportFormatError(code, message);
}

function keyId(keyData: Uint8Array): string {
  return String.fromCharCode(...keyData);
}

/**
 * The content rules of export.bin: batch 1 of 1, a window of whole seconds with start < end (not
 * milliseconds), at most 750,000 keys and revised keys, a region, every key within the format
 * (its raw report type included) and no key twice in a list. Throws `ExportFormatError`.
 */
export function checkExportFields(fields: ExportFields): void {
  if (fields.batchNum !== 1 || fields.batchSize !== 1) {
    fail('batch_invalid', `batch_num and batch_size must both be 1, got ${String(fields.batchNum)} of ${String(fields.batchSize)}`);
  }
  const { startTimestamp: start, endTimestamp: end } = fields;
  if (start === undefined || end === undefined || end <= start) {
    fail('timestamps_invalid', `start_timestamp and end_timestamp must be set with start < end, got ${String(start)}..${String(end)}`);
  }
  if (end > MAX_TIMESTAMP_SECONDS) fail('timestamps_invalid', `end_timestamp ${end} looks like milliseconds: timestamps are UTC seconds`);
  const total = fields.keys.length + fields.revisedKeys.length;
  if (total > MAX_KEYS_PER_FILE) fail('too_many_keys', `a file holds at most ${MAX_KEYS_PER_FILE} keys and revised keys, this one ${total}`);
  if (!fields.region) fail('region_invalid', 'the region is missing');
  const lists = [['key', fields.keys], ['revised key', fields.revisedKeys]] as const;
  for (const [what, keys] of lists) {
    const seen = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const check = checkTekFormat(
        {
          keyData: key.keyData,
          rollingStartIntervalNumber: key.rollingStartIntervalNumber as number,
          rollingPeriod: key.rollingPeriod ?? INTERVALS_PER_DAY,
          transmissionRiskLevel: key.transmissionRiskLevel ?? 0,
          reportType: key.reportType,
          daysSinceOnsetOfSymptoms: key.daysSinceOnsetOfSymptoms,
        },
        i,
      );
      if (!check.ok) fail('key_invalid', `${what} ${i} breaks the format: ${check.message} (${check.code})`);
      const id = keyId(key.keyData);
      if (seen.has(id)) fail('duplicate_key', `${what} ${i} appears twice in the file`);
      seen.add(id);
    }
  }
}

/** export.sig holds at least one signature, each of the OID's algorithm and batch 1 of 1. */
export function checkSignatureList(signatures: readonly TEKSignatureFields[]): void {
  if (signatures.length === 0) fail('signature_missing', 'export.sig holds no signature');
  for (const [i, signature] of signatures.entries()) {
    const algorithm = signature.signatureInfo?.signatureAlgorithm;
    if (algorithm !== ECDSA_P256_SHA256_OID) {
      fail('signature_algorithm_unsupported', `signature ${i} names algorithm ${JSON.stringify(algorithm ?? '')}; only the OID ${ECDSA_P256_SHA256_OID} (ECDSA P-256 with SHA-256) is accepted`);
    }
    if (signature.batchNum !== 1 || signature.batchSize !== 1) {
      fail('batch_invalid', `signature ${i} must be batch 1 of 1, got ${String(signature.batchNum)} of ${String(signature.batchSize)}`);
    }
  }
}

/** The key id and version a verifier expects a signature to name; either left open accepts any. */
export interface ExpectedKeyInfo {
  keyId?: string;
  keyVersion?: string;
}

/** Whether a signature's info names the expected key id and version. */
export function namesExpectedKey(info: SignatureInfo, expected: ExpectedKeyInfo): boolean {
  return (expected.keyId === undefined || info.verificationKeyId === expected.keyId) && (expected.keyVersion === undefined || info.verificationKeyVersion === expected.keyVersion);
}

function sameInfo(a: SignatureInfo | undefined, b: SignatureInfo): boolean {
  return (a?.verificationKeyId ?? '') === (b.verificationKeyId ?? '') && (a?.verificationKeyVersion ?? '') === (b.verificationKeyVersion ?? '') && (a?.signatureAlgorithm ?? '') === (b.signatureAlgorithm ?? '');
}

/**
 * Verifies an export zip strictly: at most 16 MB, exactly export.bin and export.sig (sizes, CRC-32,
 * limits), the header, both protobufs, the content rules, the signature list, one signature that
 * verifies with `check`, and its key id and version announced by export.bin. A file signed by
 * several keys (one TEKSignature each, during a key rotation) passes on the first signature that
 * verifies, whichever key made it. Throws `ExportFormatError` with the first rule broken.
 */
export async function verifyExportArchive(zip: Uint8Array, check: SignatureCheck, options: VerifyArchiveOptions = {}): Promise<VerifiedArchive> {
  if (zip.length > MAX_EXPORT_FILE_BYTES) fail('file_too_large', `the export file is ${zip.length} bytes; at most ${MAX_EXPORT_FILE_BYTES} are accepted`);
  const { bin, sig } = await readExportEntries(zip);
  const fields = decodeExportBin(bin);
  const signatures = decodeSignatureList(sig);
  checkExportFields(fields);
  checkSignatureList(signatures);
  const verified: SignatureInfo[] = [];
  for (const signature of signatures) {
    const info = signature.signatureInfo as SignatureInfo;
    if (signature.signature && (await check(bin, signature.signature, info))) {
      verified.push({ ...info });
      if (!options.allSignatures) break;
    }
  }
  if (verified.length === 0) {
    const held = signatures.map(({ signatureInfo: info }) => `${info?.verificationKeyId ?? ''}/${info?.verificationKeyVersion ?? ''}`).join(', ');
    fail('signature_invalid', `no signature in export.sig verifies export.bin with the given public key (export.sig holds signatures of key id/version ${held})`);
  }
  const [first] = verified;
  const announced = (info: SignatureInfo) => fields.signatureInfos.some((entry) => sameInfo(entry, info));
  if (!announced(first)) {
    fail('signature_info_mismatch', `the signature's key id ${JSON.stringify(first.verificationKeyId ?? '')} and version ${JSON.stringify(first.verificationKeyVersion ?? '')} are not among export.bin's signature infos`);
  }
  return { export: fields, signatures, bin, sig, signatureInfo: first, verifiedSignatures: verified.filter(announced) };
}
