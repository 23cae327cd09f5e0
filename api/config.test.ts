import { readFileSync } from 'node:fs';
import { API_SETTINGS, ConfigError, loadApiConfig } from './config';
import { TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING } from '../platform/telemetry';
import { createDevMaterial, REGION } from '../test/support/api-fixture';
import { devApiEnvironment } from '../scripts/local-stack/dev-material';
import { createDevAttestation, devAttestationEnvironment } from '../scripts/local-stack/dev-attestation';

const material = createDevMaterial();
const valid: Record<string, string> = { ...devApiEnvironment(material, REGION), KEYFRONT_COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadApiConfig', () => {
  it('reads a complete environment, with defaults for the rest', () => {
    const config = loadApiConfig(valid);
    expect(config.frontDoorIds).toEqual([material.frontDoorId]);
    expect(config.registrationRequired).toBe(true);
    expect(config.revisionTokenKeys.current).toBe('dev1');
    expect(config.healthAuthorities[0]).toMatchObject({ id: 'dev', regions: [REGION] });
    expect(config.store).toEqual({ kind: 'cosmos', endpoint: valid.KEYFRONT_COSMOS_ENDPOINT, databaseId: 'keyfront', containerId: 'exposures', shards: 16, timeoutInMs: 5000 });
    expect(config.certificateClockSkewSeconds).toBe(60);
    expect(config.logLevel).toBe('info');
  });

  it('accepts an authority with a JWKS URI and no static keys, and reads the JWKS settings in milliseconds', () => {
    const config = loadApiConfig({ ...valid, KEYFRONT_HEALTH_AUTHORITIES: JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['440'], jwksUri: 'https://verify.example/jwks.json' }]), KEYFRONT_JWKS_MIN_REFRESH_SECONDS: '30' });
    expect(config.healthAuthorities[0]).toMatchObject({ jwksUri: 'https://verify.example/jwks.json', jwks: { keys: [] } });
    expect(config.jwks).toEqual({ minRefreshInMs: 30_000, defaultMaxAgeInMs: 3_600_000, maxStaleInMs: 86_400_000, fetchTimeoutInMs: 5000 });
  });

  it('accepts several Front Door IDs for a rotation, in any case', () => {
    const config = loadApiConfig({ ...valid, KEYFRONT_FRONT_DOOR_ID: ` ${material.frontDoorId.toUpperCase()} , 11111111-2222-3333-4444-555555555555` });
    expect(config.frontDoorIds).toEqual([material.frontDoorId, '11111111-2222-3333-4444-555555555555']);
  });

  it('uses the first key version listed as current and keeps the others', () => {
    const old = Buffer.alloc(32, 1).toString('base64');
    const config = loadApiConfig({ ...valid, KEYFRONT_REVISION_TOKEN_KEYS: `v2:${Buffer.alloc(32, 2).toString('base64')},v1:${old}` });
    expect(config.revisionTokenKeys.current).toBe('v2');
    expect([...config.revisionTokenKeys.keys.keys()]).toEqual(['v2', 'v1']);
  });

  it.each([
    ['KEYFRONT_FRONT_DOOR_ID', undefined, /KEYFRONT_FRONT_DOOR_ID is required/],
    ['KEYFRONT_FRONT_DOOR_ID', 'not-a-guid', /KEYFRONT_FRONT_DOOR_ID: "not-a-guid" is not a Front Door ID/],
    ['KEYFRONT_FRONT_DOOR_ID', ' , ', /KEYFRONT_FRONT_DOOR_ID must list at least one/],
    ['KEYFRONT_HEALTH_AUTHORITIES', undefined, /KEYFRONT_HEALTH_AUTHORITIES is required/],
    ['KEYFRONT_HEALTH_AUTHORITIES', '{', /KEYFRONT_HEALTH_AUTHORITIES is not valid JSON/],
    ['KEYFRONT_HEALTH_AUTHORITIES', '[]', /KEYFRONT_HEALTH_AUTHORITIES must be a non-empty JSON array/],
    ['KEYFRONT_HEALTH_AUTHORITIES', '[{"id":"a","issuer":"i","audience":"a","regions":[],"jwks":{"keys":[]}}]', /KEYFRONT_HEALTH_AUTHORITIES\[0\]\.regions/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwks: { keys: [material.healthAuthority.privateJwk] } }]), /is a private key/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwksUri: 'http://verify.example/jwks.json' }]), /\[0\]\.jwksUri must be an https:\/\/ URL/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwks: { keys: [] } }]), /jwks\.keys must be a non-empty array of JWKs \(or give a jwksUri\)/],
    ['KEYFRONT_JWKS_MIN_REFRESH_SECONDS', '0', /KEYFRONT_JWKS_MIN_REFRESH_SECONDS/],
    ['KEYFRONT_JWKS_MAX_STALE_SECONDS', 'a day', /KEYFRONT_JWKS_MAX_STALE_SECONDS/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwks: { keys: [{ ...material.healthAuthority.publicJwk, kid: undefined }] } }]), /must have a kid/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwks: { keys: [{ kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB' }] } }]), /EC P-256/],
    ['KEYFRONT_HEALTH_AUTHORITIES', JSON.stringify([{ id: 'a', issuer: 'i', audience: 'a', regions: ['X'], jwks: { keys: [{ ...material.healthAuthority.publicJwk, x: 'AAAA' }] } }]), /not a valid public key/],
    ['KEYFRONT_REVISION_TOKEN_KEYS', undefined, /KEYFRONT_REVISION_TOKEN_KEYS is required/],
    ['KEYFRONT_REVISION_TOKEN_KEYS', `v1:${Buffer.alloc(16).toString('base64')}`, /KEYFRONT_REVISION_TOKEN_KEYS: the key of version v1 must be 32 bytes/],
    ['KEYFRONT_REVISION_TOKEN_KEYS', 'v1:***', /not standard base64/],
    ['KEYFRONT_REVISION_TOKEN_KEYS', Buffer.alloc(32).toString('base64'), /version:base64/],
    ['KEYFRONT_REGISTER_KEYS', undefined, /KEYFRONT_REGISTER_KEYS is required/],
    ['KEYFRONT_REGISTER_KEYS', `v1:${Buffer.alloc(8).toString('base64')}`, /at least 32 bytes/],
    ['KEYFRONT_REGISTRATION_REQUIRED', 'maybe', /KEYFRONT_REGISTRATION_REQUIRED must be true or false/],
    ['KEYFRONT_COSMOS_ENDPOINT', undefined, /KEYFRONT_COSMOS_ENDPOINT is required/],
    ['KEYFRONT_COSMOS_ENDPOINT', 'account.documents.azure.com', /KEYFRONT_COSMOS_ENDPOINT must be an account endpoint/],
    ['KEYFRONT_COSMOS_SHARDS', '0', /KEYFRONT_COSMOS_SHARDS must be an integer from 1 to 1024/],
    ['KEYFRONT_STORE', 'sql', /KEYFRONT_STORE must be one of cosmos, memory/],
    ['KEYFRONT_STORE_TIMEOUT_MS', '5s', /KEYFRONT_STORE_TIMEOUT_MS must be an integer/],
    ['KEYFRONT_CERTIFICATE_CLOCK_SKEW_SECONDS', '-1', /KEYFRONT_CERTIFICATE_CLOCK_SKEW_SECONDS/],
    ['KEYFRONT_LOG_LEVEL', 'loud', /KEYFRONT_LOG_LEVEL must be one of/],
  ])('names %s when it is %p', (name, value, message) => {
    const problems = problemsOf({ ...valid, [name]: value });
    expect(problems.join('\n')).toMatch(message);
  });

  it('never echoes a secret value in its errors', () => {
    const secret = `${'Zm9v'.repeat(4)}`;
    const problems = problemsOf({ ...valid, KEYFRONT_REVISION_TOKEN_KEYS: `v1:${secret}` });
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({}).length).toBeGreaterThanOrEqual(4);
  });

  it('does not need register keys when registration is not required, nor an endpoint for the memory store', () => {
    expect(problemsOf({ ...valid, KEYFRONT_REGISTER_KEYS: undefined, KEYFRONT_COSMOS_ENDPOINT: undefined, KEYFRONT_REGISTRATION_REQUIRED: 'false', KEYFRONT_STORE: 'memory' })).toEqual([]);
  });

  it("is documented: the README's Write API section names every setting", () => {
    const readme = readFileSync(require.resolve('../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Write API'));
    for (const setting of API_SETTINGS) expect(section).toContain(`\`${setting.env}\``);
  });

  it('lists every variable it reads in the settings table', () => {
    const source = readFileSync(require.resolve('./config.ts'), 'utf8');
    // The attestation settings are read by their own module, which config.ts calls.
    const attestation = readFileSync(require.resolve('./attestation/settings.ts'), 'utf8');
    const read = new Set([...`${source}${attestation}`.matchAll(/'(KEYFRONT_[A-Z_]+)'/g)].map((m) => m[1]));
    // Read through readTelemetrySettings (platform/telemetry.ts), whose rows the table includes.
    if (source.includes('readTelemetrySettings(read)')) for (const setting of [TELEMETRY_SETTING, TELEMETRY_AUTH_SETTING]) read.add(setting.env);
    expect([...read].sort()).toEqual(API_SETTINGS.map((s) => s.env).sort());
  });
});

