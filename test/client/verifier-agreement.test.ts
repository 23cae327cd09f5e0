/**
 * One rule set for every verifier: one corpus of bad export files goes through `keyfront export
 * verify`'s verifier (proto/codec.ts, node:crypto) and the phone's (client/, WebCrypto), and each
 * file gets the same code from both (and each good file is accepted by both). The corpus: one fault
 * per file (zip, header, protobuf, batch, window, keys with raw values the enum mapping would
 * drop, duplicates, signatures), the interop files of other servers, and randomly corrupted files.
 */
import * as fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ClientError, verifyExportFile } from '../../client';
import { verifyExport } from '../../proto/codec';
import { MAX_EXPORT_FILE_BYTES } from '../../proto/tek';
import { MAX_EXPORT_BIN_BYTES, readExportZip, writeExportZip } from '../../proto/zip';
import { craftedExport, goodKeys, realExport, rotationExport, testAuthority, WINDOW_START, yazlZip, type TestAuthority } from './signed-exports';

type Expected = { keyId?: string; keyVersion?: string };

/** What a verifier says of a file: `valid`, or the code of the first rule broken. */
async function phoneVerdict(zip: Uint8Array, publicKey: string, expected: Expected = {}): Promise<string> {
  try {
    await verifyExportFile(zip, { publicKey, ...expected });
    return 'valid';
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
}

async function cliVerdict(zip: Buffer, publicKey: string, expected: Expected = {}): Promise<string> {
  const result = await verifyExport(zip, publicKey, expected);
  return result.valid ? 'valid' : result.code;
}

/** A DER INTEGER given a needless leading zero: the same number, but not DER (OpenSSL refuses it). */
function nonMinimal(der: Buffer): Buffer {
  const rLength = der[3];
  const r = der.subarray(4, 4 + rLength);
  const rest = der.subarray(4 + rLength);
  const padded = Buffer.concat([Buffer.from([0x02, rLength + 1, 0x00]), r, rest]);
  return Buffer.concat([Buffer.from([0x30, padded.length]), padded]);
}

/** A file whose stored export.bin declares more bytes than a valid file can hold. */
async function oversizedEntry(authority: TestAuthority): Promise<Buffer> {
  const zip = Buffer.from(await realExport(authority, WINDOW_START, { keys: 3 }));
  const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(MAX_EXPORT_BIN_BYTES + 1, central + 24);
  return zip;
}

describe('export verify and the phone apply one rule set', () => {
  let authority: TestAuthority;
  let good: Buffer;
  beforeAll(async () => {
    authority = testAuthority();
    good = await realExport(authority, WINDOW_START, { keys: 30 });
  });

  const key = (overrides: Record<string, unknown>) => [{ ...goodKeys(1)[0], ...overrides }];
  const [a, b] = goodKeys(2);
  const start = a.rollingStartIntervalNumber as number;
  const CORPUS: Array<[string, string, (authority: TestAuthority) => Promise<Buffer>]> = [
    ['a good file', 'valid', (x) => craftedExport(x)],
    ['keys of different uploads that overlap (allowed in a file, unlike in an upload)', 'valid', (x) => craftedExport(x, { keys: [{ ...a, rollingStartIntervalNumber: start, rollingPeriod: 144 }, { ...b, rollingStartIntervalNumber: start + 72, rollingPeriod: 144 }, ...goodKeys(3).map((k) => ({ ...k, rollingStartIntervalNumber: start }))] })],
    ['no keys at all', 'valid', (x) => craftedExport(x, { keys: [] })],
    ['empty bytes', 'zip_invalid', async () => Buffer.alloc(0)],
    ['an HTML page', 'zip_invalid', async () => Buffer.from('<html><body>Not Found</body></html>')],
    ['a truncated zip', 'zip_invalid', async (x) => (await craftedExport(x)).subarray(0, 200)],
    ['a flipped byte in a stored entry (CRC-32)', 'zip_invalid', async (x) => {
      const { bin, sig } = await readExportZip(await craftedExport(x));
      const stored = await writeExportZip(bin, sig, { compressionLevel: 0 });
      stored[30 + 'export.bin'.length + 40] ^= 0x01;
      return stored;
    }],
    ['an extra entry', 'zip_entries_invalid', async (x) => {
      const { bin, sig } = await readExportZip(await craftedExport(x));
      return yazlZip([['export.bin', bin], ['export.sig', sig], ['extra.txt', sig]]);
    }],
    ['an entry declared larger than a valid file holds', 'entry_too_large', oversizedEntry],
    ['more bytes than a phone accepts', 'file_too_large', async () => Buffer.alloc(MAX_EXPORT_FILE_BYTES + 1)],
    ['another header', 'header_invalid', (x) => craftedExport(x, { header: Buffer.from('EK Export v2    ') })],
    ['a message that does not parse', 'export_invalid', async (x) => {
      const { sig } = await readExportZip(await craftedExport(x));
      return writeExportZip(Buffer.concat([Buffer.from('EK Export v1    '), Buffer.from([0x3a, 0xff, 0xff, 0xff])]), sig);
    }],
    ['batch 2 of 2', 'batch_invalid', (x) => craftedExport(x, { batchNum: 2, batchSize: 2 })],
    ['a signature of batch 2', 'batch_invalid', (x) => craftedExport(x, { signatureBatchNum: 2 })],
    ['no window', 'timestamps_invalid', (x) => craftedExport(x, { message: { startTimestamp: undefined, endTimestamp: undefined } })],
    ['an end before its start', 'timestamps_invalid', (x) => craftedExport(x, { end: WINDOW_START - 1 })],
    ['a window in milliseconds', 'timestamps_invalid', (x) => craftedExport(x, { start: WINDOW_START * 1000, end: WINDOW_START * 1000 + 3_600_000 })],
    ['no region', 'region_invalid', (x) => craftedExport(x, { message: { region: undefined } })],
    ['a 15-byte key', 'key_invalid', (x) => craftedExport(x, { keys: key({ keyData: Buffer.alloc(15) }) })],
    ['a key without key data', 'key_invalid', (x) => craftedExport(x, { keys: key({ keyData: undefined }) })],
    ['a key without a start interval', 'key_invalid', (x) => craftedExport(x, { keys: key({ rollingStartIntervalNumber: undefined }) })],
    ['a negative start interval', 'key_invalid', (x) => craftedExport(x, { keys: key({ rollingStartIntervalNumber: -1 }) })],
    ['a rolling period of 0', 'key_invalid', (x) => craftedExport(x, { keys: key({ rollingPeriod: 0 }) })],
    ['a rolling period of 145', 'key_invalid', (x) => craftedExport(x, { keys: key({ rollingPeriod: 145 }) })],
    ['a transmission risk of 9', 'key_invalid', (x) => craftedExport(x, { keys: key({ transmissionRiskLevel: 9 }) })],
    ['a report type of 6 (dropped by the enum mapping)', 'key_invalid', (x) => craftedExport(x, { keys: key({ reportType: 6 }) })],
    ['a report type of -1 (dropped by the enum mapping)', 'key_invalid', (x) => craftedExport(x, { keys: key({ reportType: -1 }) })],
    ['a revised key of report type 6', 'key_invalid', (x) => craftedExport(x, { revisedKeys: key({ reportType: 6 }) })],
    ['15 days since onset', 'key_invalid', (x) => craftedExport(x, { keys: key({ daysSinceOnsetOfSymptoms: 15 }) })],
    ['a key twice', 'duplicate_key', (x) => craftedExport(x, { keys: [a, b, { ...a }] })],
    ['a revised key twice', 'duplicate_key', (x) => craftedExport(x, { revisedKeys: [a, { ...a, reportType: 5 }] })],
    ['export.sig that is no signature list', 'signature_list_invalid', async (x) => {
      const { bin } = await readExportZip(await craftedExport(x));
      return writeExportZip(bin, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    }],
    ['no signature', 'signature_missing', async (x) => {
      const { bin } = await readExportZip(await craftedExport(x));
      return writeExportZip(bin, Buffer.alloc(0));
    }],
    ['an algorithm that is not the OID', 'signature_algorithm_unsupported', (x) => craftedExport(x, { signatureAlgorithm: 'ECDSA p-256 SHA-256' })],
    ['a signature by another key', 'signature_invalid', (x) => craftedExport(x, { signWith: testAuthority() })],
    ['a signature with a needless leading zero (not DER)', 'signature_invalid', (x) => craftedExport(x, { derSignature: nonMinimal })],
    ['a signature whose key id export.bin does not announce', 'signature_info_mismatch', (x) => craftedExport(x, { announced: [{ ...x.signer.signatureInfo, verificationKeyVersion: 'v2' }] as Array<Record<string, string>> })],
  ];

  it.each(CORPUS)('%s: %s from both', async (_name, code, make) => {
    const file = await make(authority);
    const [cli, phone] = [await cliVerdict(file, authority.publicPem), await phoneVerdict(file, authority.publicPem)];
    expect({ cli, phone }).toEqual({ cli: code, phone: code });
  });

  it('gives the same verdict on randomly corrupted files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), async (flips) => {
        const corrupted = Buffer.from(good);
        for (const [at, mask] of flips) corrupted[at] ^= mask;
        expect(await phoneVerdict(corrupted, authority.publicPem)).toBe(await cliVerdict(corrupted, authority.publicPem));
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same verdict on truncated files', async () => {
    for (let length = 0; length < good.length; length += 53) {
      const cut = good.subarray(0, length);
      expect(await phoneVerdict(cut, authority.publicPem)).toBe(await cliVerdict(cut, authority.publicPem));
    }
  });

  // Export files written by other servers (../shared/interop, see its README): wherever the folder is present, as in CI.
  const INTEROP = process.env.KEYFRONT_INTEROP_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'interop');
  if (existsSync(INTEROP)) {
    it.each(['SignedExample', 'SignedExample2', 'KeysExample'])('the interop file %s gets the same verdict from both', async (name) => {
      const zip = readFileSync(path.join(INTEROP, name, 'export.zip'));
      const pem = existsSync(path.join(INTEROP, name, 'public.pem')) ? readFileSync(path.join(INTEROP, name, 'public.pem'), 'utf8') : authority.publicPem;
      const cli = await cliVerdict(zip, pem);
      expect(cli).toBe(name === 'KeysExample' ? 'signature_algorithm_unsupported' : 'valid');
      expect(await phoneVerdict(zip, pem)).toBe(cli);
    });
  }
});

