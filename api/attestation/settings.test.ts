import { ConfigError, loadApiConfig } from '../config';
import { createDevMaterial, devApiEnvironment } from '../../scripts/local-stack/dev-material';
import { createDevAttestation, devAttestationEnvironment } from '../../scripts/local-stack/dev-attestation';

const material = createDevMaterial();
const attestation = createDevAttestation();
const base: Record<string, string> = { ...devApiEnvironment(material, '440'), KEYFRONT_STORE: 'memory' };
const apps = devAttestationEnvironment(attestation);
const ha = JSON.parse(base.KEYFRONT_HEALTH_AUTHORITIES) as Array<Record<string, unknown>>;

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

/** What App Service leaves in a setting whose Key Vault reference did not resolve. */
const UNRESOLVED = '@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-decryption-key)';

describe('attestation settings', () => {
  it('are off by default and need nothing then, not even resolved Key Vault references', () => {
    const config = loadApiConfig({ ...base, KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY: UNRESOLVED, KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: UNRESOLVED });
    expect(config.attestation).toEqual({ defaultMode: 'off' });
  });

  it('read both apps, their keys and the root when a mode is report or enforce', () => {
    const config = loadApiConfig({ ...base, ...apps, KEYFRONT_ATTESTATION: 'enforce' });
    expect(config.attestation.defaultMode).toBe('enforce');
    expect(config.attestation.android).toMatchObject({ packageName: 'org.keyfront.dev', deviceIntegrity: 'MEETS_DEVICE_INTEGRITY', maxAgeInMs: 300_000 });
    expect(config.attestation.android?.verificationKey.asymmetricKeyType).toBe('ec');
    expect(config.attestation.ios).toMatchObject({ appId: 'KEYFRONTDV.org.keyfront.dev', environment: 'development' });
    expect(config.attestation.ios?.root.subject).toContain('keyfront dev App Attestation Root CA');
  });

  it("trust Apple's root by default, and take one platform alone", () => {
    const config = loadApiConfig({ ...base, KEYFRONT_ATTESTATION: 'report', KEYFRONT_APP_ATTEST_APP_ID: 'ABCDE12345.org.example.app' });
    expect(config.attestation.ios?.root.subject).toContain('Apple App Attestation Root CA');
    expect(config.attestation.ios?.environment).toBe('production');
    expect(config.attestation.android).toBeUndefined();
  });

  it("take the verification key as Play Console's Base64 writes it, in lines of 76", () => {
    const wrapped = apps.KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY.replace(/(.{76})/g, '$1\n');
    expect(wrapped).toContain('\n');
    expect(loadApiConfig({ ...base, ...apps, KEYFRONT_ATTESTATION: 'report', KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: wrapped }).attestation.android).toBeDefined();
  });

  it("are in use when only a health authority's attestation asks for it, which overrides the default", () => {
    const authorities = JSON.stringify([{ ...ha[0], attestation: 'enforce' }, { ...ha[0], id: 'other', attestation: 'off' }]);
    expect(problemsOf({ ...base, KEYFRONT_HEALTH_AUTHORITIES: authorities })[0]).toMatch(/KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME or KEYFRONT_APP_ATTEST_APP_ID/);
    const config = loadApiConfig({ ...base, ...apps, KEYFRONT_HEALTH_AUTHORITIES: authorities });
    expect(config.healthAuthorities.map((authority) => authority.attestation)).toEqual(['enforce', 'off']);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['an unknown mode', { KEYFRONT_ATTESTATION: 'strict' }, /^KEYFRONT_ATTESTATION must be one of off, report, enforce, got "strict"$/],
    ['no app in report mode', { KEYFRONT_ATTESTATION: 'report' }, /is required when KEYFRONT_ATTESTATION or a health authority's attestation is report or enforce/],
    ['an Android app without its decryption key', { KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME: 'org.example.app', KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: apps.KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY }, /^KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY is required when KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME is set/],
    ['an unresolved Key Vault reference', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY: UNRESOLVED }, /^KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY is a Key Vault reference that App Service could not resolve: load the secret/],
    ['a decryption key of 16 bytes', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY: Buffer.alloc(16).toString('base64') }, /^KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY must be the base64 of a 32-byte AES key, got another value \(not shown: a secret\)$/],
    ['a verification key that is not P-256', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: 'AAAA' }, /^KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY must be the base64 of a DER EC P-256 public key/],
    ['a package name that is not one', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME: 'app' }, /^KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME must be an Android package name/],
    ['an App ID without a Team ID', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_APP_ATTEST_APP_ID: 'org.example.app' }, /^KEYFRONT_APP_ATTEST_APP_ID must be a Team ID and bundle ID/],
    ['a root that is not a certificate', { ...apps, KEYFRONT_ATTESTATION: 'enforce', KEYFRONT_APP_ATTEST_ROOT_CA: 'not a PEM' }, /^KEYFRONT_APP_ATTEST_ROOT_CA must be the PEM of a CA certificate$/],
    ['an unknown device label', { KEYFRONT_PLAY_INTEGRITY_DEVICE_INTEGRITY: 'MEETS_VIRTUAL_INTEGRITY' }, /^KEYFRONT_PLAY_INTEGRITY_DEVICE_INTEGRITY must be one of/],
    ['a token age of a day', { KEYFRONT_PLAY_INTEGRITY_MAX_AGE_SECONDS: '86400' }, /^KEYFRONT_PLAY_INTEGRITY_MAX_AGE_SECONDS must be an integer from 30 to 3600/],
    ['an environment of its own', { KEYFRONT_APP_ATTEST_ENVIRONMENT: 'staging' }, /^KEYFRONT_APP_ATTEST_ENVIRONMENT must be one of production, development/],
    ["an authority's unknown mode", { KEYFRONT_HEALTH_AUTHORITIES: JSON.stringify([{ ...ha[0], attestation: true }]) }, /^KEYFRONT_HEALTH_AUTHORITIES\[0\]\.attestation must be one of off, report, enforce, got true$/],
  ])('refuse %s, naming the variable', (_name, env, problem) => {
    const problems = problemsOf({ ...base, ...env });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});
