/** The health authority's published P-256 key, as WebCrypto wants it, from PEM (SPKI), a JWK or a CryptoKey. */
import { ClientError } from './errors';

/** What the app is configured with: the key and, when known, the id and version files must name. */
export interface VerificationKey {
  publicKey: CryptoKey | JsonWebKey | string;
  /** `verification_key_id` the files must carry (the region's MCC for Apple, e.g. "440"). */
  keyId?: string;
  /** `verification_key_version` the files must carry (e.g. "v1"). */
  keyVersion?: string;
}

/** WebCrypto's key type, named through the global `crypto` (the library has no DOM or Node type imports). */
export type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.generateKey>> extends infer K ? (K extends { publicKey: infer P } ? P : K) : never;

/** A JSON Web Key (RFC 7517) of an EC public key; other members are passed on as they are. */
export interface JsonWebKey {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  key_ops?: string[];
  [member: string]: unknown;
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof key === 'object' && key !== null && 'algorithm' in key && 'usages' in key && 'type' in key;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

function invalid(why: string, cause?: unknown): ClientError {
  return new ClientError('public_key_invalid', `cannot use the public key: ${why}`, { cause });
}

/** Standard base64 (whitespace ignored) to bytes, without Node's Buffer. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ''));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Bytes to standard base64, without Node's Buffer. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function spkiOfPem(pem: string): Uint8Array {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match) throw invalid('expected a PEM "PUBLIC KEY" block (SPKI) or a JWK');
  try {
    return base64ToBytes(match[1]);
  } catch (error) {
    throw invalid('the PEM block is not base64', error);
  }
}

/** A CryptoKey for ECDSA P-256 verification, or `ClientError('public_key_invalid')`. */
export async function importVerificationKey(key: CryptoKey | JsonWebKey | string): Promise<CryptoKey> {
  if (isCryptoKey(key)) {
    const algorithm = key.algorithm as { name?: string; namedCurve?: string };
    if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256' || !key.usages.includes('verify')) throw invalid('the CryptoKey is not an ECDSA P-256 verification key');
    return key;
  }
  try {
    if (typeof key === 'string') {
      const text = key.trim();
      if (text.startsWith('{')) return await crypto.subtle.importKey('jwk', JSON.parse(text) as never, ECDSA_P256, false, ['verify']);
      return await crypto.subtle.importKey('spki', spkiOfPem(text), ECDSA_P256, false, ['verify']);
    }
    // A private JWK would import as a signing key: keep its public members only. (`as never`: Node's
    // types name WebCrypto's JsonWebKey in a namespace the library does not import; the members are ours.)
    const { d: _private, key_ops: _ops, ...publicPart } = key;
    return await crypto.subtle.importKey('jwk', publicPart as never, ECDSA_P256, false, ['verify']);
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw invalid(`it is not an ECDSA P-256 public key (${(error as Error).message})`, error);
  }
}
