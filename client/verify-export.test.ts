import { verifyExport } from '../proto/codec';
import { craftedExport, exportPath, KEY_ID, KEY_VERSION, realExport, REGION, testAuthority, WINDOW_START, type TestAuthority } from '../test/client/signed-exports';
import { ClientError } from './errors';
import { verifyExportFile } from './verify-export';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    return (error as ClientError).code;
  }
  throw new Error('expected a ClientError');
}

describe('verifyExportFile', () => {
  let authority: TestAuthority;
  let good: Buffer;
  beforeAll(async () => {
    authority = testAuthority();
    good = await realExport(authority, WINDOW_START, { keys: 50 });
  });

  it('accepts a file of the codec and reports what it holds, as the Node verifier does', async () => {
    const verified = await verifyExportFile(good, { publicKey: authority.publicPem, keyId: KEY_ID, keyVersion: KEY_VERSION }, { region: REGION, window: { start: WINDOW_START, end: WINDOW_START + 3600 }, nowSeconds: Math.floor(Date.now() / 1000) });
    const node = await verifyExport(good, authority.publicKey);
    expect(node.valid).toBe(true);
    expect(verified).toEqual({
      region: REGION,
      startTimestamp: WINDOW_START,
      endTimestamp: WINDOW_START + 3600,
      batchNum: 1,
      batchSize: 1,
      keyCount: 50,
      revisedKeyCount: 0,
      signatureInfo: { verificationKeyId: KEY_ID, verificationKeyVersion: KEY_VERSION, signatureAlgorithm: '1.2.840.10045.4.3.2' },
      signedBy: [{ verificationKeyId: KEY_ID, verificationKeyVersion: KEY_VERSION, signatureAlgorithm: '1.2.840.10045.4.3.2' }],
      binSha256: node.valid ? node.binSha256 : '',
      bytes: good.length,
    });
  });

  it.each([
    ['PEM', () => authority.publicPem],
    ['JWK object', () => authority.publicKey.export({ format: 'jwk' })],
    ['JWK text', () => JSON.stringify(authority.publicKey.export({ format: 'jwk' }))],
  ])('takes the public key as %s', async (_name, key) => {
    await expect(verifyExportFile(good, { publicKey: key() as string })).resolves.toMatchObject({ keyCount: 50 });
  });

  it('takes a CryptoKey', async () => {
    const key = await crypto.subtle.importKey('jwk', authority.publicKey.export({ format: 'jwk' }) as never, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    await expect(verifyExportFile(good, { publicKey: key })).resolves.toMatchObject({ keyCount: 50 });
  });

  it.each([
    ['another key', async () => good, () => ({ publicKey: testAuthority().publicPem })],
    ['signed by another key than export.bin announces', () => craftedExport(authority, { signWith: testAuthority() }), () => ({ publicKey: authority.publicPem })],
    ['another key id than the app expects', async () => good, () => ({ publicKey: authority.publicPem, keyId: '441' })],
    ['another key version than the app expects', async () => good, () => ({ publicKey: authority.publicPem, keyVersion: 'v2' })],
  ])('refuses a file verified with %s: signature_invalid', async (_name, file, key) => {
    expect(await codeOf(verifyExportFile(await file(), key()))).toBe('signature_invalid');
  });

  it.each([
    ['truncated', () => good.subarray(0, good.length - 40)],
    ['cut in half', () => good.subarray(0, Math.floor(good.length / 2))],
    ['empty', () => Buffer.alloc(0)],
    ['an HTML page', () => Buffer.from('<html><body>Not Found</body></html>')],
    ['a flipped byte inside export.bin', () => {
      const copy = Buffer.from(good);
      copy[60] ^= 0xff;
      return copy;
    }],
  ])('refuses a zip that is %s: zip_invalid', async (_name, bytes) => {
    expect(await codeOf(verifyExportFile(bytes(), { publicKey: authority.publicPem }))).toBe('zip_invalid');
  });

  it.each([
    // The format's rules: the codes of `keyfront export verify` (test/client/verifier-agreement.test.ts holds the whole corpus).
    ['batch 2 of 2 in export.bin', 'batch_invalid', { batchNum: 2, batchSize: 2 }],
    ['batch 2 in the signature only', 'batch_invalid', { signatureBatchNum: 2 }],
    ['an end before its start', 'timestamps_invalid', { end: WINDOW_START - 1 }],
    ['a window in milliseconds', 'timestamps_invalid', { start: WINDOW_START * 1000, end: WINDOW_START * 1000 + 3_600_000 }],
    // What only the phone expects.
    ['another region', 'wrong_region', { region: '441' }],
    ['a window other than its name', 'window_invalid', { start: WINDOW_START + 3600 }],
  ])('refuses a file with %s: %s', async (_name, code, craft) => {
    const file = await craftedExport(authority, craft);
    const expectations = { region: REGION, window: { start: WINDOW_START, end: WINDOW_START + 3600 } };
    expect(await codeOf(verifyExportFile(file, { publicKey: authority.publicPem }, expectations))).toBe(code);
  });

  it.each([
    ["ending 2 days after the phone's clock, no server time", { nowSeconds: WINDOW_START - 2 * 86400 }],
    ["ending 2 hours after the server's time, the phone's clock agreeing with the window", { nowSeconds: WINDOW_START + 3600, serverNowSeconds: WINDOW_START + 3600 - 2 * 3600 }],
    ["that ended 16 days before the server's time", { nowSeconds: WINDOW_START + 16 * 86400, serverNowSeconds: WINDOW_START + 16 * 86400 }],
  ])('refuses a window %s: window_invalid', async (_name, time) => {
    expect(await codeOf(verifyExportFile(good, { publicKey: authority.publicPem }, time))).toBe('window_invalid');
  });

  it.each([
    ['2 hours behind', -2],
    ['2 hours ahead', 2],
    ['23 hours behind', -23],
  ])('accepts a fresh file on a phone whose clock is %s, by the server time', async (_name, hours) => {
    const end = WINDOW_START + 3600;
    await expect(verifyExportFile(good, { publicKey: authority.publicPem }, { nowSeconds: end + hours * 3600, serverNowSeconds: end + 60 })).resolves.toMatchObject({ endTimestamp: end });
  });

  it.each([
    ['not PEM', 'hello'],
    ['an RSA key', generateRsaPem()],
    ['a broken JWK', '{"kty":"EC","crv":"P-256","x":"AAAA"}'],
  ])('refuses a public key that is %s: public_key_invalid', async (_name, key) => {
    expect(await codeOf(verifyExportFile(good, { publicKey: key }))).toBe('public_key_invalid');
  });

  it('names the file path layout it accepts', () => {
    expect(exportPath(WINDOW_START)).toBe(`v1/440/${WINDOW_START}-${WINDOW_START + 3600}-00001.zip`);
  });
});

function generateRsaPem(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- test-only key generation beside a browser-safe module
  const { generateKeyPairSync } = require('node:crypto') as typeof import('node:crypto');
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
}
