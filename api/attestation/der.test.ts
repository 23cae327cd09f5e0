import { generateKeyPairSync } from 'node:crypto';
import { buildCertificate } from '../../scripts/local-stack/dev-certificates';
import { certificateExtension, encodeOid } from './der';

describe('reading one extension of a DER certificate', () => {
  it.each([
    ['1.2.840.113635.100.8.2', '2a864886f763640802'],
    ['2.5.29.19', '551d13'],
    ['1.2.840.10045.4.3.2', '2a8648ce3d040302'],
  ])('encodes the object identifier %s', (oid, hex) => {
    expect(encodeOid(oid).toString('hex')).toBe(hex);
  });

  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const value = Buffer.from('3024a1220420' + 'ab'.repeat(32), 'hex');
  const certificate = buildCertificate({ commonName: 'a'.repeat(300), publicKey: keys.publicKey, selfKey: keys.privateKey, ca: false, notBefore: new Date(0), notAfter: new Date(86400e3), extensions: [{ oid: '1.2.840.113635.100.8.2', value }] });

  it('finds the extension by its identifier, in a certificate with long-form lengths, and nothing for an absent one', () => {
    expect(certificate.raw.length).toBeGreaterThan(256);
    expect(certificateExtension(certificate.raw, encodeOid('1.2.840.113635.100.8.2'))).toEqual(value);
    expect(certificateExtension(certificate.raw, encodeOid('1.2.840.113635.100.8.5'))).toBeUndefined();
    // Basic constraints, marked critical: the value is the element after the flag.
    expect(certificateExtension(certificate.raw, encodeOid('2.5.29.19'))?.toString('hex')).toBe('3000');
  });

  it('answers nothing, without throwing, for bytes that are not a certificate', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), certificate.raw.subarray(0, 200), Buffer.from('3003020101', 'hex')]) {
      expect(certificateExtension(bytes, encodeOid('1.2.840.113635.100.8.2'))).toBeUndefined();
    }
  });
});