const attestation = createDevAttestation();
const attestationBase: Record<string, string> = { ...devApiEnvironment(material, REGION), KEYFRONT_STORE: 'memory' };
const apps = devAttestationEnvironment(attestation);
const ha = JSON.parse(attestationBase.KEYFRONT_HEALTH_AUTHORITIES) as Array<Record<string, unknown>>;

/** What App Service leaves in a setting whose Key Vault reference did not resolve. */
const UNRESOLVED = '@Microsoft.KeyVault(VaultName=kfprod-kv;SecretName=play-integrity-decryption-key)';

describe('attestation settings', () => {
  it('are off by default and need nothing then, not even resolved Key Vault references', () => {
    const config = loadApiConfig({ ...attestationBase, KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY: UNRESOLVED, KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: UNRESOLVED });
    expect(config.attestation).toEqual({ defaultMode: 'off' });
  });

  it('read both apps, their keys and the root when a mode is report or enforce', () => {
    const config = loadApiConfig({ ...attestationBase, ...apps, KEYFRONT_ATTESTATION: 'enforce' });
    expect(config.attestation.defaultMode).toBe('enforce');
    expect(config.attestation.android).toMatchObject({ packageName: 'org.keyfront.dev', deviceIntegrity: 'MEETS_DEVICE_INTEGRITY', maxAgeInMs: 300_000 });
    expect(config.attestation.android?.verificationKey.asymmetricKeyType).toBe('ec');
    expect(config.attestation.ios).toMatchObject({ appId: 'KEYFRONTDV.org.keyfront.dev', environment: 'development' });
    expect(config.attestation.ios?.root.subject).toContain('keyfront dev App Attestation Root CA');
  });

  it("trust Apple's root by default, and take one platform alone", () => {
    const config = loadApiConfig({ ...attestationBase, KEYFRONT_ATTESTATION: 'report', KEYFRONT_APP_ATTEST_APP_ID: 'ABCDE12345.org.example.app' });
    expect(config.attestation.ios?.root.subject).toContain('Apple App Attestation Root CA');
    expect(config.attestation.ios?.environment).toBe('production');
    expect(config.attestation.android).toBeUndefined();
  });

  it("take the verification key as Play Console's Base64 writes it, in lines of 76", () => {
    const wrapped = apps.KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY.replace(/(.{76})/g, '$1\n');
    expect(wrapped).toContain('\n');
    expect(loadApiConfig({ ...attestationBase, ...apps, KEYFRONT_ATTESTATION: 'report', KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: wrapped }).attestation.android).toBeDefined();
  });

  it("are in use when only a health authority's attestation asks for it, which overrides the default", () => {
    const authorities = JSON.stringify([{ ...ha[0], attestation: 'enforce' }, { ...ha[0], id: 'other', attestation: 'off' }]);
    expect(problemsOf({ ...attestationBase, KEYFRONT_HEALTH_AUTHORITIES: authorities })[0]).toMatch(/KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME or KEYFRONT_APP_ATTEST_APP_ID/);
    const config = loadApiConfig({ ...attestationBase, ...apps, KEYFRONT_HEALTH_AUTHORITIES: authorities });
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
    const problems = problemsOf({ ...attestationBase, ...env });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});
