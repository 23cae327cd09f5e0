import { parseSiteConfig } from './site-config';

const good = {
  regions: ['440'],
  signingKey: { keyId: '440', keyVersion: 'v1', algorithm: '1.2.840.10045.4.3.2', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', fingerprintSha256: 'a'.repeat(64) },
};

describe('config.json as the page reads it', () => {
  it('reads what the publisher writes (extra fields such as the JWK are ignored)', () => {
    expect(parseSiteConfig(JSON.stringify({ ...good, signingKey: { ...good.signingKey, publicKeyJwk: { kty: 'EC' } } }))).toEqual({ ...good, signingKeys: [good.signingKey] });
  });

  it('reads every key of a rotation, the named one first', () => {
    const next = { ...good.signingKey, keyVersion: 'v2', fingerprintSha256: 'b'.repeat(64) };
    expect(parseSiteConfig(JSON.stringify({ ...good, signingKeys: [good.signingKey, next] })).signingKeys).toEqual([good.signingKey, next]);
    // The named key comes first and once, whatever the list says.
    expect(parseSiteConfig(JSON.stringify({ ...good, signingKeys: [next, good.signingKey] })).signingKeys).toEqual([good.signingKey, next]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '<html>', /config\.json is not JSON/],
    ['null', null, /regions must be/],
    ['no regions', { ...good, regions: [] }, /regions must be a non-empty list/],
    ['a region that could leave the path', { ...good, regions: ['../x'] }, /regions must be/],
    ['no key', { regions: ['440'] }, /signingKey is missing/],
    ['a key that is not PEM', { ...good, signingKey: { ...good.signingKey, publicKeyPem: 'abc' } }, /publicKeyPem must be a PEM public key/],
    ['a fingerprint of the wrong shape', { ...good, signingKey: { ...good.signingKey, fingerprintSha256: 'AB' } }, /fingerprintSha256 must be 64 lower-case hex digits/],
    ['an empty key id', { ...good, signingKey: { ...good.signingKey, keyId: '' } }, /signingKey\.keyId must be a non-empty string/],
    ['a numeric key version', { ...good, signingKey: { ...good.signingKey, keyVersion: 1 } }, /signingKey\.keyVersion must be a non-empty string/],
    ['an empty list of keys', { ...good, signingKeys: [] }, /signingKeys must be a non-empty list/],
    ['a bad second key', { ...good, signingKeys: [good.signingKey, { ...good.signingKey, fingerprintSha256: 'x' }] }, /signingKeys\[1\]\.fingerprintSha256 must be 64 lower-case hex digits/],
  ])('refuses %s, naming the field', (_what, body, message) => {
    expect(() => parseSiteConfig(typeof body === 'string' ? body : JSON.stringify(body))).toThrow(message);
  });
});