describe('files of a key rotation (one signature per key) get one verdict from both', () => {
  const old = testAuthority('440', 'v1');
  const next = testAuthority('440', 'v2');
  const v1 = { keyId: '440', keyVersion: 'v1' };
  const v2 = { keyId: '440', keyVersion: 'v2' };

  it.each([
    ['signed by both: the old key', 'both', old, v1, 'valid'],
    ['signed by both: the new key', 'both', next, v2, 'valid'],
    ['signed by both: the new key, without id and version', 'both', next, {}, 'valid'],
    ['signed by both: the old key named as the new one', 'both', old, v2, 'signature_invalid'],
    ['second signature corrupt: the old key', 'corrupt', old, v1, 'valid'],
    ['second signature corrupt: the new key', 'corrupt', next, v2, 'signature_invalid'],
    ['signed by the old key only: the new key', 'old', next, v2, 'signature_invalid'],
  ] as const)('%s: %s', async (_name, kind, authority, expected, verdict) => {
    const file = kind === 'old' ? await realExport(old) : await rotationExport([old, next], WINDOW_START, kind === 'corrupt' ? { corruptSignature: 1 } : {});
    const [cli, phone] = [await cliVerdict(file, authority.publicPem, expected), await phoneVerdict(file, authority.publicPem, expected)];
    expect({ cli, phone }).toEqual({ cli: verdict, phone: verdict });
  });

  it('a phone that accepts both keys verifies files of either, and says which keys signed each', async () => {
    const accepted = [{ publicKey: old.publicPem, ...v1 }, { publicKey: next.publicPem, ...v2 }];
    const info = (version: string) => ({ verificationKeyId: '440', verificationKeyVersion: version, signatureAlgorithm: '1.2.840.10045.4.3.2' });
    expect((await verifyExportFile(await rotationExport([old, next]), accepted)).signedBy).toEqual([info('v1'), info('v2')]);
    expect((await verifyExportFile(await realExport(old), accepted)).signedBy).toEqual([info('v1')]);
    expect((await verifyExportFile(await rotationExport([old, next], WINDOW_START, { corruptSignature: 1 }), accepted)).signedBy).toEqual([info('v1')]);
    expect((await verifyExportFile(await realExport(next), accepted)).signedBy).toEqual([info('v2')]);
  });
});
