import { createHash, X509Certificate } from 'node:crypto';
import { APPLE_APP_ATTESTATION_ROOT_CA } from './apple-root';

describe("Apple's App Attestation Root CA", () => {
  const root = new X509Certificate(APPLE_APP_ATTESTATION_ROOT_CA);

  it('is the certificate Apple publishes: its SHA-256 fingerprint, subject and validity', () => {
    expect(createHash('sha256').update(root.raw).digest('hex')).toBe('1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932');
    expect(root.subject.split('\n')).toEqual(['CN=Apple App Attestation Root CA', 'O=Apple Inc.', 'ST=California']);
    expect([new Date(root.validFrom).toISOString(), new Date(root.validTo).toISOString()]).toEqual(['2020-03-18T18:32:53.000Z', '2045-03-15T00:00:00.000Z']);
  });

  it('is a self-signed P-384 CA', () => {
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });
});
