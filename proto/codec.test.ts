import { execFileSync } from 'node:child_process';
import * as fc from 'fast-check';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalSigner } from '../publisher/signers/local';
import { buildExport, encodeSignatureList, openExport, verifyExport } from './codec';
import { EXPORT_HEADER } from './export-bin';
import { TemporaryExposureKeyExport, TEKSignatureList } from './schema';
import { ECDSA_P256_SHA256_OID } from './signature';
import type { Signer } from './signer';
import { MAX_EXPORT_FILE_BYTES, type Tek } from './tek';
import { realisticKeys } from './test-keys';
import { readExportZip, writeExportZip } from './zip';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signer = new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' });
const info = signer.signatureInfo;
const window = { region: '440', startTimestamp: 1_740_000_000, endTimestamp: 1_740_003_600 };
const keys: Tek[] = [
  { keyData: Buffer.alloc(16, 2), rollingStartIntervalNumber: 2_900_000, rollingPeriod: 144, transmissionRiskLevel: 4, reportType: 1, daysSinceOnsetOfSymptoms: 0 },
  { keyData: Buffer.alloc(16, 1), rollingStartIntervalNumber: 2_900_144, rollingPeriod: 100, transmissionRiskLevel: 2 },
];

/** Builds a zip from a hand-made message, correctly signed unless told otherwise: to test one flaw at a time. */
async function craft(options: { message?: Record<string, unknown>; header?: Buffer; signatures?: Array<Record<string, unknown>>; signWith?: typeof privateKey } = {}): Promise<Buffer> {
  const message = options.message ?? { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys };
  const bin = Buffer.concat([options.header ?? EXPORT_HEADER, TemporaryExposureKeyExport.encode(message).finish()]);
  const signature = sign('sha256', bin, { key: options.signWith ?? privateKey, dsaEncoding: 'der' });
  const signatures = options.signatures ?? [{ signatureInfo: info, batchNum: 1, batchSize: 1 }];
  const sig = Buffer.from(TEKSignatureList.encode({ signatures: signatures.map((s) => ({ signature, ...s })) }).finish());
  return writeExportZip(bin, sig);
}

describe('buildExport', () => {
  it('builds a file that opens to the given window, region, batch 1 of 1 and keys in publication order', async () => {
    const built = await buildExport({ ...window, keys }, signer);
    const opened = await openExport(built.zip);
    expect(opened.export).toMatchObject({ ...window, batchNum: 1, batchSize: 1, signatureInfos: [info] });
    expect(opened.export.keys.map((k) => Buffer.from(k.keyData)[0])).toEqual([2, 1]); // start interval first, then key bytes
    expect(opened.signatures).toEqual([expect.objectContaining({ signatureInfo: info, batchNum: 1, batchSize: 1 })]);
    expect(built).toMatchObject({ keyCount: 2, revisedKeyCount: 0, binBytes: opened.bin.length });
    expect(await verifyExport(built.zip, publicKey)).toEqual({ valid: true, keyCount: 2, revisedKeyCount: 0, signatureInfo: info, binSha256: built.binSha256 });
  });

  it('writes revised keys into revised_keys', async () => {
    const revised: Tek = { ...keys[0], reportType: 5 };
    const opened = await openExport((await buildExport({ ...window, keys: [keys[1]], revisedKeys: [revised] }, signer)).zip);
    expect(opened.export.revisedKeys).toEqual([expect.objectContaining({ reportType: 5 })]);
    expect(opened.export.keys).toHaveLength(1);
  });

  it('gives the same bytes for the same keys and signature, whatever order the keys came in', async () => {
    const fixed: Signer = { signatureInfo: info, sign: async () => Buffer.from('3006020101020101', 'hex') };
    const list = realisticKeys(2000);
    const reversed = [...list].reverse();
    const a = await buildExport({ ...window, keys: list }, fixed);
    const b = await buildExport({ ...window, keys: reversed }, fixed);
    expect(b.zip.equals(a.zip)).toBe(true);
    expect(b.binSha256).toBe(a.binSha256);
  });

  it('refuses keys that break the format before signing anything', async () => {
    const spy: Signer = { signatureInfo: info, sign: jest.fn() };
    await expect(buildExport({ ...window, keys: [{ ...keys[0], rollingPeriod: 200 }] }, spy)).rejects.toMatchObject({ code: 'key_invalid', message: expect.stringContaining('rolling_period_invalid') });
    await expect(buildExport({ ...window, startTimestamp: 1_740_000_000_000, endTimestamp: 1_740_000_360_000, keys }, spy)).rejects.toMatchObject({ code: 'timestamps_invalid' });
    expect(spy.sign).not.toHaveBeenCalled();
  });

  it('passes a signer failure through and leaves nothing behind', async () => {
    const failing: Signer = { signatureInfo: info, sign: async () => Promise.reject(new Error('vault unreachable')) };
    await expect(buildExport({ ...window, keys }, failing)).rejects.toThrow('vault unreachable');
  });
});

