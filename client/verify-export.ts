/**
 * What a phone checks before it hands a downloaded export file to the exposure-notification
 * framework: the zip holds exactly export.bin and export.sig, both parse, the region is the one
 * asked for, batch 1 of 1 everywhere, a sane time window (the one the file's name says, when it
 * says one), every key within the format, and a signature by the health authority's key that
 * export.bin itself announces. WebCrypto and protobufjs only: the same code runs in a browser.
 */
import { Root, type Type } from 'protobufjs/light';
import { EXPORT_PROTO_JSON } from '../proto/export-schema-json';
import type { ExportFields, SignatureInfo, TEKSignatureFields, TemporaryExposureKeyFields } from '../proto/schema';
import { checkTekFormat, MAX_EXPORT_FILE_BYTES, MAX_KEYS_PER_FILE } from '../proto/tek';
import { rawOfDerSignature } from './der-signature';
import { ClientError } from './errors';
import { importVerificationKey, type CryptoKey, type VerificationKey } from './public-key';
import { readExportZip } from './zip-reader';

/** ASN.1 OID of ECDSA P-256 with SHA-256, the only algorithm GAEN files use. */
export const ECDSA_P256_SHA256_OID = '1.2.840.10045.4.3.2';
/** "EK Export v1" right-padded with spaces to 16 bytes. */
const EXPORT_HEADER = new TextEncoder().encode('EK Export v1'.padEnd(16, ' '));
/** Timestamps above this are milliseconds where seconds are due. */
const MAX_TIMESTAMP_SECONDS = 1e11;

let types: { exportMessage: Type; signatureList: Type } | undefined;
function schema(): { exportMessage: Type; signatureList: Type } {
  if (!types) {
    const root = Root.fromJSON(EXPORT_PROTO_JSON);
    types = { exportMessage: root.lookupType('keyfront.export.TemporaryExposureKeyExport'), signatureList: root.lookupType('keyfront.export.TEKSignatureList') };
  }
  return types;
}

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
  /** The phone's clock, UTC seconds: a window ending more than an hour after it is refused. */
  nowSeconds?: number;
}

// The decoded shapes are proto/schema.ts's; only its types are used (the module reads export.proto from disk).
/** As decoded without defaults: a file may leave out any field, so every one is checked. */
type DecodedKey = Partial<TemporaryExposureKeyFields>;
type DecodedSignatureInfo = SignatureInfo;
type DecodedExport = Omit<ExportFields, 'keys' | 'revisedKeys'> & { keys: DecodedKey[]; revisedKeys: DecodedKey[] };
type DecodedSignature = TEKSignatureFields;

function decode<T>(type: Type, bytes: Uint8Array, what: string): T {
  try {
    return type.toObject(type.decode(bytes), { longs: Number, arrays: true, enums: Number, defaults: false }) as T;
  } catch (error) {
    throw new ClientError('export_invalid', `${what} does not parse: ${(error as Error).message}`, { cause: error });
  }
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

function checkWindow(fields: DecodedExport, expect: VerifyExpectations): void {
  const { startTimestamp: start, endTimestamp: end } = fields;
  if (start === undefined || end === undefined || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) {
    throw new ClientError('window_invalid', `the file's window must have start < end, got ${String(start)}..${String(end)}`);
  }
  if (end > MAX_TIMESTAMP_SECONDS) throw new ClientError('window_invalid', `the window end ${end} looks like milliseconds: timestamps are UTC seconds`);
  if (expect.window && (expect.window.start !== start || expect.window.end !== end)) {
    throw new ClientError('window_invalid', `the file is named for ${expect.window.start}..${expect.window.end} but holds the window ${start}..${end}`);
  }
  if (expect.nowSeconds !== undefined && end > expect.nowSeconds + 3600) {
    throw new ClientError('window_invalid', `the window ends at ${end}, more than an hour after the phone's clock (${expect.nowSeconds})`);
  }
}

function checkBatches(fields: DecodedExport, signatures: readonly DecodedSignature[]): void {
  if (fields.batchNum !== 1 || fields.batchSize !== 1) {
    throw new ClientError('batch_inconsistent', `export.bin must be batch 1 of 1, got ${String(fields.batchNum)} of ${String(fields.batchSize)}`);
  }
  for (const [i, signature] of signatures.entries()) {
    if (signature.batchNum !== 1 || signature.batchSize !== 1) {
      throw new ClientError('batch_inconsistent', `signature ${i} must be batch 1 of 1 like export.bin, got ${String(signature.batchNum)} of ${String(signature.batchSize)}`);
    }
  }
}

function checkKeys(fields: DecodedExport): void {
  const total = fields.keys.length + fields.revisedKeys.length;
  if (total > MAX_KEYS_PER_FILE) throw new ClientError('export_invalid', `a file holds at most ${MAX_KEYS_PER_FILE} keys, this one ${total}`);
  const lists: Array<[string, DecodedKey[]]> = [['key', fields.keys], ['revised key', fields.revisedKeys]];
  for (const [what, keys] of lists) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const check = checkTekFormat({
        keyData: key.keyData ?? new Uint8Array(0),
        rollingStartIntervalNumber: key.rollingStartIntervalNumber as number,
        rollingPeriod: key.rollingPeriod ?? 144,
        transmissionRiskLevel: key.transmissionRiskLevel ?? 0,
        reportType: key.reportType,
        daysSinceOnsetOfSymptoms: key.daysSinceOnsetOfSymptoms,
      });
      if (!check.ok) throw new ClientError('export_invalid', `${what} ${i} breaks the format: ${check.message} (${check.code})`);
    }
  }
}

