/**
 * The settings of device attestation (README "Device attestation"): the default mode, and the app
 * each platform's attestation must come from with the keys or root that check it. Read by
 * `api/config.ts` with the API's other settings; the keys and root are parsed here, once.
 */
import { createPublicKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Setting, SettingsReader } from '../../platform/settings';
import { APPLE_APP_ATTESTATION_ROOT_CA } from './apple-root';

export const ATTESTATION_MODES = ['off', 'report', 'enforce'] as const;
/** off: the fields are accepted and ignored; report: verified and counted, never refused; enforce: refused unless verified. */
export type AttestationMode = (typeof ATTESTATION_MODES)[number];

/**
 * Play Integrity device labels, weakest first (integrity verdicts, "Device integrity field"): a
 * device that meets a label meets the weaker ones, and a verdict lists every label it meets when
 * the app opted in to them; `none` checks the app only.
 */
export const DEVICE_INTEGRITY_LABELS = ['MEETS_BASIC_INTEGRITY', 'MEETS_DEVICE_INTEGRITY', 'MEETS_STRONG_INTEGRITY'] as const;
export type DeviceIntegrityLabel = (typeof DEVICE_INTEGRITY_LABELS)[number];

export interface PlayIntegritySettings {
  packageName: string;
  /** AES-256 key of the token's JWE (A256KW). */
  decryptionKey: KeyObject;
  /** EC P-256 key of the verdict's JWS (ES256). */
  verificationKey: KeyObject;
  deviceIntegrity: DeviceIntegrityLabel | 'none';
  maxAgeInMs: number;
}

export interface AppAttestSettings {
  /** Team ID and bundle ID: `ABCDE12345.org.example.app`. */
  appId: string;
  environment: 'production' | 'development';
  root: X509Certificate;
}

export interface AttestationSettings {
  defaultMode: AttestationMode;
  /** Absent: no Android app is configured (its attestations are invalid). */
  android?: PlayIntegritySettings;
  ios?: AppAttestSettings;
}

export const ATTESTATION_SETTINGS: readonly Setting[] = [
  { env: 'KEYFRONT_ATTESTATION', default: 'off', description: 'Device attestation of uploads: off (platform and deviceVerificationPayload ignored), report (verified and counted by code, never refused) or enforce (401 unless verified). A health authority\'s "attestation" overrides it. README "Device attestation".' },
  { env: 'KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME', description: 'Android app whose Play Integrity tokens are accepted (requestPackageName and appIntegrity.packageName). Unset: Android attestations are attestation_invalid.' },
  { env: 'KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY', secret: true, description: 'The app\'s Play Integrity decryption key, base64 as Play Console gives it (AES-256). In Azure a Key Vault reference (secret play-integrity-decryption-key).' },
  { env: 'KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY', secret: true, description: 'The app\'s Play Integrity verification key, base64 DER as Play Console gives it (EC P-256). In Azure a Key Vault reference (secret play-integrity-verification-key).' },
  { env: 'KEYFRONT_PLAY_INTEGRITY_DEVICE_INTEGRITY', default: 'MEETS_DEVICE_INTEGRITY', description: 'Weakest deviceRecognitionVerdict label accepted: MEETS_BASIC_INTEGRITY, MEETS_DEVICE_INTEGRITY or MEETS_STRONG_INTEGRITY (a stronger label passes too), or none (the app is checked, not the device).' },
  { env: 'KEYFRONT_PLAY_INTEGRITY_MAX_AGE_SECONDS', default: '300', description: 'Oldest accepted Play Integrity token, by requestDetails.timestampMillis.' },
  { env: 'KEYFRONT_APP_ATTEST_APP_ID', description: 'iOS app whose App Attest attestations are accepted: Team ID and bundle ID (ABCDE12345.org.example.app). Unset: iOS attestations are attestation_invalid.' },
  { env: 'KEYFRONT_APP_ATTEST_ENVIRONMENT', default: 'production', description: 'App Attest environment of the app\'s builds: production (AAGUID appattest) or development (appattestdevelop).' },
  { env: 'KEYFRONT_APP_ATTEST_ROOT_CA', description: 'PEM of the App Attest root; by default Apple App Attestation Root CA (built in). Only the local stack and tests set it, to their dev root.' },
];

