/**
 * Android: a Play Integrity token of a classic request, decrypted and verified here with the app's
 * own keys ("Make a classic API request", Decrypt and verify locally: a JWE with A256KW/A256GCM
 * holding a JWS with ES256; standard requests can only be decoded by Google's servers). The
 * payload is read as "Integrity verdicts" documents it: `requestDetails` (`requestPackageName`,
 * `nonce`: base64url, `timestampMillis`), `appIntegrity` (`appRecognitionVerdict`, `packageName`)
 * and `deviceIntegrity.deviceRecognitionVerdict` (labels). The nonce is the digest of the
 * upload's canonical form: a token made for other keys or another certificate does not pass.
 */
import { timingSafeEqual } from 'node:crypto';
import { compactDecrypt, compactVerify } from 'jose';
import { AttestationFailure } from './failure';
import { DEVICE_INTEGRITY_LABELS, type PlayIntegritySettings } from './settings';

/** Google's clock and ours: a token stamped further ahead than this is refused. */
const FUTURE_TOLERANCE_MS = 60_000;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function objectAt(value: unknown, field: string): Record<string, unknown> {
  const member = (value as Record<string, unknown> | undefined)?.[field];
  if (typeof member !== 'object' || member === null || Array.isArray(member)) throw new AttestationFailure('attestation_invalid', `the Play Integrity verdict has no ${field}`);
  return member as Record<string, unknown>;
}

async function openToken(token: string, settings: PlayIntegritySettings): Promise<unknown> {
  let jws: Uint8Array;
  try {
    ({ plaintext: jws } = await compactDecrypt(token, settings.decryptionKey, { keyManagementAlgorithms: ['A256KW'], contentEncryptionAlgorithms: ['A256GCM'] }));
  } catch {
    throw new AttestationFailure('attestation_invalid', "the Play Integrity token does not decrypt with the app's key");
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(new TextDecoder().decode(jws), settings.verificationKey, { algorithms: ['ES256'] }));
  } catch {
    throw new AttestationFailure('attestation_invalid', "the Play Integrity verdict's signature does not verify");
  }
  try {
    return JSON.parse(new TextDecoder().decode(payload)) as unknown;
  } catch {
    throw new AttestationFailure('attestation_invalid', 'the Play Integrity verdict is not JSON');
  }
}

/** Whether the verdict's labels include the required one or a stronger one. */
function meetsDevice(labels: unknown, required: PlayIntegritySettings['deviceIntegrity']): boolean {
  if (required === 'none') return true;
  if (!Array.isArray(labels)) return false;
  return DEVICE_INTEGRITY_LABELS.slice(DEVICE_INTEGRITY_LABELS.indexOf(required)).some((label) => labels.includes(label));
}

/** Resolves when `token` attests this upload (`digest`) from the configured app on a device as configured. */
export async function verifyPlayIntegrity(token: string, digest: Buffer, settings: PlayIntegritySettings, now: Date): Promise<void> {
  const verdict = await openToken(token, settings);
  const request = objectAt(verdict, 'requestDetails');
  if (request.requestPackageName !== settings.packageName) throw new AttestationFailure('attestation_app_mismatch', 'the Play Integrity token was requested for another app');
  const nonce = typeof request.nonce === 'string' && BASE64URL.test(request.nonce) ? Buffer.from(request.nonce, 'base64url') : undefined;
  if (nonce === undefined || nonce.length !== digest.length || !timingSafeEqual(nonce, digest)) throw new AttestationFailure('attestation_nonce_mismatch', 'the Play Integrity token was made for another upload');
  // A string in the documented verdicts ("1675655009345"); a number is read the same way.
  const stamped = typeof request.timestampMillis === 'string' && /^\d{1,16}$/.test(request.timestampMillis) ? Number(request.timestampMillis) : request.timestampMillis;
  if (typeof stamped !== 'number' || !Number.isSafeInteger(stamped)) throw new AttestationFailure('attestation_invalid', 'the Play Integrity verdict has no timestampMillis');
  if (stamped > now.getTime() + FUTURE_TOLERANCE_MS) throw new AttestationFailure('attestation_invalid', 'the Play Integrity token is dated in the future');
  if (now.getTime() - stamped > settings.maxAgeInMs) throw new AttestationFailure('attestation_expired', `the Play Integrity token is older than ${settings.maxAgeInMs / 1000} s`);
  const app = objectAt(verdict, 'appIntegrity');
  if (app.appRecognitionVerdict !== 'PLAY_RECOGNIZED' || app.packageName !== settings.packageName) throw new AttestationFailure('attestation_app_mismatch', 'Google Play does not recognise the app that made the token');
  // A device that meets no label has no deviceRecognitionVerdict.
  const device = (verdict as { deviceIntegrity?: { deviceRecognitionVerdict?: unknown } }).deviceIntegrity;
  if (!meetsDevice(device?.deviceRecognitionVerdict, settings.deviceIntegrity)) throw new AttestationFailure('attestation_device_integrity', 'the device does not meet the integrity this server requires');
}
