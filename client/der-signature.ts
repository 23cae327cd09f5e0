/**
 * export.sig carries ECDSA signatures in X9.62 DER (a SEQUENCE of two INTEGERs); WebCrypto verifies
 * the raw 64-byte r||s form. This converts without Node's Buffer, and as strictly as OpenSSL (which
 * `keyfront export verify` uses) reads DER: a non-minimal or negative INTEGER is not a signature, so
 * the phone and the CLI accept exactly the same signatures.
 */

const COORDINATE_BYTES = 32;

/** DER to raw r||s; `undefined` for anything that is not a minimal DER pair of non-negative INTEGERs of P-256 size. */
export function rawOfDerSignature(der: Uint8Array): Uint8Array | undefined {
  if (der.length < 8 || der[0] !== 0x30 || der[1] >= 0x80 || der[1] !== der.length - 2) return undefined;
  const out = new Uint8Array(2 * COORDINATE_BYTES);
  let at = 2;
  for (let part = 0; part < 2; part++) {
    if (der[at] !== 0x02 || der[at + 1] >= 0x80) return undefined;
    const length = der[at + 1];
    const body = der.subarray(at + 2, at + 2 + length);
    if (length === 0 || body.length !== length) return undefined;
    // Negative, or a leading zero that the next byte does not need: not DER.
    if (body[0] & 0x80 || (body[0] === 0 && length > 1 && (body[1] & 0x80) === 0)) return undefined;
    const trimmed = body[0] === 0 && length > 1 ? body.subarray(1) : body;
    if (trimmed.length > COORDINATE_BYTES) return undefined;
    out.set(trimmed, (part + 1) * COORDINATE_BYTES - trimmed.length);
    at += 2 + length;
  }
  return at === der.length ? out : undefined;
}
