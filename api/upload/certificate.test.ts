import { createHmac } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import { ReportType } from '../../proto/tek';
import type { HealthAuthority } from '../config';
import { HttpError } from '../errors';
import { CertificateVerifier, tekmacOf } from './certificate';
import type { UploadKey } from './upload';
import { createDevHealthAuthority } from '../../scripts/local-stack/dev-material';
import { issueVerificationCertificate, type IssueOptions } from '../../scripts/local-stack/verification-certificate';
import { dailyKeys, NOW } from '../../test/support/api-fixture';

const signer = createDevHealthAuthority();
const stranger = createDevHealthAuthority();
const authority: HealthAuthority = { id: 'dev', issuer: signer.issuer, audience: signer.audience, regions: ['440'], jwks: { keys: [signer.publicJwk] } };
const verifier = new CertificateVerifier([authority], { clockSkewSeconds: 60, maxAgeSeconds: 3600 });
const keys = dailyKeys(3);

async function failure(request: { healthAuthorityID?: string; verificationPayload: string; hmacKey: string; keys?: UploadKey[] }, now = NOW): Promise<string> {
  try {
    await verifier.verify({ healthAuthorityID: 'dev', keys, ...request }, now);
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}: ${error.message}`;
    throw error;
  }
  return 'accepted';
}

async function issued(options: Omit<IssueOptions, 'keys'> = {}, by = signer) {
  return issueVerificationCertificate(by, { now: NOW, keys, ...options });
}

describe('tekmacOf', () => {
  it('is the HMAC of the keys sorted by base64 key, each key.start.period.risk, joined by commas', () => {
    const k: UploadKey[] = [
      { key: 'z'.repeat(22) + '==', rollingStartNumber: 10, rollingPeriod: 144, transmissionRisk: 2 },
      { key: 'A'.repeat(22) + '==', rollingStartNumber: 20, rollingPeriod: 100, transmissionRisk: 0 },
    ];
    const expected = createHmac('sha256', Buffer.from('secret')).update(`${'A'.repeat(22)}==.20.100.0,${'z'.repeat(22)}==.10.144.2`).digest();
    expect(tekmacOf(k, Buffer.from('secret')).equals(expected)).toBe(true);
    expect(tekmacOf([...k].reverse(), Buffer.from('secret')).equals(expected)).toBe(true);
  });
});

describe('CertificateVerifier', () => {
  it('accepts a certificate of the health authority for these keys and reads its claims', async () => {
    const { verificationPayload, hmacKey } = await issued({ reportType: 'likely', symptomOnsetInterval: 2_900_000 });
    const verified = await verifier.verify({ healthAuthorityID: 'dev', verificationPayload, hmacKey, keys }, NOW);
    expect(verified.reportType).toBe(ReportType.CONFIRMED_CLINICAL_DIAGNOSIS);
    expect(verified.symptomOnsetInterval).toBe(2_900_000);
    expect(verified.healthAuthority.id).toBe('dev');
  });

  it.each([
    ['confirmed', ReportType.CONFIRMED_TEST],
    ['likely', ReportType.CONFIRMED_CLINICAL_DIAGNOSIS],
    ['negative', ReportType.REVOKED],
  ] as const)('maps reportType %s to %p', async (claim, type) => {
    const { verificationPayload, hmacKey } = await issued({ reportType: claim });
    expect((await verifier.verify({ healthAuthorityID: 'dev', verificationPayload, hmacKey, keys }, NOW)).reportType).toBe(type);
  });

  it('refuses an unknown health authority', async () => {
    const { verificationPayload, hmacKey } = await issued();
    expect(await failure({ healthAuthorityID: 'nobody', verificationPayload, hmacKey })).toMatch(/^401 unknown_health_authority_id/);
  });

  it.each<[string, Omit<IssueOptions, 'keys'>, RegExp]>([
    ['expired', { claims: { exp: NOW.getTime() / 1000 - 61 } }, /expired/],
    ['not yet valid', { claims: { nbf: NOW.getTime() / 1000 + 120 } }, /nbf/],
    ['issued in the future', { claims: { iat: NOW.getTime() / 1000 + 120 } }, /iat/],
    ['too old', { claims: { iat: NOW.getTime() / 1000 - 3700 } }, /iat|expired/],
    ['without exp', { claims: { exp: undefined } }, /exp/],
    ['of another issuer', { claims: { iss: 'someone.else' } }, /iss/],
    ['for another audience', { claims: { aud: 'other.api' } }, /aud/],
    ['without reportType', { claims: { reportType: undefined } }, /reportType/],
    ['with an unknown reportType', { claims: { reportType: 'positive' } }, /reportType/],
    ['with a reportType that names a property of every object (constructor)', { claims: { reportType: 'constructor' } }, /reportType/],
    ['with a reportType that names a property of every object (__proto__)', { claims: { reportType: '__proto__' } }, /reportType/],
    ['with a reportType that names a property of every object (toString)', { claims: { reportType: 'toString' } }, /reportType/],
    ['with a bad symptomOnsetInterval', { claims: { symptomOnsetInterval: 'yesterday' } }, /symptomOnsetInterval/],
    ['without tekmac', { claims: { tekmac: undefined } }, /tekmac/],
    ['with the tekmac of other keys', { claims: { tekmac: tekmacOf(dailyKeys(3), Buffer.alloc(32)).toString('base64') } }, /tekmac/],
  ])('refuses a certificate %s', async (_name, options, reason) => {
    const { verificationPayload, hmacKey } = await issued(options);
    const result = await failure({ verificationPayload, hmacKey });
    expect(result).toMatch(/^401 health_authority_verification_certificate_invalid/);
    expect(result).toMatch(reason);
  });

  it('accepts a certificate within the clock skew', async () => {
    const { verificationPayload, hmacKey } = await issued({ claims: { exp: NOW.getTime() / 1000 - 30, iat: NOW.getTime() / 1000 - 600 } });
    expect(await failure({ verificationPayload, hmacKey })).toBe('accepted');
  });

  it('refuses a certificate signed by another key, even under the right kid', async () => {
    const { verificationPayload, hmacKey } = await issued({}, { ...stranger, kid: signer.kid, issuer: signer.issuer, audience: signer.audience });
    expect(await failure({ verificationPayload, hmacKey })).toMatch(/signature does not verify/);
  });

  it('refuses a kid the health authority does not have', async () => {
    const { verificationPayload, hmacKey } = await issued({}, { ...stranger, issuer: signer.issuer, audience: signer.audience });
    expect(await failure({ verificationPayload, hmacKey })).toMatch(/kid names no key/);
  });

  it('refuses a certificate without kid', async () => {
    const { hmacKey } = await issued();
    const token = await new SignJWT({ reportType: 'confirmed', tekmac: tekmacOf(keys, Buffer.from(hmacKey, 'base64')).toString('base64') })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(signer.issuer)
      .setAudience(signer.audience)
      .setIssuedAt(NOW.getTime() / 1000)
      .setExpirationTime(NOW.getTime() / 1000 + 600)
      .sign(await importJWK(signer.privateJwk, 'ES256'));
    expect(await failure({ verificationPayload: token, hmacKey })).toMatch(/kid/);
  });

  it('refuses HS256 and unsigned tokens', async () => {
    const { hmacKey } = await issued();
    const hs = await new SignJWT({ reportType: 'confirmed' }).setProtectedHeader({ alg: 'HS256', kid: signer.kid }).setIssuedAt().setExpirationTime('5m').sign(Buffer.alloc(32));
    expect(await failure({ verificationPayload: hs, hmacKey })).toMatch(/ES256/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(await failure({ verificationPayload: none, hmacKey })).toMatch(/^401 health_authority_verification_certificate_invalid/);
  });

  it.each([
    ['a changed key', (k: UploadKey[]) => [{ ...k[0], key: dailyKeys(1)[0].key }, ...k.slice(1)]],
    ['a changed start', (k: UploadKey[]) => [{ ...k[0], rollingStartNumber: k[0].rollingStartNumber + 1 }, ...k.slice(1)]],
    ['a changed risk', (k: UploadKey[]) => [{ ...k[0], transmissionRisk: 5 }, ...k.slice(1)]],
    ['a key less', (k: UploadKey[]) => k.slice(1)],
  ])('refuses keys with %s (tekmac)', async (_name, change) => {
    const { verificationPayload, hmacKey } = await issued();
    expect(await failure({ verificationPayload, hmacKey, keys: change(keys) })).toMatch(/tekmac/);
  });

  it.each([['not base64', '***'], ['another key', Buffer.from('other').toString('base64')]])('refuses an hmacKey that is %s', async (_name, hmacKey) => {
    const { verificationPayload } = await issued();
    expect(await failure({ verificationPayload, hmacKey })).toMatch(/^401 health_authority_verification_certificate_invalid/);
  });

  it.each([['garbage', 'garbage'], ['two parts', 'a.b'], ['a tampered payload', 'tamper']])('refuses a payload that is %s', async (_name, payload) => {
    const { verificationPayload, hmacKey } = await issued();
    const [h, , s] = verificationPayload.split('.');
    const token = payload === 'tamper' ? `${h}.${Buffer.from(JSON.stringify({ reportType: 'confirmed' })).toString('base64url')}.${s}` : payload;
    expect(await failure({ verificationPayload: token, hmacKey })).toMatch(/^401 health_authority_verification_certificate_invalid/);
  });
});