function sameInfo(a: DecodedSignatureInfo, b: DecodedSignatureInfo): boolean {
  return (a.verificationKeyId ?? '') === (b.verificationKeyId ?? '') && (a.verificationKeyVersion ?? '') === (b.verificationKeyVersion ?? '') && (a.signatureAlgorithm ?? '') === (b.signatureAlgorithm ?? '');
}

async function findValidSignature(bin: Uint8Array, signatures: readonly DecodedSignature[], key: CryptoKey): Promise<DecodedSignature | undefined> {
  for (const signature of signatures) {
    const raw = signature.signature && rawOfDerSignature(signature.signature);
    if (raw && (await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, bin))) return signature;
  }
  return undefined;
}

/**
 * Verifies one downloaded export file (the zip's bytes). Resolves to what the file holds, or
 * throws `ClientError` with a stable code: `zip_invalid`, `export_invalid`, `wrong_region`,
 * `window_invalid`, `batch_inconsistent`, `signature_invalid`, `public_key_invalid`.
 */
export async function verifyExportFile(bytes: Uint8Array, key: VerificationKey, expect: VerifyExpectations = {}): Promise<VerifiedExport> {
  const publicKey = await importVerificationKey(key.publicKey);
  if (bytes.length > MAX_EXPORT_FILE_BYTES) throw new ClientError('zip_invalid', `the file is ${bytes.length} bytes; phones accept at most ${MAX_EXPORT_FILE_BYTES}`);
  const { bin, sig } = await readExportZip(bytes);
  const header = bin.subarray(0, EXPORT_HEADER.length);
  if (header.length !== EXPORT_HEADER.length || header.some((byte, i) => byte !== EXPORT_HEADER[i])) {
    throw new ClientError('export_invalid', 'export.bin does not start with the header "EK Export v1"');
  }
  const { exportMessage, signatureList } = schema();
  const fields = decode<DecodedExport>(exportMessage, bin.subarray(EXPORT_HEADER.length), 'export.bin');
  const signatures = decode<{ signatures: DecodedSignature[] }>(signatureList, sig, 'export.sig').signatures;
  if (!fields.region) throw new ClientError('export_invalid', 'export.bin names no region');
  if (expect.region !== undefined && fields.region !== expect.region) {
    throw new ClientError('wrong_region', `the file is of region ${JSON.stringify(fields.region)}, not ${JSON.stringify(expect.region)}`);
  }
  checkBatches(fields, signatures);
  checkWindow(fields, expect);
  checkKeys(fields);
  if (signatures.length === 0) throw new ClientError('signature_invalid', 'export.sig holds no signature');
  for (const [i, signature] of signatures.entries()) {
    const algorithm = signature.signatureInfo?.signatureAlgorithm ?? '';
    if (algorithm !== ECDSA_P256_SHA256_OID) throw new ClientError('signature_invalid', `signature ${i} names algorithm ${JSON.stringify(algorithm)}; only ${ECDSA_P256_SHA256_OID} (ECDSA P-256 with SHA-256) is accepted`);
  }
  const good = await findValidSignature(bin, signatures, publicKey);
  if (!good) throw new ClientError('signature_invalid', "no signature in export.sig verifies export.bin with the health authority's public key");
  const info = good.signatureInfo ?? {};
  if (!fields.signatureInfos.some((announced) => sameInfo(announced, info))) {
    throw new ClientError('signature_invalid', "the valid signature's key id and version are not among those export.bin announces");
  }
  if (key.keyId !== undefined && info.verificationKeyId !== key.keyId) {
    throw new ClientError('signature_invalid', `the file is signed as key id ${JSON.stringify(info.verificationKeyId ?? '')}, the app expects ${JSON.stringify(key.keyId)}`);
  }
  if (key.keyVersion !== undefined && info.verificationKeyVersion !== key.keyVersion) {
    throw new ClientError('signature_invalid', `the file is signed as key version ${JSON.stringify(info.verificationKeyVersion ?? '')}, the app expects ${JSON.stringify(key.keyVersion)}`);
  }
  return {
    region: fields.region,
    startTimestamp: fields.startTimestamp as number,
    endTimestamp: fields.endTimestamp as number,
    batchNum: 1,
    batchSize: 1,
    keyCount: fields.keys.length,
    revisedKeyCount: fields.revisedKeys.length,
    signatureInfo: { verificationKeyId: info.verificationKeyId ?? '', verificationKeyVersion: info.verificationKeyVersion ?? '', signatureAlgorithm: info.signatureAlgorithm ?? '' },
    binSha256: hex(await crypto.subtle.digest('SHA-256', bin)),
    bytes: bytes.length,
  };
}
