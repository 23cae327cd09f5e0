import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeFirstSync, encode } from 'cbor';
import { buildCertificate } from '../../scripts/local-stack/dev-certificates';
import { createDevAttestation, mintAppAttestation, type AppAttestOptions } from '../../scripts/local-stack/dev-attestation';
import { APPLE_APP_ATTESTATION_ROOT_CA } from './apple-root';
import { AppAttestVerifier } from './app-attest';
import type { AppAttestSettings } from './settings';

const NOW = new Date('2026-11-30T12:00:00Z');
// A dev App Attest CA made here (root and intermediate in Apple's shape), and the settings that trust it.
const dev = createDevAttestation(NOW).ios;
const settings: AppAttestSettings = { appId: dev.appId, environment: 'development', root: new X509Certificate(dev.rootCertificate) };
const clientDataHash = createHash('sha256').update('the canonical form of this upload').digest();

function outcome(payload: string, what: Partial<AppAttestSettings> = {}, now = NOW, hash: Uint8Array = clientDataHash): string {
  try {
    new AppAttestVerifier({ ...settings, ...what }).verify(payload, hash, now);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? `unexpected ${String(error)}`;
  }
}

const mint = (options: AppAttestOptions = {}) => mintAppAttestation(dev, clientDataHash, { now: NOW, ...options });

/** The attestation object of `payload` with `change` applied, re-encoded. */
function altered(payload: string, change: (object: { fmt: string; attStmt: { x5c: Buffer[] }; authData: Buffer }) => void): string {
  const object = decodeFirstSync(Buffer.from(payload, 'base64'));
  change(object);
  return encode(object).toString('base64');
}

// Apple's own sample (test/fixtures/app-attest/README.md): made by Apple's CA, verified at a time its certificate was valid.
const APPLE_SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'app-attest', 'apple-sample-attestation.b64'), 'utf8').trim();
const APPLE = { appId: '1234567890.com.example.myapp', environment: 'production' as const, root: new X509Certificate(APPLE_APP_ATTESTATION_ROOT_CA) };
const APPLE_TIME = new Date('2026-04-21T18:13:12Z');
const APPLE_CLIENT_DATA = Buffer.from('example_server_challenge');