describe('verifyExport (strict)', () => {
  it('accepts a correctly built file and its JWK public key', async () => {
    const zip = await craft();
    expect(await verifyExport(zip, publicKey.export({ format: 'jwk' }))).toMatchObject({ valid: true, keyCount: 2 });
  });

  it.each([
    ['a wrong header', () => craft({ header: Buffer.from('EK Export v2    ') }), 'header_invalid'],
    ['batch 2 of 2', () => craft({ message: { ...window, batchNum: 2, batchSize: 2, signatureInfos: [info], keys } }), 'batch_invalid'],
    ['no window', () => craft({ message: { region: '440', batchNum: 1, batchSize: 1, signatureInfos: [info], keys } }), 'timestamps_invalid'],
    ['no region', () => craft({ message: { ...window, region: undefined, batchNum: 1, batchSize: 1, signatureInfos: [info], keys } }), 'region_invalid'],
    ['a 15-byte key', () => craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [{ ...keys[0], keyData: Buffer.alloc(15) }] } }), 'key_invalid'],
    ['a risk of 9', () => craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [{ ...keys[0], transmissionRiskLevel: 9 }] } }), 'key_invalid'],
    ['a key twice', () => craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [keys[0], keys[0]] } }), 'duplicate_key'],
    // protobufjs drops enum values it does not know: the raw records are read for them.
    ['a report type of 7', () => craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [{ ...keys[0], reportType: 7 }] } }), 'key_invalid'],
    ['a revised key of report type 6', () => craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [keys[1]], revisedKeys: [{ ...keys[0], reportType: 6 }] } }), 'key_invalid'],
    ['timestamps in milliseconds', () => craft({ message: { ...window, startTimestamp: window.startTimestamp * 1000, endTimestamp: window.endTimestamp * 1000, batchNum: 1, batchSize: 1, signatureInfos: [info], keys } }), 'timestamps_invalid'],
    ['more bytes than a phone accepts', async () => Buffer.alloc(MAX_EXPORT_FILE_BYTES + 1), 'file_too_large'],
    ['no signature', () => craft({ signatures: [] }), 'signature_missing'],
    ['an algorithm that is not the OID', () => craft({ signatures: [{ signatureInfo: { ...info, signatureAlgorithm: 'ECDSA p-256 SHA-256' }, batchNum: 1, batchSize: 1 }] }), 'signature_algorithm_unsupported'],
    ['a signature of batch 2', () => craft({ signatures: [{ signatureInfo: info, batchNum: 2, batchSize: 1 }] }), 'batch_invalid'],
    ['a signature by another key', () => craft({ signWith: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey }), 'signature_invalid'],
    ['a signature info export.bin does not announce', () => craft({ signatures: [{ signatureInfo: { ...info, verificationKeyVersion: 'v2' }, batchNum: 1, batchSize: 1 }] }), 'signature_info_mismatch'],
    ['bytes that are not a zip', async () => Buffer.from('PK but not really'), 'zip_invalid'],
  ])('refuses %s with a reason', async (_name, make, code) => {
    const result = await verifyExport(await make(), publicKey);
    expect(result).toMatchObject({ valid: false, code });
    expect(result.valid ? '' : result.reason).toMatch(/\w+ \w+/);
  });

  it('names the report type the decoder would have dropped', async () => {
    const result = await verifyExport(await craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [keys[1], { ...keys[0], reportType: 7 }] } }), publicKey);
    expect(result).toMatchObject({ valid: false, code: 'key_invalid', reason: expect.stringMatching(/key 1 .*report_type_invalid/) });
    expect((await openExport(await craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: [{ ...keys[0], reportType: 7 }] } }))).export.keys[0].reportType).toBe(7);
  });

  it('refuses a signed file of more keys than a file may hold', async () => {
    const many = Array.from({ length: 750_001 }, () => keys[1]);
    const result = await verifyExport(await craft({ message: { ...window, batchNum: 1, batchSize: 1, signatureInfos: [info], keys: many } }), publicKey);
    expect(result).toMatchObject({ valid: false, code: 'too_many_keys' });
  }, 60_000);

  it('refuses a file of ours tampered by one byte in export.bin', async () => {
    const built = await buildExport({ ...window, keys: realisticKeys(50) }, signer);
    const { bin, sig } = await readExportZip(built.zip);
    const tampered = Buffer.from(bin);
    tampered[tampered.length - 20] ^= 0x01; // inside the last key's bytes
    expect(await verifyExport(await writeExportZip(tampered, sig), publicKey)).toMatchObject({ valid: false, code: 'signature_invalid' });
  });

  it('never throws for a corrupted file: any flipped bytes give a result, valid or with a reason', async () => {
    const zip = (await buildExport({ ...window, keys: realisticKeys(30) }, signer)).zip;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(zip.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
        const corrupted = Buffer.from(zip);
        for (const [at, mask] of flips) corrupted[at] ^= mask;
        const result = await verifyExport(corrupted, publicKey);
        if (!result.valid) expect(result.reason.length).toBeGreaterThan(10);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws for truncated files', async () => {
    const zip = (await buildExport({ ...window, keys: realisticKeys(30) }, signer)).zip;
    for (let length = 0; length < zip.length; length += 7) expect(await verifyExport(zip.subarray(0, length), publicKey)).toMatchObject({ valid: false });
  });

  it('answers an unreadable public key with a reason, not a throw', async () => {
    expect(await verifyExport(await craft(), 'not a key')).toMatchObject({ valid: false, code: 'public_key_invalid' });
  });
});

