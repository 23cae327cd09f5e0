import { createHash } from 'node:crypto';
import { canonicalUpload, canonicalUploadDigest, type CanonicalUploadFields } from './canonical-upload';

const upload: CanonicalUploadFields = {
  temporaryExposureKeys: [
    { key: 'z2J+1gLgq0fMvUA0fO6gRQ==', rollingStartNumber: 2962080, rollingPeriod: 144, transmissionRisk: 5 },
    { key: 'A0W9SBk3UgWkYq5eQxNLbw==', rollingStartNumber: 2961936, rollingPeriod: 144 },
  ],
  healthAuthorityID: 'jp-mhlw',
  verificationPayload: 'eyJhbGciOiJFUzI1NiJ9.eyJ0ZWttYWMiOiJ4In0.c2ln',
  hmacKey: 'aG1hYyBrZXk=',
  platform: 'ios',
};

describe('the canonical form of an upload (what an attestation is bound to)', () => {
  it('is RFC 8785 JSON: members sorted, keys sorted by key, a missing transmission risk as 0, no whitespace', () => {
    // Pinned: phones compute exactly these bytes; a change here is a new format and breaks every app.
    expect(canonicalUpload({ ...upload, symptomOnsetInterval: 2961500, traveler: false, revisionToken: 'dG9rZW4=' })).toBe(
      '{"format":"keyfront-upload-1","healthAuthorityID":"jp-mhlw","hmacKey":"aG1hYyBrZXk=","platform":"ios","revisionToken":"dG9rZW4=","symptomOnsetInterval":2961500,' +
        '"temporaryExposureKeys":[{"key":"A0W9SBk3UgWkYq5eQxNLbw==","rollingPeriod":144,"rollingStartNumber":2961936,"transmissionRisk":0},' +
        '{"key":"z2J+1gLgq0fMvUA0fO6gRQ==","rollingPeriod":144,"rollingStartNumber":2962080,"transmissionRisk":5}],' +
        '"traveler":false,"verificationPayload":"eyJhbGciOiJFUzI1NiJ9.eyJ0ZWttYWMiOiJ4In0.c2ln"}',
    );
  });

  it('does not depend on the order of the keys, an explicit 0 risk, or an empty revision token', () => {
    const reordered = { ...upload, temporaryExposureKeys: [...upload.temporaryExposureKeys].reverse().map((k) => ({ ...k, transmissionRisk: k.transmissionRisk ?? 0 })), revisionToken: '' };
    expect(canonicalUpload(reordered)).toBe(canonicalUpload(upload));
  });

  it('leaves out what the upload carries beside it (the attestation itself, padding)', () => {
    const withMore = { ...upload, deviceVerificationPayload: 'x'.repeat(100), padding: 'AAAA' } as CanonicalUploadFields;
    expect(canonicalUpload(withMore)).toBe(canonicalUpload(upload));
  });

  it.each<[string, Partial<CanonicalUploadFields>]>([
    ['another key', { temporaryExposureKeys: [{ ...upload.temporaryExposureKeys[0], key: 'AAAAAAAAAAAAAAAAAAAAAA==' }, upload.temporaryExposureKeys[1]] }],
    ['one key fewer', { temporaryExposureKeys: upload.temporaryExposureKeys.slice(1) }],
    ['another start', { temporaryExposureKeys: [{ ...upload.temporaryExposureKeys[0], rollingStartNumber: 2962081 }, upload.temporaryExposureKeys[1]] }],
    ['another risk', { temporaryExposureKeys: [{ ...upload.temporaryExposureKeys[0], transmissionRisk: 4 }, upload.temporaryExposureKeys[1]] }],
    ['another certificate', { verificationPayload: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' }],
    ['another hmacKey', { hmacKey: 'b3RoZXI=' }],
    ['another health authority', { healthAuthorityID: 'de-rki' }],
    ['another platform', { platform: 'android' }],
    ['an onset', { symptomOnsetInterval: 1 }],
    ['traveler', { traveler: true }],
    ['a revision token', { revisionToken: 'dG9rZW4=' }],
  ])('changes with %s', (_name, change) => {
    expect(canonicalUpload({ ...upload, ...change })).not.toBe(canonicalUpload(upload));
  });

  it('digests with WebCrypto to SHA-256 of its UTF-8 bytes, as the server computes it', async () => {
    const digest = await canonicalUploadDigest(upload);
    expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha256').update(canonicalUpload(upload), 'utf8').digest('hex'));
  });
});