describe('App Attest attestations (CBOR, x5c chain to the App Attestation root)', () => {
  it('accepts an attestation of a fresh key of the app, for this upload', () => {
    expect(outcome(mint())).toBe('ok');
    // base64url, as some apps send it, reads the same.
    expect(outcome(Buffer.from(mint(), 'base64').toString('base64url'))).toBe('ok');
  });

  it("accepts Apple's own sample attestation against Apple's root, at a time its certificate was valid", () => {
    expect(outcome(APPLE_SAMPLE, APPLE, APPLE_TIME, APPLE_CLIENT_DATA)).toBe('ok');
    expect(outcome(APPLE_SAMPLE, APPLE, APPLE_TIME, Buffer.from('example_server_challengf'))).toBe('attestation_nonce_mismatch');
    expect(outcome(APPLE_SAMPLE, { ...APPLE, environment: 'development' }, APPLE_TIME, APPLE_CLIENT_DATA)).toBe('attestation_app_mismatch');
    expect(outcome(APPLE_SAMPLE, APPLE, NOW, APPLE_CLIENT_DATA)).toBe('attestation_expired');
  });

  it("refuses a chain to Apple's real root whose credential certificate is self-made", () => {
    // Apple's real intermediate (App Attestation CA 1, from the sample) under the real root, and a leaf that names it as
    // issuer but is signed by a key of ours: everything but the leaf's signature is right.
    const appleIntermediate = new X509Certificate((decodeFirstSync(Buffer.from(APPLE_SAMPLE, 'base64')) as { attStmt: { x5c: Buffer[] } }).attStmt.x5c[1]);
    expect(appleIntermediate.subject).toContain('Apple App Attestation CA 1');
    expect(appleIntermediate.verify(APPLE.root.publicKey)).toBe(true);
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const payload = mint({ appId: APPLE.appId, environment: 'production', issuer: { certificate: appleIntermediate, key: forger }, chain: [appleIntermediate.raw] });
    const leaf = new X509Certificate((decodeFirstSync(Buffer.from(payload, 'base64')) as { attStmt: { x5c: Buffer[] } }).attStmt.x5c[0]);
    expect(leaf.checkIssued(appleIntermediate)).toBe(true);
    expect(outcome(payload, APPLE)).toBe('attestation_invalid');
    // The same leaf with no intermediate at all is refused too.
    expect(outcome(mint({ appId: APPLE.appId, environment: 'production', issuer: { certificate: appleIntermediate, key: forger }, chain: [] }), APPLE)).toBe('attestation_invalid');
  });

  it.each<[string, () => string, string]>([
    ['made for another upload', () => mintAppAttestation(dev, createHash('sha256').update('other keys').digest(), { now: NOW }), 'attestation_nonce_mismatch'],
    ['whose certificate carries a nonce not of its authenticator data', () => mint({ nonce: Buffer.alloc(32, 7) }), 'attestation_nonce_mismatch'],
    ['of another app', () => mint({ appId: 'KEYFRONTDV.org.example.other' }), 'attestation_app_mismatch'],
    ['of a production build where development is configured', () => mint({ environment: 'production' }), 'attestation_app_mismatch'],
    ['whose credential certificate expired', () => mint({ notBefore: new Date(NOW.getTime() - 4 * 86400e3), notAfter: new Date(NOW.getTime() - 86400e3) }), 'attestation_expired'],
    ['whose credential certificate is not valid yet', () => mint({ notBefore: new Date(NOW.getTime() + 3600e3) }), 'attestation_expired'],
    ['of a key used before (counter 1)', () => mint({ counter: 1 }), 'attestation_invalid'],
    ['whose credential id is not its key', () => mint({ credentialId: Buffer.alloc(32, 1) }), 'attestation_invalid'],
    ['chaining to another CA (a dev CA this server does not trust)', () => mintAppAttestation(createDevAttestation(NOW).ios, clientDataHash, { now: NOW }), 'attestation_invalid'],
  ])('refuses an attestation %s', (_name, payload, code) => {
    expect(outcome(payload())).toBe(code);
  });

  it('refuses tampered attestations: authenticator data, a certificate byte, the chain order or length', () => {
    const payload = mint();
    expect(outcome(altered(payload, (o) => (o.authData[40] ^= 1)))).toBe('attestation_nonce_mismatch');
    expect(outcome(altered(payload, (o) => (o.attStmt.x5c[0][o.attStmt.x5c[0].length - 10] ^= 1)))).toBe('attestation_invalid');
    expect(outcome(altered(payload, (o) => o.attStmt.x5c.reverse()))).toBe('attestation_invalid');
    expect(outcome(altered(payload, (o) => (o.attStmt.x5c = [o.attStmt.x5c[0]])))).toBe('attestation_invalid');
    expect(outcome(altered(payload, (o) => (o.fmt = 'packed')))).toBe('attestation_invalid');
    expect(outcome(altered(payload, (o) => (o.authData = o.authData.subarray(0, 40))))).toBe('attestation_invalid');
  });

  it('refuses what is not an attestation object', () => {
    for (const payload of ['', 'not base64!', Buffer.from('not cbor').toString('base64'), encode({ fmt: 'apple-appattest' }).toString('base64'), encode([1, 2]).toString('base64')]) {
      expect(outcome(payload)).toBe('attestation_invalid');
    }
  });

  it('never trusts an intermediate that did not verify under the root, even after a real one was used, nor a known one past its validity', () => {
    const verifier = new AppAttestVerifier(settings);
    verifier.verify(mint(), clientDataHash, NOW);
    verifier.verify(mint(), clientDataHash, NOW);
    // An intermediate of the same name under a key of ours, after the real one was cached: refused.
    const rogueKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const realIntermediate = new X509Certificate(dev.intermediateCertificate);
    const rogue = buildCertificate({ commonName: 'keyfront dev App Attestation CA 1', organization: 'keyfront dev', publicKey: rogueKeys.publicKey, issuer: { certificate: new X509Certificate(dev.rootCertificate), key: createPrivateKey(dev.intermediateKey) }, ca: true, notBefore: new Date(NOW.getTime() - 86400e3), notAfter: new Date(NOW.getTime() + 86400e3), hash: 'sha384' });
    expect(rogue.subject).toBe(realIntermediate.subject);
    const payload = mint({ issuer: { certificate: rogue, key: rogueKeys.privateKey }, chain: [rogue.raw] });
    expect(() => verifier.verify(payload, clientDataHash, NOW)).toThrow(expect.objectContaining({ code: 'attestation_invalid' }));
    // And an intermediate past its validity is refused even once known.
    expect(() => verifier.verify(mint(), clientDataHash, new Date(NOW.getTime() + 11 * 365 * 86400e3))).toThrow(expect.objectContaining({ code: 'attestation_invalid' }));
  });
});

describe("Apple's App Attestation Root CA", () => {
  const root = new X509Certificate(APPLE_APP_ATTESTATION_ROOT_CA);

  it('is the certificate Apple publishes: its SHA-256 fingerprint, subject and validity', () => {
    expect(createHash('sha256').update(root.raw).digest('hex')).toBe('1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932');
    expect(root.subject.split('\n')).toEqual(['CN=Apple App Attestation Root CA', 'O=Apple Inc.', 'ST=California']);
    expect([new Date(root.validFrom).toISOString(), new Date(root.validTo).toISOString()]).toEqual(['2020-03-18T18:32:53.000Z', '2045-03-15T00:00:00.000Z']);
  });

  it('is a self-signed P-384 CA', () => {
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });
});
