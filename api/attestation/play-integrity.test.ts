import { createHash, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createDevAttestation, mintPlayIntegrityToken, type PlayVerdictOptions } from '../../scripts/local-stack/dev-attestation';
import { verifyPlayIntegrity } from './play-integrity';
import type { PlayIntegritySettings } from './settings';

const NOW = new Date('2026-11-30T12:00:00Z');
// Dev Play keys made here: what Play Console gives the server, and the signing key only "Google" holds.
const dev = createDevAttestation(NOW).android;
const settings: PlayIntegritySettings = {
  packageName: dev.packageName,
  decryptionKey: createSecretKey(Buffer.from(dev.decryptionKey, 'base64')),
  verificationKey: createPublicKey({ key: Buffer.from(dev.verificationKey, 'base64'), format: 'der', type: 'spki' }),
  deviceIntegrity: 'MEETS_DEVICE_INTEGRITY',
  maxAgeInMs: 300_000,
};
const digest = createHash('sha256').update('the canonical form of this upload').digest();

async function outcome(token: string | Promise<string>, what: Partial<PlayIntegritySettings> = {}): Promise<string> {
  try {
    await verifyPlayIntegrity(await token, digest, { ...settings, ...what }, NOW);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? `unexpected ${String(error)}`;
  }
}

const mint = (options: PlayVerdictOptions = {}) => mintPlayIntegrityToken(dev, digest, { now: NOW, ...options });

describe('Play Integrity tokens (JWE of JWS, verified with the app keys)', () => {
  it('accepts a token of the app, for this upload, fresh, from a device that meets device integrity', async () => {
    expect(await outcome(mint())).toBe('ok');
  });

  it.each<[string, PlayVerdictOptions, string]>([
    ['made for another upload (nonce of another digest)', { nonce: createHash('sha256').update('other keys').digest('base64url') }, 'attestation_nonce_mismatch'],
    ['whose nonce is not base64url', { nonce: 'not a nonce!' }, 'attestation_nonce_mismatch'],
    ['requested by another package', { packageName: 'org.example.other' }, 'attestation_app_mismatch'],
    ['of an app version Play does not recognise', { appRecognitionVerdict: 'UNRECOGNIZED_VERSION' }, 'attestation_app_mismatch'],
    ['not evaluated for the app', { appRecognitionVerdict: 'UNEVALUATED' }, 'attestation_app_mismatch'],
    ['from a device that meets no label', { deviceLabels: [] }, 'attestation_device_integrity'],
    ['from a device that meets basic integrity only', { deviceLabels: ['MEETS_BASIC_INTEGRITY'] }, 'attestation_device_integrity'],
    ['from an emulator of Play Games for PC', { deviceLabels: ['MEETS_VIRTUAL_INTEGRITY'] }, 'attestation_device_integrity'],
    ['older than the maximum age', { timestampMillis: NOW.getTime() - 301_000 }, 'attestation_expired'],
    ['dated in the future', { timestampMillis: NOW.getTime() + 120_000 }, 'attestation_invalid'],
    ['signed by another key than Google\'s (forged)', { signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, 'attestation_invalid'],
    ['encrypted for another app', { decryptionKey: randomBytes(32) }, 'attestation_invalid'],
  ])('refuses a token %s', async (_name, options, code) => {
    expect(await outcome(mint(options))).toBe(code);
  });

  it('refuses a token whose ciphertext or tag was tampered with, and what is not a JWE', async () => {
    const parts = (await mint()).split('.');
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    expect(await outcome([...parts.slice(0, 3), flip(parts[3]), parts[4]].join('.'))).toBe('attestation_invalid');
    expect(await outcome([...parts.slice(0, 4), flip(parts[4])].join('.'))).toBe('attestation_invalid');
    expect(await outcome('eyJhbGciOiJFUzI1NiJ9.e30.c2ln')).toBe('attestation_invalid');
    expect(await outcome('')).toBe('attestation_invalid');
  });

  it('takes a stronger label than the one required, and checks only the app when the device check is none', async () => {
    expect(await outcome(mint({ deviceLabels: ['MEETS_BASIC_INTEGRITY', 'MEETS_DEVICE_INTEGRITY', 'MEETS_STRONG_INTEGRITY'] }), { deviceIntegrity: 'MEETS_STRONG_INTEGRITY' })).toBe('ok');
    expect(await outcome(mint({ deviceLabels: ['MEETS_STRONG_INTEGRITY'] }))).toBe('ok');
    expect(await outcome(mint({ deviceLabels: ['MEETS_BASIC_INTEGRITY'] }), { deviceIntegrity: 'MEETS_BASIC_INTEGRITY' })).toBe('ok');
    expect(await outcome(mint({ deviceLabels: ['MEETS_DEVICE_INTEGRITY'] }), { deviceIntegrity: 'MEETS_STRONG_INTEGRITY' })).toBe('attestation_device_integrity');
    expect(await outcome(mint({ deviceLabels: [] }), { deviceIntegrity: 'none' })).toBe('ok');
  });

  it("reads the nonce with or without padding (Android's URL_SAFE | NO_WRAP keeps it), and the age up to the limit", async () => {
    expect(await outcome(mint({ nonce: digest.toString('base64url') + '=' }))).toBe('ok');
    expect(await outcome(mint({ timestampMillis: NOW.getTime() - 300_000 }))).toBe('ok');
    expect(await outcome(mint({ timestampMillis: NOW.getTime() - 30_000 }), { maxAgeInMs: 10_000 })).toBe('attestation_expired');
  });

  it('says nothing of the token in its refusals', async () => {
    const token = await mint({ packageName: 'org.example.other' });
    const error = (await verifyPlayIntegrity(token, digest, settings, NOW).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error.message).not.toContain('org.example.other');
    expect(error.message).not.toContain(token.slice(0, 20));
  });
});
