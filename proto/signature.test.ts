import { generateKeyPairSync, sign, verify } from 'node:crypto';
import * as fc from 'fast-check';
import { derFromRawSignature, loadPublicKey, rawFromDerSignature, verifyDerSignature } from './signature';

describe('signature encodings', () => {
  it('converts raw r||s to DER and back for any 64 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (raw) => {
        fc.pre(raw.subarray(0, 32).some((b) => b !== 0) && raw.subarray(32).some((b) => b !== 0));
        const der = derFromRawSignature(raw);
        expect(der[0]).toBe(0x30);
        expect(rawFromDerSignature(der)).toEqual(Buffer.from(raw));
      }),
    );
  });

  it('writes minimal INTEGERs: a 0x00 before a high bit, no leading zeros otherwise', () => {
    const raw = Buffer.concat([Buffer.alloc(32, 0x80), Buffer.concat([Buffer.alloc(2), Buffer.alloc(30, 0x11)])]);
    const der = derFromRawSignature(raw);
    expect(der.subarray(0, 4)).toEqual(Buffer.from([0x30, 2 + 33 + 2 + 30, 0x02, 33]));
    expect(der[4]).toBe(0x00);
    expect(der.subarray(4 + 33, 4 + 33 + 2)).toEqual(Buffer.from([0x02, 30]));
  });

  it('agrees with node:crypto: its DER signatures convert to the P1363 form it also produces', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      const raw = rawFromDerSignature(der);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(verifyDerSignature(data, derFromRawSignature(raw), publicKey)).toBe(true);
    }
  });

  it.each([
    ['too short', Buffer.from([0x30, 0x02, 0x02, 0x00])],
    ['not a SEQUENCE', Buffer.from([0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ['a wrong length', Buffer.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ['trailing bytes', Buffer.from([0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00])],
    ['an oversized INTEGER', Buffer.concat([Buffer.from([0x30, 0x27, 0x02, 0x22]), Buffer.alloc(34, 1), Buffer.from([0x02, 0x01, 0x01])])],
  ])('refuses DER that is %s', (_name, der) => {
    expect(() => rawFromDerSignature(der)).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });

  it('refuses a raw signature that is not 64 bytes', () => {
    expect(() => derFromRawSignature(Buffer.alloc(63))).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });

  it('loads P-256 public keys from PEM, JWK text and JWK objects, and refuses others', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const jwk = publicKey.export({ format: 'jwk' });
    for (const form of [pem, Buffer.from(pem), JSON.stringify(jwk), jwk]) expect(loadPublicKey(form).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => loadPublicKey(p384)).toThrow(expect.objectContaining({ code: 'public_key_invalid', message: 'the public key is not an ECDSA P-256 key' }));
    expect(() => loadPublicKey('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----')).toThrow(expect.objectContaining({ code: 'public_key_invalid' }));
  });
});
