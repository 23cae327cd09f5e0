/**
 * The signing key as the page uses it: imported once for WebCrypto, and its fingerprint (SHA-256
 * of the SPKI DER) computed in the browser, so that a reader compares what their own browser
 * computed with the fingerprint the health authority publishes elsewhere.
 */
import { base64ToBytes, type CryptoKey } from '../client';
import type { SigningKeyConfig } from './site-config';

export interface PageKey {
  publicKey: CryptoKey;
  keyId: string;
  keyVersion: string;
  /** Lower-case hex, computed here. */
  fingerprintSha256: string;
  /** Whether config.json's own fingerprint says the same. */
  fingerprintMatchesConfig: boolean;
}

function spkiOfPem(pem: string): Uint8Array<ArrayBuffer> {
  const body = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!body) throw new Error('the public key is not a PEM "PUBLIC KEY" block');
  return new Uint8Array(base64ToBytes(body[1]));
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function importPageKey(config: SigningKeyConfig, subtle: typeof crypto.subtle = crypto.subtle): Promise<PageKey> {
  const spki = spkiOfPem(config.publicKeyPem);
  const [publicKey, digest] = await Promise.all([
    subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']),
    subtle.digest('SHA-256', spki),
  ]);
  const fingerprintSha256 = hex(digest);
  return { publicKey, keyId: config.keyId, keyVersion: config.keyVersion, fingerprintSha256, fingerprintMatchesConfig: fingerprintSha256 === config.fingerprintSha256 };
}
