import { ConfigError, loadPublisherConfig } from './config';
import { signersSettingValue } from './signers/signer-settings';

const REQUIRED = { KEYFRONT_COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/', KEYFRONT_BLOB_ACCOUNT_URL: 'https://account.blob.core.windows.net' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadPublisherConfig({ ...REQUIRED, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('publisher settings', () => {
  it('has a default for every setting but where the keys and the files live', () => {
    const config = loadPublisherConfig(REQUIRED);
    expect(config).toMatchObject({
      regions: ['440'],
      schedule: '0 */15 * * * *',
      windowSeconds: 3600,
      safetyMarginSeconds: 300,
      privacyFloor: 'hold',
      minKeysPerFile: 1000,
      paddingJitter: 100,
      maxHoldSeconds: 19_800,
      maxKeysPerFile: 750_000,
      storePageSize: 1000,
      fileRetentionDays: 14,
      keyRetentionDays: 15,
      blob: { accountUrl: 'https://account.blob.core.windows.net', exportContainer: 'exports', stateContainer: 'publisher-state' },
      store: { cosmosDatabase: 'keyfront', cosmosContainer: 'exposures', cosmosShards: 16 },
      signers: [{ keyFile: '.data/signing-private.pem', keyId: '440', keyVersion: 'v1' }],
      purger: { kind: 'none', attempts: 4, backoffInMs: 2000 },
      leaseSeconds: 60,
      deadlineSeconds: 540,
      site: {},
    });
  });

  it('reads every setting from its variable', () => {
    const config = loadPublisherConfig({
      ...REQUIRED,
      KEYFRONT_REGIONS: 'JP, 440',
      KEYFRONT_WINDOW_SECONDS: '600',
      KEYFRONT_PRIVACY_FLOOR: 'hold',
      KEYFRONT_MAX_KEYS_PER_FILE: '5000',
      KEYFRONT_SIGNER: 'key-vault',
      KEYFRONT_KEY_VAULT_KEY_ID: 'https://vault.vault.azure.net/keys/export/0123',
      KEYFRONT_PURGER: 'front-door',
      KEYFRONT_FRONT_DOOR_SUBSCRIPTION_ID: 'sub',
      KEYFRONT_FRONT_DOOR_RESOURCE_GROUP: 'rg',
      KEYFRONT_FRONT_DOOR_PROFILE: 'profile',
      KEYFRONT_FRONT_DOOR_ENDPOINT: 'endpoint',
      KEYFRONT_DATA_DIR: '/var/keyfront',
      KEYFRONT_SITE_FINGERPRINT_URL: 'https://health.example/exposure-keys/',
    });
    expect(config).toMatchObject({
      site: { fingerprintUrl: 'https://health.example/exposure-keys' },
      regions: ['JP', '440'],
      windowSeconds: 600,
      privacyFloor: 'hold',
      maxKeysPerFile: 5000,
      signers: [{ keyVaultKeyId: 'https://vault.vault.azure.net/keys/export/0123', keyId: '440', keyVersion: 'v1' }],
      purger: { kind: 'front-door', frontDoor: { subscriptionId: 'sub', resourceGroup: 'rg', profileName: 'profile', endpointName: 'endpoint' } },
    });
  });

  it.each([
    ['KEYFRONT_WINDOW_SECONDS', '90', /KEYFRONT_WINDOW_SECONDS must be a whole number of minutes that divides a day.*, got "90"/],
    ['KEYFRONT_WINDOW_SECONDS', 'hour', /KEYFRONT_WINDOW_SECONDS must be an integer from 60 to 86400.*, got "hour"/],
    ['KEYFRONT_PRIVACY_FLOOR', 'drop', /KEYFRONT_PRIVACY_FLOOR must be one of pad, hold.*, got "drop"/],
    ['KEYFRONT_MAX_KEYS_PER_FILE', '750001', /KEYFRONT_MAX_KEYS_PER_FILE must be an integer from 1 to 750000.*, got "750001"/],
    ['KEYFRONT_REGIONS', 'JP,JP', /KEYFRONT_REGIONS must be a list that does not repeat a region, got "JP,JP"/],
    ['KEYFRONT_REGIONS', 'J P', /KEYFRONT_REGIONS must be a list of regions of .*, got "J P"/],
    ['KEYFRONT_PUBLISH_LEASE_SECONDS', '10', /KEYFRONT_PUBLISH_LEASE_SECONDS must be an integer from 15 to 60.*, got "10"/],
    ['KEYFRONT_SIGNATURE_KEY_ID', '440-a', /KEYFRONT_SIGNATURE_KEY_ID must be of \[A-Za-z0-9_\].*, got "440-a"/],
    ['KEYFRONT_EXPORT_CONTAINER', 'Exports', /KEYFRONT_EXPORT_CONTAINER must be a container name.*, got "Exports"/],
    ['KEYFRONT_EDGE_ADMIN_URL', 'ftp://x', /KEYFRONT_EDGE_ADMIN_URL must be an http\(s\) URL.*, got "ftp:\/\/x"/],
    ['KEYFRONT_SITE_FINGERPRINT_URL', 'http://health.example/key', /KEYFRONT_SITE_FINGERPRINT_URL must be an https URL.*, got "http:\/\/health.example\/key"/],
    ['KEYFRONT_SITE_FINGERPRINT_URL', 'javascript:alert(1)', /KEYFRONT_SITE_FINGERPRINT_URL must be an http\(s\) URL.*, got "javascript:alert\(1\)"/],
    ['KEYFRONT_PUBLISH_SCHEDULE', '*/5 * * * *', /KEYFRONT_PUBLISH_SCHEDULE must be an NCRONTAB expression of six fields.*, got "\*\/5 \* \* \* \*"/],
  ])('rejects %s=%s, naming the variable', (name, value, message) => {
    expect(problemsOf({ [name]: value }).join('\n')).toMatch(message);
  });

  it.each([
    ['a minimum plus jitter above the maximum', { KEYFRONT_MAX_KEYS_PER_FILE: '1000' }, /KEYFRONT_MIN_KEYS_PER_FILE \+ KEYFRONT_PADDING_JITTER \(1100\) must not exceed KEYFRONT_MAX_KEYS_PER_FILE \(1000\)/],
    ['keys kept shorter than files', { KEYFRONT_KEY_RETENTION_DAYS: '7' }, /KEYFRONT_KEY_RETENTION_DAYS \(7\) must be at least KEYFRONT_FILE_RETENTION_DAYS \(14\)/],
    ['a hold as long as keys are kept', { KEYFRONT_KEY_RETENTION_DAYS: '14', KEYFRONT_MAX_HOLD_SECONDS: '1209600' }, /KEYFRONT_MAX_HOLD_SECONDS \(1209600\) must be below 1112100: KEYFRONT_KEY_RETENTION_DAYS \(14\) × 86400 less/],
    // 14 days is below 15 days, but a key uploaded as its rolling period began waits 26 h for its embargo first.
    ['a hold that ends after keys are deleted', { KEYFRONT_MAX_HOLD_SECONDS: '1209600' }, /KEYFRONT_MAX_HOLD_SECONDS \(1209600\) must be below 1198500: KEYFRONT_KEY_RETENTION_DAYS \(15\) .*held keys must not be deleted from the store before they are published/],
    ['both Blob settings', { KEYFRONT_BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true' }, /set only one of KEYFRONT_BLOB_CONNECTION_STRING and KEYFRONT_BLOB_ACCOUNT_URL/],
    ['the Key Vault signer without its key', { KEYFRONT_SIGNER: 'key-vault' }, /KEYFRONT_KEY_VAULT_KEY_ID is required when KEYFRONT_SIGNER=key-vault/],
    ['the Front Door purger without its profile', { KEYFRONT_PURGER: 'front-door', KEYFRONT_FRONT_DOOR_SUBSCRIPTION_ID: 's', KEYFRONT_FRONT_DOOR_RESOURCE_GROUP: 'g', KEYFRONT_FRONT_DOOR_ENDPOINT: 'e' }, /KEYFRONT_FRONT_DOOR_PROFILE is required when KEYFRONT_PURGER=front-door/],
  ])('rejects %s', (_name, env, message) => {
    expect(problemsOf(env).join('\n')).toMatch(message);
  });

  it('accepts the longest hold whose keys are still stored when it ends', () => {
    expect(problemsOf({ KEYFRONT_MAX_HOLD_SECONDS: String(15 * 86400 - 26 * 3600 - 3600 - 300 - 1) })).toEqual([]);
  });

  it('requires the store and the storage, and names every problem at once', () => {
    expect(() => loadPublisherConfig({ KEYFRONT_PRIVACY_FLOOR: 'x' })).toThrow(ConfigError);
    expect(problemsOf({ KEYFRONT_COSMOS_ENDPOINT: '', KEYFRONT_BLOB_ACCOUNT_URL: '' })).toEqual([
      expect.stringMatching(/^KEYFRONT_BLOB_ACCOUNT_URL \(Azure, managed identity\) or KEYFRONT_BLOB_CONNECTION_STRING \(Azurite\) is required/),
      expect.stringMatching(/^KEYFRONT_COSMOS_ENDPOINT is required to read the keys/),
    ]);
    expect(problemsOf({ KEYFRONT_WINDOW_SECONDS: '7', KEYFRONT_PURGER: 'cdn' })).toHaveLength(2);
  });
});

describe('KEYFRONT_SIGNERS: the signing keys of a rotation', () => {
  const now = new Date('2026-05-04T00:00:00Z');
  const vault = (version: string) => `https://kfprod-kv.vault.azure.net/keys/export-signing/${version}`;
  const rotation = [
    { keyId: '440', keyVersion: 'v1', keyVaultKeyId: vault('aaaa1111'), notAfter: '2026-06-01T00:00:00Z' },
    { keyId: '440', keyVersion: 'v2', keyVaultKeyId: vault('bbbb2222'), notBefore: '2026-05-04T00:00:00Z' },
  ];
  const load = (signers: unknown, env: Record<string, string> = {}) => loadPublisherConfig({ ...REQUIRED, KEYFRONT_SIGNERS: JSON.stringify(signers), ...env }, { now });
  const problems = (signers: unknown, env: Record<string, string> = {}) => {
    try {
      load(signers, env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
  };

  it('reads each signer with its key, its window in UTC seconds and its regions, in order', () => {
    const config = load([...rotation.slice(0, 1), { ...rotation[1], regions: ['440'] }, { keyId: 'JP', keyVersion: 'v1', keyFile: '/keys/jp.pem', regions: ['JP'] }], { KEYFRONT_REGIONS: '440,JP' });
    expect(config.signers).toEqual([
      { keyId: '440', keyVersion: 'v1', keyVaultKeyId: vault('aaaa1111'), notAfter: Date.parse('2026-06-01T00:00:00Z') / 1000 },
      { keyId: '440', keyVersion: 'v2', keyVaultKeyId: vault('bbbb2222'), notBefore: Date.parse('2026-05-04T00:00:00Z') / 1000, regions: ['440'] },
      { keyId: 'JP', keyVersion: 'v1', keyFile: '/keys/jp.pem', regions: ['JP'] },
    ]);
  });

  it.each([
    ['not JSON', '[{', /^KEYFRONT_SIGNERS must be a JSON array of signers .* and is not JSON/],
    ['an empty list', [], /^KEYFRONT_SIGNERS must be a JSON array of 1 to 4 signers, got 0 entries/],
    ['an object', {}, /^KEYFRONT_SIGNERS must be a JSON array of 1 to 4 signers, got object/],
    ['a key id with a dash', [{ ...rotation[1], keyId: '440-a' }], /^KEYFRONT_SIGNERS\[0\]\.keyId must be a string of \[A-Za-z0-9_\]\{1,32\}, got "440-a"/],
    ['no key', [{ keyId: '440', keyVersion: 'v1' }], /^KEYFRONT_SIGNERS\[0\] must name exactly one of keyFile .* and keyVaultKeyId/],
    ['both keys', [{ ...rotation[1], keyFile: '/k.pem' }], /^KEYFRONT_SIGNERS\[0\] must name exactly one of keyFile/],
    ['a Key Vault key without its version', [{ ...rotation[1], keyVaultKeyId: 'https://kfprod-kv.vault.azure.net/keys/export-signing' }], /^KEYFRONT_SIGNERS\[0\]\.keyVaultKeyId must be a Key Vault key version, https:\/\/\{vault\}/],
    ['a time without a zone', [rotation[0], { ...rotation[1], notBefore: '2026-05-04T00:00:00' }], /^KEYFRONT_SIGNERS\[1\]\.notBefore must be an ISO 8601 instant with a zone/],
    ['a window that ends before it begins', [rotation[0], { ...rotation[1], notAfter: '2026-05-01T00:00:00Z' }], /^KEYFRONT_SIGNERS\[1\]\.notAfter must be after notBefore/],
    ['a misspelt field', [{ ...rotation[1], notafter: '2026-06-01T00:00:00Z' }], /^KEYFRONT_SIGNERS\[0\]\.notafter is not a field of a signer/],
    ['a region that is not published', [{ ...rotation[1], regions: ['441'] }], /^KEYFRONT_SIGNERS\[0\]\.regions must be a non-empty list of published regions \(KEYFRONT_REGIONS: 440\)/],
    ['one key id and version twice', [rotation[1], { ...rotation[1], keyVaultKeyId: vault('cccc3333') }], /^KEYFRONT_SIGNERS names the key id and version 440\/v2 twice/],
    ['a gap after the old key ends', [rotation[0], { ...rotation[1], notBefore: '2026-06-02T00:00:00Z' }], /^KEYFRONT_SIGNERS leaves region 440 without a signer from 2026-06-01T00:00:00Z/],
    ['no signer now', [{ ...rotation[1], notBefore: '2026-05-05T00:00:00Z' }], /^KEYFRONT_SIGNERS leaves region 440 without a signer from 2026-05-04T00:00:00Z/],
    ['every signer ending', [rotation[0]], /^KEYFRONT_SIGNERS leaves region 440 without a signer from 2026-06-01T00:00:00Z/],
  ])('refuses %s, naming the entry and field', (_name, value, message) => {
    expect(problems(typeof value === 'string' ? undefined : value, typeof value === 'string' ? { KEYFRONT_SIGNERS: value } : {}).join('\n')).toMatch(message);
  });

  it('refuses a region left without a signer while another has one', () => {
    expect(problems([{ ...rotation[1], regions: ['440'] }], { KEYFRONT_REGIONS: '440,JP' })).toEqual([expect.stringMatching(/^KEYFRONT_SIGNERS leaves region JP without a signer/)]);
  });

  it('accepts a retired key whose window is over, and windows that meet', () => {
    expect(problems([{ ...rotation[0], notAfter: '2026-05-01T00:00:00Z' }, { ...rotation[1], notBefore: '2026-04-01T00:00:00Z' }])).toEqual([]);
    expect(problems([rotation[0], { ...rotation[1], notBefore: '2026-06-01T00:00:00Z' }])).toEqual([]);
  });

  it('refuses the single-key settings beside it, naming them', () => {
    expect(problems(rotation, { KEYFRONT_SIGNER: 'key-vault', KEYFRONT_SIGNATURE_KEY_VERSION: 'v1' })).toEqual([
      'set KEYFRONT_SIGNERS or the single-key settings (KEYFRONT_SIGNER, KEYFRONT_SIGNING_KEY_FILE, KEYFRONT_KEY_VAULT_KEY_ID, KEYFRONT_SIGNATURE_KEY_ID, KEYFRONT_SIGNATURE_KEY_VERSION), not both: KEYFRONT_SIGNER, KEYFRONT_SIGNATURE_KEY_VERSION are set too',
    ]);
  });

  it('writes what it reads', () => {
    const { signers } = load(rotation);
    expect(signersSettingValue(signers)).toBe(JSON.stringify(rotation));
  });
});
