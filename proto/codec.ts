/**
 * The export codec: keys -> signed zip, and zip -> parsed, strictly verified export.
 * This is the file format every phone downloads; the write API, the publisher and the CLI all
 * go through here.
 */
import { createHash, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ExportFormatError } from './errors';
import { decodeExportBin, encodeExportBinChunks, MAX_TIMESTAMP_SECONDS } from './export-bin';
import { TEKSignatureList, type ExportFields, type SignatureInfo, type TEKSignatureFields } from './schema';
import { ECDSA_P256_SHA256_OID, loadPublicKey, verifyDerSignature } from './signature';
import type { Signer, SignOptions } from './signer';
import { checkTekFormat, MAX_EXPORT_FILE_BYTES, MAX_KEYS_PER_FILE, type Tek } from './tek';
import { TekList } from './tek-list';
import { ExportZipWriter, readExportZip } from './zip';

/** zlib level of published zips: the lowest level that reaches the size goal on ordered keys (bench:export). */
export const DEFAULT_COMPRESSION_LEVEL = 5;

export interface ExportInput {
  region: string;
  /** Window start, UTC seconds. */
  startTimestamp: number;
  /** Window end, UTC seconds. */
  endTimestamp: number;
  keys: TekList | readonly Tek[];
  revisedKeys?: TekList | readonly Tek[];
}

export interface BuildOptions extends SignOptions {
  compressionLevel?: number;
  /** Keep the caller's key order instead of the publication order (tests and benchmarks only). */
  keepOrder?: boolean;
}

export interface BuiltExport {
  zip: Buffer;
  /** SHA-256 of export.bin, hex: the content identity of a file (signatures differ on every signing). */
  binSha256: string;
  binBytes: number;
  keyCount: number;
  revisedKeyCount: number;
  signatureInfo: SignatureInfo;
}

/** Encodes a TEKSignatureList with one signature, batch 1 of 1. */
export function encodeSignatureList(signatureInfo: SignatureInfo, signature: Uint8Array): Buffer {
  const message = { signatures: [{ signatureInfo: { ...signatureInfo }, batchNum: 1, batchSize: 1, signature }] };
  return Buffer.from(TEKSignatureList.encode(message).finish());
}

/**
 * Builds, signs and zips one export file, in memory. export.bin is encoded in chunks that go to
 * deflate (on the thread pool) and into the hash as they are made, so the cost of a file is close
 * to the cost of deflating it (bench:export). Throws `ExportFormatError` for keys or a window that
 * break the format, before any work is spent.
 */
function fileTooLarge(bytes: number): ExportFormatError {
  return new ExportFormatError('file_too_large', `the export file is ${bytes} bytes; at most ${MAX_EXPORT_FILE_BYTES} are accepted`);
}

