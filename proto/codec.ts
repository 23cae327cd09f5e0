/**
 * The export codec: keys -> signed zip, and zip -> parsed, strictly verified export.
 * This is the file format every phone downloads; the write API, the publisher and the CLI all
 * go through here.
 */
import { createHash, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ExportFormatError } from './errors';
import { encodeExportBinChunks } from './export-bin';
import { decodeExportBin, decodeSignatureList } from './export-decode';
import { namesExpectedKey, verifyExportArchive, type ExpectedKeyInfo, type SignatureCheck } from './export-rules';
import { TEKSignatureList, type ExportFields, type SignatureInfo, type TEKSignatureFields } from './schema';
import { loadPublicKey, verifyDerSignature } from './signature';
import type { Signer, SignOptions } from './signer';
import { MAX_EXPORT_FILE_BYTES, type Tek } from './tek';
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
  /** The first signer's info. */
  signatureInfo: SignatureInfo;
  /** Every signer's info, in the order of export.bin's signature infos and export.sig's signatures. */
  signatureInfos: SignatureInfo[];
}

export interface ExportSignature {
  signatureInfo: SignatureInfo;
  /** DER. */
  signature: Uint8Array;
}

/** Encodes a TEKSignatureList: one TEKSignature per key, in order, each batch 1 of 1. */
export function encodeSignatureList(signatures: readonly ExportSignature[]): Buffer {
  const message = { signatures: signatures.map(({ signatureInfo, signature }) => ({ signatureInfo: { ...signatureInfo }, batchNum: 1, batchSize: 1, signature })) };
  return Buffer.from(TEKSignatureList.encode(message).finish());
}

/** The signers of one file: at least one, no key id and version twice (a phone could not tell them apart). */
function signerList(signers: Signer | readonly Signer[]): readonly Signer[] {
  const list = Array.isArray(signers) ? (signers as readonly Signer[]) : [signers as Signer];
  if (list.length === 0) throw new Error('an export file needs at least one signer');
  const seen = new Set<string>();
  for (const { signatureInfo: info } of list) {
    const id = `${info.verificationKeyId ?? ''}/${info.verificationKeyVersion ?? ''}`;
    if (seen.has(id)) throw new Error(`two signers of one file name the same key id and version ${id}`);
    seen.add(id);
  }
  return list;
}

function fileTooLarge(bytes: number): ExportFormatError {
  return new ExportFormatError('file_too_large', `the export file is ${bytes} bytes; at most ${MAX_EXPORT_FILE_BYTES} are accepted`);
}

/**
 * Builds, signs and zips one export file, in memory. export.bin is encoded in chunks that go to
 * deflate (on the thread pool) and into the hash as they are made, so the cost of a file is close
 * to the cost of deflating it (bench:export). Several signers (a key rotation) each sign the same
 * export.bin: export.bin announces every key and export.sig carries their signatures in the same
 * order. Throws `ExportFormatError` for keys or a window that break the format, before any work
 * is spent.
 */
export async function buildExport(input: ExportInput, signers: Signer | readonly Signer[], options: BuildOptions = {}): Promise<BuiltExport> {
  const list = signerList(signers);
  const signatureInfos = list.map((signer) => ({ ...signer.signatureInfo }));
  const asList = (keys: TekList | readonly Tek[] | undefined) => (keys instanceof TekList ? keys : TekList.from(keys ?? []));
  const keys = asList(input.keys);
  const revisedKeys = asList(input.revisedKeys);
  const chunks = encodeExportBinChunks(
    { startTimestamp: input.startTimestamp, endTimestamp: input.endTimestamp, region: input.region, signatureInfos },
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
    const signed = await Promise.all(list.map((signer) => signer.sign(parts, { abortSignal: options.abortSignal })));
    const sig = encodeSignatureList(signed.map((signature, i) => ({ signatureInfo: signatureInfos[i], signature })));
    const zip = await writer.finish(sig);
    if (zip.length > MAX_EXPORT_FILE_BYTES) throw fileTooLarge(zip.length);
    return {
      zip,
      binSha256: hash.digest('hex'),
      binBytes: parts.reduce((sum, part) => sum + part.length, 0),
      keyCount: keys.length,
      revisedKeyCount: revisedKeys.length,
      signatureInfo: signatureInfos[0],
      signatureInfos,
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

/** Opens a zip and parses both parts as the wire carries them, without judging them (`export inspect`, audits). */
export async function openExport(zip: Buffer): Promise<OpenedExport> {
  const { bin, sig } = await readExportZip(zip);
  return { export: decodeExportBin(bin), signatures: decodeSignatureList(sig), bin, sig };
}

/**
 * The signature check of `export verify` on node:crypto: only a signature naming the expected key
 * id and version counts, and it must verify with `publicKey` (throws `public_key_invalid` for a key
 * that is not P-256). Federation verifies a peer's files with the same check.
 */
export function nodeSignatureCheck(publicKey: string | Buffer | JsonWebKey | KeyObject, expected: ExpectedKeyInfo = {}): SignatureCheck {
  const key = loadPublicKey(publicKey);
  return (data, der, info) => namesExpectedKey(info, expected) && verifyDerSignature(data, der, key);
}

export type VerifyResult =
  | { valid: true; keyCount: number; revisedKeyCount: number; signatureInfo: SignatureInfo; binSha256: string }
  | { valid: false; code: string; reason: string };

/**
 * Strict verification against one public key (PEM or JWK): the rules of `verifyExportArchive`
 * (export-rules.ts), which the phone applies too. With a key id and version, only the signature
 * that names them counts (a file signed by several keys passes for each key whose own signature
 * verifies). Never throws for a bad file: the reason is returned.
 */
export async function verifyExport(zip: Buffer, publicKey: string | Buffer | JsonWebKey | KeyObject, expected: ExpectedKeyInfo = {}): Promise<VerifyResult> {
  try {
    const verified = await verifyExportArchive(zip, nodeSignatureCheck(publicKey, expected));
    return {
      valid: true,
      keyCount: verified.export.keys.length,
      revisedKeyCount: verified.export.revisedKeys.length,
      signatureInfo: verified.signatureInfo,
      binSha256: createHash('sha256').update(verified.bin).digest('hex'),
    };
  } catch (error) {
    if (error instanceof ExportFormatError) return { valid: false, code: error.code, reason: error.message };
    throw error;
  }
}
