/**
 * Signature encodings and checks of export.sig. GAEN wants ECDSA P-256 over SHA-256 in X9.62 DER
 * (a SEQUENCE of two INTEGERs); Key Vault and JOSE produce the raw 64-byte r||s form.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ExportFormatError } from './errors';

export { ECDSA_P256_SHA256_OID } from './export-rules';

const COORDINATE_BYTES = 32;

/** Minimal DER INTEGER body of an unsigned big-endian number: no extra leading zeros, a 0x00 when the top bit is set. */
function derInteger(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const body = unsigned.subarray(start);
  const pad = body[0] & 0x80 ? 1 : 0;
  const out = Buffer.alloc(2 + pad + body.length);
  out[0] = 0x02;
  out[1] = pad + body.length;
  out.set(body, 2 + pad);
  return out;
}

/** Raw r||s (64 bytes, as Key Vault returns it) to DER. */
export function derFromRawSignature(raw: Uint8Array): Buffer {
  if (raw.length !== 2 * COORDINATE_BYTES) {
    throw new ExportFormatError('signature_invalid', `a raw P-256 signature is 64 bytes (r||s), got ${raw.length}`);
  }
  const r = derInteger(raw.subarray(0, COORDINATE_BYTES));
  const s = derInteger(raw.subarray(COORDINATE_BYTES));
  // Both integers are at most 33 bytes, so the sequence length always fits the short form.
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

/** DER back to raw r||s; throws `signature_invalid` on anything that is not a well-formed pair of INTEGERs. */
export function rawFromDerSignature(der: Uint8Array): Buffer {
  const bad = (why: string) => new ExportFormatError('signature_invalid', `signature is not a DER ECDSA signature: ${why}`);
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) throw bad('no SEQUENCE of the right length');
  const out = Buffer.alloc(2 * COORDINATE_BYTES);
  let at = 2;
  for (let part = 0; part < 2; part++) {
    if (der[at] !== 0x02) throw bad('INTEGER expected');
    const len = der[at + 1];
    const body = der.subarray(at + 2, at + 2 + len);
    if (len === 0 || body.length !== len) throw bad('truncated INTEGER');
    const trimmed = body[0] === 0 && len > 1 ? body.subarray(1) : body;
    if (trimmed.length > COORDINATE_BYTES) throw bad('INTEGER longer than 32 bytes');
    out.set(trimmed, (part + 1) * COORDINATE_BYTES - trimmed.length);
    at += 2 + len;
  }
  if (at !== der.length) throw bad('trailing bytes');
  return out;
}

/** A P-256 public key from PEM (SPKI) text or a JWK; anything else is `public_key_invalid`. */
export function loadPublicKey(key: string | Buffer | JsonWebKey | KeyObject): KeyObject {
  let keyObject: KeyObject;
  try {
    if (typeof key === 'string' || Buffer.isBuffer(key)) {
      const text = key.toString().trim();
      keyObject = text.startsWith('{') ? createPublicKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' }) : createPublicKey(text);
    } else if ('type' in key && typeof (key as KeyObject).export === 'function') {
      keyObject = key as KeyObject;
    } else {
      keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    }
  } catch (error) {
    throw new ExportFormatError('public_key_invalid', `cannot read the public key: ${(error as Error).message}`);
  }
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ExportFormatError('public_key_invalid', 'the public key is not an ECDSA P-256 key');
  }
  return keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
}

/** Whether a DER signature of SHA-256(data) verifies with the P-256 public key. */
export function verifyDerSignature(data: Uint8Array, der: Uint8Array, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der);
  } catch {
    return false;
  }
}