export async function buildExport(input: ExportInput, signer: Signer, options: BuildOptions = {}): Promise<BuiltExport> {
  const signatureInfo = signer.signatureInfo;
  const asList = (keys: TekList | readonly Tek[] | undefined) => (keys instanceof TekList ? keys : TekList.from(keys ?? []));
  const keys = asList(input.keys);
  const revisedKeys = asList(input.revisedKeys);
  const chunks = encodeExportBinChunks(
    { startTimestamp: input.startTimestamp, endTimestamp: input.endTimestamp, region: input.region, signatureInfos: [signatureInfo] },
    keys,
    revisedKeys,
    { exportOrder: !options.keepOrder },
  );
  const writer = new ExportZipWriter({ compressionLevel: options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL });
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  try {
    for (const chunk of chunks) {
      options.abortSignal?.throwIfAborted();
      hash.update(chunk);
      parts.push(chunk);
      await writer.writeBin(chunk);
    }
    const sig = encodeSignatureList(signatureInfo, await signer.sign(parts, { abortSignal: options.abortSignal }));
    const zip = await writer.finish(sig);
    if (zip.length > MAX_EXPORT_FILE_BYTES) throw fileTooLarge(zip.length);
    return {
      zip,
      binSha256: hash.digest('hex'),
      binBytes: parts.reduce((sum, part) => sum + part.length, 0),
      keyCount: keys.length,
      revisedKeyCount: revisedKeys.length,
      signatureInfo,
    };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

export interface OpenedExport {
  export: ExportFields;
  signatures: TEKSignatureFields[];
  bin: Buffer;
  sig: Buffer;
}

/** Opens a zip and parses both parts, without judging them. */
export async function openExport(zip: Buffer): Promise<OpenedExport> {
  const { bin, sig } = await readExportZip(zip);
  const parsed = decodeExportBin(bin);
  let signatures: TEKSignatureFields[];
  try {
    const list = TEKSignatureList.toObject(TEKSignatureList.decode(sig), { arrays: true }) as { signatures: TEKSignatureFields[] };
    signatures = list.signatures;
  } catch (error) {
    throw new ExportFormatError('signature_list_invalid', `export.sig does not hold a TEKSignatureList: ${(error as Error).message}`);
  }
  return { export: parsed, signatures, bin, sig };
}

export type VerifyResult =
  | { valid: true; keyCount: number; revisedKeyCount: number; signatureInfo: SignatureInfo; binSha256: string }
  | { valid: false; code: string; reason: string };

function sameInfo(a: SignatureInfo | undefined, b: SignatureInfo): boolean {
  return (a?.verificationKeyId ?? '') === (b.verificationKeyId ?? '') && (a?.verificationKeyVersion ?? '') === (b.verificationKeyVersion ?? '') && (a?.signatureAlgorithm ?? '') === (b.signatureAlgorithm ?? '');
}

function checkContent(fields: ExportFields): void {
  if (fields.batchNum !== 1 || fields.batchSize !== 1) {
    throw new ExportFormatError('batch_invalid', `batch_num and batch_size must both be 1, got ${String(fields.batchNum)} of ${String(fields.batchSize)}`);
  }
  const { startTimestamp: start, endTimestamp: end } = fields;
  if (start === undefined || end === undefined || end <= start) {
    throw new ExportFormatError('timestamps_invalid', `start_timestamp and end_timestamp must be set with start < end, got ${String(start)}..${String(end)}`);
  }
  if (end > MAX_TIMESTAMP_SECONDS) throw new ExportFormatError('timestamps_invalid', `end_timestamp ${end} looks like milliseconds: timestamps are UTC seconds`);
  if (fields.keys.length + fields.revisedKeys.length > MAX_KEYS_PER_FILE) {
    throw new ExportFormatError('too_many_keys', `a file holds at most ${MAX_KEYS_PER_FILE} keys and revised keys, this one ${fields.keys.length + fields.revisedKeys.length}`);
  }
  if (!fields.region) throw new ExportFormatError('region_invalid', 'the region is missing');
  const seen = new Set<string>();
  const lists: Array<[string, ExportFields['keys']]> = [['key', fields.keys], ['revised key', fields.revisedKeys]];
  for (const [what, keys] of lists) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const tek = {
        keyData: key.keyData,
        rollingStartIntervalNumber: key.rollingStartIntervalNumber as number,
        rollingPeriod: key.rollingPeriod,
        transmissionRiskLevel: key.transmissionRiskLevel ?? 0,
        reportType: key.reportType,
        daysSinceOnsetOfSymptoms: key.daysSinceOnsetOfSymptoms,
      };
      const check = checkTekFormat(tek, i);
      if (!check.ok) throw new ExportFormatError('key_invalid', `${what} ${i} breaks the format: ${check.message} (${check.code})`);
      if (what === 'key') {
        const id = Buffer.from(key.keyData).toString('base64');
        if (seen.has(id)) throw new ExportFormatError('duplicate_key', `key ${i} appears twice in the file`);
        seen.add(id);
      }
    }
  }
}

/**
 * Strict verification against one public key (PEM or JWK): the zip holds exactly both entries,
 * the header and both protobufs parse, batch 1 of 1, a sane window, every key within the format,
 * every signature of algorithm ECDSA P-256/SHA-256 (OID), and one of them valid for the key and
 * announced in export.bin's signature infos. Never throws for a bad file: the reason is returned.
 */
export async function verifyExport(zip: Buffer, publicKey: string | Buffer | JsonWebKey | KeyObject): Promise<VerifyResult> {
  try {
    const key = loadPublicKey(publicKey);
    if (zip.length > MAX_EXPORT_FILE_BYTES) throw fileTooLarge(zip.length);
    const opened = await openExport(zip);
    checkContent(opened.export);
    if (opened.signatures.length === 0) throw new ExportFormatError('signature_missing', 'export.sig holds no signature');
    for (const [i, signature] of opened.signatures.entries()) {
      const algorithm = signature.signatureInfo?.signatureAlgorithm;
      if (algorithm !== ECDSA_P256_SHA256_OID) {
        throw new ExportFormatError('signature_algorithm_unsupported', `signature ${i} names algorithm ${JSON.stringify(algorithm ?? '')}; only the OID ${ECDSA_P256_SHA256_OID} (ECDSA P-256 with SHA-256) is accepted`);
      }
      if (signature.batchNum !== 1 || signature.batchSize !== 1) {
        throw new ExportFormatError('batch_invalid', `signature ${i} must be batch 1 of 1, got ${String(signature.batchNum)} of ${String(signature.batchSize)}`);
      }
    }
    const good = opened.signatures.find((s) => s.signature && verifyDerSignature(opened.bin, s.signature, key));
    if (!good) throw new ExportFormatError('signature_invalid', 'no signature in export.sig verifies export.bin with the given public key');
    const info = good.signatureInfo as SignatureInfo;
    if (!opened.export.signatureInfos.some((announced) => sameInfo(announced, info))) {
      throw new ExportFormatError('signature_info_mismatch', `the signature's key id ${JSON.stringify(info.verificationKeyId ?? '')} and version ${JSON.stringify(info.verificationKeyVersion ?? '')} are not among export.bin's signature infos`);
    }
    return {
      valid: true,
      keyCount: opened.export.keys.length,
      revisedKeyCount: opened.export.revisedKeys.length,
      signatureInfo: { ...info },
      binSha256: createHash('sha256').update(opened.bin).digest('hex'),
    };
  } catch (error) {
    if (error instanceof ExportFormatError) return { valid: false, code: error.code, reason: error.message };
    throw error;
  }
}