describe('files signed by several keys (a key rotation)', () => {
  const next = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const nextSigner = new LocalSigner(next.privateKey, { keyId: '440', keyVersion: 'v2' });
  const both = [signer, nextSigner];

  /** The zip with the signature at `index` replaced by a valid DER signature of other bytes. */
  async function withCorruptSignature(zip: Buffer, index: number): Promise<Buffer> {
    const { bin, sig } = await readExportZip(zip);
    const list = TEKSignatureList.decode(sig) as unknown as { signatures: Array<Record<string, unknown>> };
    list.signatures[index] = { ...list.signatures[index], signature: sign('sha256', Buffer.from('other bytes'), { key: next.privateKey, dsaEncoding: 'der' }) };
    return writeExportZip(bin, Buffer.from(TEKSignatureList.encode(list).finish()));
  }

  it('announces every key in export.bin and carries one signature per key in export.sig, in order', async () => {
    const built = await buildExport({ ...window, keys }, both);
    const opened = await openExport(built.zip);
    expect(opened.export.signatureInfos).toEqual([info, nextSigner.signatureInfo]);
    expect(opened.signatures.map((s) => s.signatureInfo)).toEqual([info, nextSigner.signatureInfo]);
    expect(opened.signatures.every((s) => s.batchNum === 1 && s.batchSize === 1)).toBe(true);
    expect(built).toMatchObject({ signatureInfo: info, signatureInfos: [info, nextSigner.signatureInfo] });
  });

  it('verifies with each key, on the signature that names it', async () => {
    const { zip } = await buildExport({ ...window, keys }, both);
    expect(await verifyExport(zip, publicKey, { keyId: '440', keyVersion: 'v1' })).toMatchObject({ valid: true, signatureInfo: info });
    expect(await verifyExport(zip, next.publicKey, { keyId: '440', keyVersion: 'v2' })).toMatchObject({ valid: true, signatureInfo: nextSigner.signatureInfo });
    expect(await verifyExport(zip, next.publicKey)).toMatchObject({ valid: true, signatureInfo: nextSigner.signatureInfo });
    // A key given with another key's id and version checks only that key's signature.
    expect(await verifyExport(zip, publicKey, { keyId: '440', keyVersion: 'v2' })).toMatchObject({ valid: false, code: 'signature_invalid', reason: expect.stringContaining('440/v1, 440/v2') });
  });

  it('a file whose second signature is corrupt fails with the second key and passes with the first', async () => {
    const zip = await withCorruptSignature((await buildExport({ ...window, keys }, both)).zip, 1);
    expect(await verifyExport(zip, next.publicKey, { keyId: '440', keyVersion: 'v2' })).toMatchObject({ valid: false, code: 'signature_invalid' });
    expect(await verifyExport(zip, next.publicKey)).toMatchObject({ valid: false, code: 'signature_invalid' });
    expect(await verifyExport(zip, publicKey, { keyId: '440', keyVersion: 'v1' })).toMatchObject({ valid: true, signatureInfo: info });
  });

  it('refuses two signers of the same key id and version, and none, before signing anything', async () => {
    const spy: Signer = { signatureInfo: info, sign: jest.fn() };
    await expect(buildExport({ ...window, keys }, [signer, spy])).rejects.toThrow('same key id and version 440/v1');
    await expect(buildExport({ ...window, keys }, [])).rejects.toThrow('at least one signer');
    expect(spy.sign).not.toHaveBeenCalled();
  });
});

