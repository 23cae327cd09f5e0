/**
 * Export files for the phone's tests: real ones from the codec (`buildExport`) and crafted bad
 * ones (another batch number, another region, another key) signed the same way, so that each bad
 * answer differs from a good file in exactly one respect.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildExport } from '../../proto/codec';
import { EXPORT_HEADER } from '../../proto/export-bin';
import { TEKSignatureList, TemporaryExposureKeyExport } from '../../proto/schema';
import { realisticKeys } from '../../proto/test-keys';
import * as yazl from 'yazl';
import { readExportZip, writeExportZip } from '../../proto/zip';
import { LocalSigner } from '../../publisher/signers/local';

export const REGION = '440';
export const KEY_ID = '440';
export const KEY_VERSION = 'v1';
/** A window of the recent past (whole hours), UTC seconds. */
export const WINDOW_START = Math.floor(Date.now() / 3_600_000) * 3600 - 2 * 3600;

export interface TestAuthority {
  signer: LocalSigner;
  publicKey: KeyObject;
  publicPem: string;
  /** The signing key as PEM (for tests of a private key given where the public one belongs). */
  privatePem: string;
}

export function testAuthority(keyId = KEY_ID, keyVersion = KEY_VERSION): TestAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { signer: new LocalSigner(privateKey, { keyId, keyVersion }), publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The path the publisher would give a file of the window starting at `start` (an hour long). */
export function exportPath(start: number, region = REGION): string {
  return `v1/${region}/${start}-${start + 3600}-00001.zip`;
}

/** A real export file of `keys` keys for the hour starting at `start`. */
export async function realExport(authority: TestAuthority, start = WINDOW_START, options: { keys?: number; region?: string } = {}): Promise<Buffer> {
  const keys = realisticKeys(options.keys ?? 20, { today: Math.floor(start / 86400) * 144 });
  const built = await buildExport({ region: options.region ?? REGION, startTimestamp: start, endTimestamp: start + 3600, keys }, authority.signer);
  return built.zip;
}

/**
 * A real export file signed by every authority in order (a key rotation's overlap); with
 * `corruptSignature`, that signature is replaced by a valid signature of other bytes.
 */
export async function rotationExport(authorities: readonly TestAuthority[], start = WINDOW_START, options: { corruptSignature?: number; keys?: number } = {}): Promise<Buffer> {
  const keys = realisticKeys(options.keys ?? 20, { today: Math.floor(start / 86400) * 144 });
  const built = await buildExport({ region: REGION, startTimestamp: start, endTimestamp: start + 3600, keys }, authorities.map((authority) => authority.signer));
  if (options.corruptSignature === undefined) return built.zip;
  const { bin, sig } = await readExportZip(built.zip);
  const list = TEKSignatureList.decode(sig) as unknown as { signatures: Array<Record<string, unknown>> };
  list.signatures[options.corruptSignature].signature = await authorities[options.corruptSignature].signer.sign(Buffer.from('other bytes'));
  return writeExportZip(bin, Buffer.from(TEKSignatureList.encode(list).finish()));
}

/** A key record as written to export.bin, with raw values (a report type of 6 is written as 6). */
export type RawKey = { keyData?: Uint8Array; rollingStartIntervalNumber?: number; rollingPeriod?: number; transmissionRiskLevel?: number; reportType?: number; daysSinceOnsetOfSymptoms?: number };

/** `count` good keys of the day of `start` (as the codec's test keys), as raw records. */
export function goodKeys(count: number, start = WINDOW_START): RawKey[] {
  const keys = realisticKeys(count, { today: Math.floor(start / 86400) * 144 });
  return Array.from({ length: keys.length }, (_, i) => ({ keyData: Buffer.from(keys.keyDataAt(i)), rollingStartIntervalNumber: keys.start[i], rollingPeriod: keys.period[i], transmissionRiskLevel: keys.risk[i], reportType: 1 }));
}

export interface CraftOptions {
  region?: string;
  start?: number;
  end?: number;
  batchNum?: number;
  batchSize?: number;
  signatureBatchNum?: number;
  /** Signs with this authority instead (export.bin still announces the original's key id). */
  signWith?: TestAuthority;
  /** The key records (five good keys when absent). */
  keys?: RawKey[];
  revisedKeys?: RawKey[];
  /** Fields of the message to set as given (`undefined` leaves one out). */
  message?: Record<string, unknown>;
  /** The 16 bytes before the message. */
  header?: Buffer;
  /** The signature algorithm export.sig names. */
  signatureAlgorithm?: string;
  /** The signature infos export.bin announces. */
  announced?: Array<Record<string, string>>;
  /** Rewrites the DER signature before it is put in export.sig. */
  derSignature?: (der: Buffer) => Buffer;
}

/** An export file whose fields are set by hand, signed over its export.bin as the publisher signs. */
export async function craftedExport(authority: TestAuthority, options: CraftOptions = {}): Promise<Buffer> {
  const start = options.start ?? WINDOW_START;
  const message = {
    startTimestamp: start,
    endTimestamp: options.end ?? start + 3600,
    region: options.region ?? REGION,
    batchNum: options.batchNum ?? 1,
    batchSize: options.batchSize ?? 1,
    signatureInfos: options.announced ?? [authority.signer.signatureInfo],
    keys: options.keys ?? goodKeys(5),
    revisedKeys: options.revisedKeys ?? [],
    ...options.message,
  };
  const bin = Buffer.concat([options.header ?? EXPORT_HEADER, TemporaryExposureKeyExport.encode(message).finish()]);
  const signer = (options.signWith ?? authority).signer;
  const der = await signer.sign(bin);
  const signature = options.derSignature ? options.derSignature(der) : der;
  const signatureInfo = { ...authority.signer.signatureInfo, ...(options.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: options.signatureAlgorithm }) };
  const sig = Buffer.from(TEKSignatureList.encode({ signatures: [{ signatureInfo, batchNum: options.signatureBatchNum ?? 1, batchSize: 1, signature }] }).finish());
  return writeExportZip(bin, sig);
}

/** A zip of `entries` by an independent writer (yazl): for archives the codec would never write. */
export function yazlZip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name);
  zip.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
  });
}
