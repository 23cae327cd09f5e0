/**
 * Export files for the phone's tests: real ones from the codec (`buildExport`) and crafted bad
 * ones (another batch number, another region, another key) signed the same way, so that each bad
 * answer differs from a good file in exactly one respect.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildExport, encodeSignatureList } from '../../proto/codec';
import { EXPORT_HEADER } from '../../proto/export-bin';
import { TEKSignatureList, TemporaryExposureKeyExport } from '../../proto/schema';
import { realisticKeys } from '../../proto/test-keys';
import { writeExportZip } from '../../proto/zip';
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
}

export function testAuthority(keyId = KEY_ID, keyVersion = KEY_VERSION): TestAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { signer: new LocalSigner(privateKey, { keyId, keyVersion }), publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
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

export interface CraftOptions {
  region?: string;
  start?: number;
  end?: number;
  batchNum?: number;
  batchSize?: number;
  signatureBatchNum?: number;
  /** Signs with this authority instead (export.bin still announces the original's key id). */
  signWith?: TestAuthority;
}

/** An export file whose fields are set by hand, signed over its export.bin as the publisher signs. */
export async function craftedExport(authority: TestAuthority, options: CraftOptions = {}): Promise<Buffer> {
  const start = options.start ?? WINDOW_START;
  const keys = realisticKeys(5, { today: Math.floor(WINDOW_START / 86400) * 144 });
  const message = {
    startTimestamp: start,
    endTimestamp: options.end ?? start + 3600,
    region: options.region ?? REGION,
    batchNum: options.batchNum ?? 1,
    batchSize: options.batchSize ?? 1,
    signatureInfos: [authority.signer.signatureInfo],
    keys: Array.from({ length: keys.length }, (_, i) => ({ keyData: keys.keyDataAt(i), rollingStartIntervalNumber: keys.start[i], rollingPeriod: keys.period[i], transmissionRiskLevel: keys.risk[i], reportType: 1 })),
  };
  const bin = Buffer.concat([EXPORT_HEADER, TemporaryExposureKeyExport.encode(message).finish()]);
  const signer = (options.signWith ?? authority).signer;
  const signature = await signer.sign(bin);
  let sig = encodeSignatureList(authority.signer.signatureInfo, signature);
  if (options.signatureBatchNum !== undefined) {
    sig = Buffer.from(TEKSignatureList.encode({ signatures: [{ signatureInfo: authority.signer.signatureInfo, batchNum: options.signatureBatchNum, batchSize: 1, signature }] }).finish());
  }
  return writeExportZip(bin, sig);
}