describe('an independent verifier', () => {
  it('accepts our files: openssl verifies export.sig over export.bin with the public key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-openssl-'));
    const built = await buildExport({ ...window, keys: realisticKeys(1000) }, signer);
    const { bin, sig } = await readExportZip(built.zip);
    const signature = TEKSignatureList.decode(sig) as unknown as { signatures: Array<{ signature: Uint8Array }> };
    writeFileSync(path.join(dir, 'export.bin'), bin);
    writeFileSync(path.join(dir, 'sig.der'), signature.signatures[0].signature);
    writeFileSync(path.join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', 'public.pem', '-signature', 'sig.der', 'export.bin'], { cwd: dir }).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it('encodes export.sig exactly as protobufjs encodes the TEKSignatureList', () => {
    const signature = Buffer.from('3006020101020101', 'hex');
    const expected = TEKSignatureList.encode({ signatures: [{ signatureInfo: info, batchNum: 1, batchSize: 1, signature }] }).finish();
    expect(encodeSignatureList([{ signatureInfo: info, signature }])).toEqual(Buffer.from(expected));
    expect(info.signatureAlgorithm).toBe(ECDSA_P256_SHA256_OID);
  });
});

// Export files written by other implementations (../shared/interop, see its README). They stay
// outside the project; these tests run wherever the folder is present, as in CI.
const INTEROP = process.env.KEYFRONT_INTEROP_DIR ?? path.resolve(__dirname, '..', '..', 'shared', 'interop');
if (existsSync(INTEROP)) {
  describe('interop files from other implementations', () => {
    const file = (...parts: string[]) => readFileSync(path.join(INTEROP, ...parts));

    it.each(['SignedExample', 'SignedExample2'])('%s verifies with its public key', async (name) => {
      const result = await verifyExport(file(name, 'export.zip'), file(name, 'public.pem'));
      expect(result).toMatchObject({ valid: true, keyCount: 2 });
    });

    it('KeysExample parses (110 keys) and strict verification refuses its algorithm name', async () => {
      const zip = file('KeysExample', 'export.zip');
      const opened = await openExport(zip);
      expect(opened.export.keys).toHaveLength(110);
      expect(opened.export.region).toBe('US');
      const result = await verifyExport(zip, publicKey);
      expect(result).toEqual({ valid: false, code: 'signature_algorithm_unsupported', reason: `signature 0 names algorithm "ECDSA p-256 SHA-256"; only the OID ${ECDSA_P256_SHA256_OID} (ECDSA P-256 with SHA-256) is accepted` });
    });
  });
}