/**
 * What App Service leaves in an app setting whose Key Vault reference did not resolve: the
 * reference itself ("Use Key Vault references as app settings": if a reference isn't resolved,
 * the reference string is used instead).
 */
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Java package names, at least two segments (Android's application id). */
const PACKAGE_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
/** A 10-character Team ID, a dot, a bundle ID. */
const APP_ID = /^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** A secret that Azure reads from Key Vault: required, and a problem naming it when App Service could not resolve it. */
function keyVaultSecret(read: SettingsReader, name: string): string | undefined {
  const value = read.raw(name);
  if (value === undefined) read.problems.push(`${name} is required when KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME is set and a mode is report or enforce`);
  else if (KEY_VAULT_REFERENCE.test(value)) read.problems.push(`${name} is a Key Vault reference that App Service could not resolve: load the secret into Key Vault (README "Device attestation") and restart the app`);
  else return value;
  return undefined;
}

function playKeys(read: SettingsReader): Pick<PlayIntegritySettings, 'decryptionKey' | 'verificationKey'> | undefined {
  // Play Console encodes with Android's default Base64 flags, which wrap lines at 76 characters.
  const decryption = keyVaultSecret(read, 'KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY')?.replace(/\s+/g, '');
  const verification = keyVaultSecret(read, 'KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY')?.replace(/\s+/g, '');
  let decryptionKey: KeyObject | undefined;
  let verificationKey: KeyObject | undefined;
  if (decryption !== undefined) {
    const bytes = BASE64.test(decryption) ? Buffer.from(decryption, 'base64') : undefined;
    if (bytes?.length === 32) decryptionKey = createSecretKey(bytes);
    else read.invalid('KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY', 'the base64 of a 32-byte AES key');
  }
  if (verification !== undefined) {
    try {
      if (!BASE64.test(verification)) throw new Error('not base64');
      const key = createPublicKey({ key: Buffer.from(verification, 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not P-256');
      verificationKey = key;
    } catch {
      read.invalid('KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY', 'the base64 of a DER EC P-256 public key');
    }
  }
  return decryptionKey && verificationKey ? { decryptionKey, verificationKey } : undefined;
}

function appAttestRoot(read: SettingsReader): X509Certificate | undefined {
  const pem = read.raw('KEYFRONT_APP_ATTEST_ROOT_CA') ?? APPLE_APP_ATTESTATION_ROOT_CA;
  try {
    const root = new X509Certificate(pem);
    if (!root.ca) throw new Error('not a CA');
    return root;
  } catch {
    read.problems.push('KEYFRONT_APP_ATTEST_ROOT_CA must be the PEM of a CA certificate');
    return undefined;
  }
}

/**
 * The attestation settings. `inUse`: whether the default or a health authority asks for report or
 * enforce; only then are the apps required and their keys read (in Azure the Key Vault references
 * stay unresolved while the secrets do not exist, which is fine with attestation off).
 */
export function readAttestationSettings(read: SettingsReader, overrides: readonly AttestationMode[]): AttestationSettings {
  const defaultMode = read.oneOf('KEYFRONT_ATTESTATION', ATTESTATION_MODES);
  const settings: AttestationSettings = { defaultMode };
  const inUse = [defaultMode, ...overrides].some((mode) => mode !== 'off');
  const deviceIntegrity = read.oneOf('KEYFRONT_PLAY_INTEGRITY_DEVICE_INTEGRITY', ['MEETS_DEVICE_INTEGRITY', 'MEETS_BASIC_INTEGRITY', 'MEETS_STRONG_INTEGRITY', 'none'] as const);
  const maxAgeInMs = read.integer('KEYFRONT_PLAY_INTEGRITY_MAX_AGE_SECONDS', 30, 3600) * 1000;
  const environment = read.oneOf('KEYFRONT_APP_ATTEST_ENVIRONMENT', ['production', 'development'] as const);
  if (!inUse) return settings;
  const packageName = read.raw('KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME');
  const appId = read.raw('KEYFRONT_APP_ATTEST_APP_ID');
  if (packageName === undefined && appId === undefined) {
    read.problems.push('KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME or KEYFRONT_APP_ATTEST_APP_ID (or both) is required when KEYFRONT_ATTESTATION or a health authority\'s attestation is report or enforce');
  }
  if (packageName !== undefined) {
    if (!PACKAGE_NAME.test(packageName)) read.invalid('KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME', 'an Android package name such as org.example.app', packageName);
    const keys = playKeys(read);
    if (keys) settings.android = { packageName, ...keys, deviceIntegrity, maxAgeInMs };
  }
  if (appId !== undefined) {
    if (!APP_ID.test(appId)) read.invalid('KEYFRONT_APP_ATTEST_APP_ID', 'a Team ID and bundle ID such as ABCDE12345.org.example.app', appId);
    const root = appAttestRoot(read);
    if (root) settings.ios = { appId, environment, root };
  }
  return settings;
}
