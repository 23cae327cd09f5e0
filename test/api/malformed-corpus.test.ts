/**
 * The malformed-request corpus: over a hundred bad requests through real HTTP to the local host
 * with the Cosmos store on the emulator. Each gets its 4xx and code (never a 5xx), and the store is
 * exactly as before (same documents, same etags): nothing half-written.
 */
import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { STATUS_OF_CODE, type ErrorCode } from '../../api/errors';
import { MAX_BODY_BYTES } from '../../api/http';
import { tekmacOf } from '../../api/upload/certificate';
import type { UploadKey } from '../../api/upload/upload';
import { createDevHealthAuthority } from '../../scripts/local-stack/dev-material';
import { HOST_MAX_BODY_BYTES } from '../../scripts/local-stack/api-host';
import { issueVerificationCertificate, type IssueOptions } from '../../scripts/local-stack/verification-certificate';
import { dailyKeys, NOW } from '../support/api-fixture';
import { startHttpApi, type HttpApi, type SendOptions } from '../support/http-api';

let api: HttpApi;
let caller: Record<string, string>;
/** Keys stored as "likely" in setup, with the token of their upload. */
let likely: { keys: UploadKey[]; token: string };
/** Keys stored as "confirmed" in setup, with their token. */
let confirmed: { keys: UploadKey[]; token: string };

const PUBLISH = '/api/v1/publish';
const REGISTER = '/api/v1/register';
const HEALTH = '/api/health';
const nowSeconds = NOW.getTime() / 1000;
const stranger = createDevHealthAuthority();

interface Case {
  name: string;
  path?: string;
  request: () => Promise<SendOptions> | SendOptions;
  code: ErrorCode;
}

/** A valid publish request for `keys` (certificate options and body fields changeable), from a registered caller. */
async function publish(keys: UploadKey[] = dailyKeys(14), issue: Omit<IssueOptions, 'keys'> = {}, extra: Record<string, unknown> = {}, headers: Record<string, string> = caller): Promise<SendOptions> {
  return { headers, body: await api.fixture.publishBody(keys, issue, extra) };
}

/** A publish body whose certificate is valid for `keys` as they are, so the request reaches the key rules. */
const keysCase = (name: string, keys: () => unknown[], code: ErrorCode): Case => ({ name, request: () => publish(keys() as UploadKey[]), code });

/** A publish body whose `field` is replaced (after the certificate was issued). */
const fieldCase = (name: string, change: Record<string, unknown>, code: ErrorCode = 'bad_request'): Case => ({
  name,
  request: async () => {
    const sent = await publish();
    return { ...sent, body: { ...(sent.body as object), ...change } };
  },
  code,
});

/** A publish body whose first key has `change` applied after the certificate was issued. */
const keyFieldCase = (name: string, change: Record<string, unknown>, code: ErrorCode = 'bad_request'): Case => ({
  name,
  request: async () => {
    const sent = await publish();
    const body = sent.body as { temporaryExposureKeys: Record<string, unknown>[] };
    body.temporaryExposureKeys[0] = { ...body.temporaryExposureKeys[0], ...change };
    for (const [field, value] of Object.entries(change)) if (value === undefined) delete body.temporaryExposureKeys[0][field];
    return sent;
  },
  code,
});

const rawCase = (name: string, body: string | Buffer, code: ErrorCode = 'bad_request', contentType = 'application/json'): Case => ({
  name,
  request: () => ({ headers: { ...caller, 'content-type': contentType }, body }),
  code,
});

const certificateCase = (name: string, issue: Omit<IssueOptions, 'keys'>, code: ErrorCode = 'health_authority_verification_certificate_invalid'): Case => ({ name, request: () => publish(dailyKeys(3), issue), code });

async function signedWith(header: Record<string, unknown>, claims: Record<string, unknown>, keys: UploadKey[], hmacKey: Buffer): Promise<SendOptions> {
  const ha = api.fixture.material.healthAuthority;
  const token = await new SignJWT({ reportType: 'confirmed', tekmac: tekmacOf(keys, hmacKey).toString('base64'), iss: ha.issuer, aud: ha.audience, iat: nowSeconds, exp: nowSeconds + 600, ...claims })
    .setProtectedHeader({ alg: 'ES256', ...header })
    .sign(await importJWK(ha.privateJwk, 'ES256'));
  return { headers: caller, body: { temporaryExposureKeys: keys, healthAuthorityID: ha.id, verificationPayload: token, hmacKey: hmacKey.toString('base64') } };
}

const keyAt = (daysAgo: number, fields: Partial<UploadKey> = {}): UploadKey => ({ ...dailyKeys(daysAgo)[daysAgo - 1], ...fields });

const CASES: Case[] = [
  // 1. Front Door
  { name: 'no X-Azure-FDID', request: async () => ({ ...(await publish()), noFrontDoor: true }), code: 'front_door_required' },
  { name: 'a wrong X-Azure-FDID', request: async () => ({ ...(await publish()), headers: { ...caller, 'x-azure-fdid': '00000000-0000-0000-0000-000000000000' } }), code: 'front_door_required' },
  { name: 'an empty X-Azure-FDID', request: async () => ({ ...(await publish()), headers: { ...caller, 'x-azure-fdid': '' } }), code: 'front_door_required' },
  { name: 'X-Azure-FDID with two IDs', request: async () => ({ ...(await publish()), headers: { ...caller, 'x-azure-fdid': `${api.fixture.material.frontDoorId},${api.fixture.material.frontDoorId}` } }), code: 'front_door_required' },
  { name: 'X-Azure-FDID one character short', request: async () => ({ ...(await publish()), headers: { ...caller, 'x-azure-fdid': api.fixture.material.frontDoorId.slice(1) } }), code: 'front_door_required' },
  { name: 'no X-Azure-FDID on register', path: REGISTER, request: () => ({ noFrontDoor: true }), code: 'front_door_required' },
  { name: 'no X-Azure-FDID on health', path: HEALTH, request: () => ({ method: 'GET', noFrontDoor: true }), code: 'front_door_required' },
  { name: 'no X-Azure-FDID with a wrong method too', request: () => ({ method: 'DELETE', noFrontDoor: true }), code: 'front_door_required' },
  // 2. Method
  { name: 'GET on publish', request: () => ({ method: 'GET' }), code: 'method_not_allowed' },
  { name: 'PUT on publish', request: async () => ({ ...(await publish()), method: 'PUT' }), code: 'method_not_allowed' },
  { name: 'DELETE on publish', request: () => ({ method: 'DELETE' }), code: 'method_not_allowed' },
  { name: 'PATCH on publish', request: async () => ({ ...(await publish()), method: 'PATCH' }), code: 'method_not_allowed' },
  { name: 'OPTIONS on publish', request: () => ({ method: 'OPTIONS' }), code: 'method_not_allowed' },
  { name: 'GET on register', path: REGISTER, request: () => ({ method: 'GET' }), code: 'method_not_allowed' },
  { name: 'POST on health', path: HEALTH, request: () => ({ method: 'POST', body: {} }), code: 'method_not_allowed' },
  // 3. Content type
  { name: 'no Content-Type', request: async () => ({ headers: caller, body: JSON.stringify((await publish()).body) }), code: 'unsupported_media_type' },
  rawCase('Content-Type text/plain', '{}', 'unsupported_media_type', 'text/plain'),
  rawCase('Content-Type form-urlencoded', 'a=1', 'unsupported_media_type', 'application/x-www-form-urlencoded'),
  rawCase('Content-Type application/xml', '<a/>', 'unsupported_media_type', 'application/xml'),
  rawCase('Content-Type application/json-patch+json', '[]', 'unsupported_media_type', 'application/json-patch+json'),
  rawCase('Content-Type multipart/form-data', '--x--', 'unsupported_media_type', 'multipart/form-data; boundary=x'),
  { name: 'register with Content-Type text/plain', path: REGISTER, request: () => ({ headers: { 'content-type': 'text/plain' }, body: '{}' }), code: 'unsupported_media_type' },
  // 4. Size
  rawCase('a body of 64 KB + 1', `{"padding":"${'a'.repeat(MAX_BODY_BYTES + 1 - 14)}"}`, 'payload_too_large'),
  fieldCase('a padding of 100 KB', { padding: 'p'.repeat(100 * 1024) }, 'payload_too_large'),
  keysCase('800 keys', () => Array.from({ length: 800 }, () => keyAt(1)), 'payload_too_large'),
  rawCase('a body over the host limit (2 MB)', Buffer.alloc(2 * HOST_MAX_BODY_BYTES, 0x20), 'payload_too_large'),
  { name: 'register with a 100 KB body', path: REGISTER, request: () => ({ body: { padding: 'p'.repeat(100 * 1024) } }), code: 'payload_too_large' },
  // 5. JSON syntax
  rawCase('an empty body', ''),
  rawCase('whitespace only', '   \n'),
  rawCase('truncated JSON (open brace)', '{'),
  rawCase('truncated JSON (mid key)', '{"temporaryExposureKeys":[{"key":"AAAA'),
  rawCase('truncated JSON (mid number)', '{"temporaryExposureKeys":[{"rollingStartNumber":29'),
  rawCase('truncated JSON (mid string)', '{"healthAuthorityID":"de'),
  rawCase('a trailing comma', '{"healthAuthorityID":"dev",}'),
  rawCase('single quotes', "{'healthAuthorityID':'dev'}"),
  rawCase('NaN', '{"symptomOnsetInterval":NaN}'),
  rawCase('a comment', '{/* x */}'),
  rawCase('two documents', '{}{}'),
  rawCase('invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
  rawCase('JSON null', 'null'),
  rawCase('a JSON array', '[]'),
  rawCase('a JSON number', '1'),
  rawCase('a JSON string', '"publish"'),
  rawCase('JSON true', 'true'),
  // 6. Shape
  fieldCase('an unknown field', { regions: ['US'] }),
  fieldCase('an unknown field named __proto__', JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>),
  fieldCase('temporaryExposureKeys missing', { temporaryExposureKeys: undefined }),
  fieldCase('temporaryExposureKeys an object', { temporaryExposureKeys: {} }),
  fieldCase('temporaryExposureKeys a string', { temporaryExposureKeys: 'keys' }),
  fieldCase('temporaryExposureKeys null', { temporaryExposureKeys: null }),
  fieldCase('a key that is a string', { temporaryExposureKeys: ['AAAAAAAAAAAAAAAAAAAAAA=='] }),
  fieldCase('a key that is null', { temporaryExposureKeys: [null] }),
  fieldCase('a key that is an array', { temporaryExposureKeys: [[]] }),
  keyFieldCase('a key with reportType', { reportType: 1 }),
  keyFieldCase('a key with daysSinceOnsetOfSymptoms', { daysSinceOnsetOfSymptoms: 0 }),
  keyFieldCase('a key without key', { key: undefined }),
  keyFieldCase('a key without rollingStartNumber', { rollingStartNumber: undefined }),
  keyFieldCase('a key without rollingPeriod', { rollingPeriod: undefined }),
  keyFieldCase('a numeric key', { key: 1234 }),
  keyFieldCase('a string rollingStartNumber', { rollingStartNumber: '2993328' }),
  keyFieldCase('a string rollingPeriod', { rollingPeriod: '144' }),
  keyFieldCase('a boolean transmissionRisk', { transmissionRisk: true }),
  keyFieldCase('a null rollingStartNumber', { rollingStartNumber: null }),
  fieldCase('healthAuthorityID missing', { healthAuthorityID: undefined }),
  fieldCase('healthAuthorityID a number', { healthAuthorityID: 7 }),
  fieldCase('healthAuthorityID empty', { healthAuthorityID: '' }),
  fieldCase('verificationPayload missing', { verificationPayload: undefined }),
  fieldCase('verificationPayload an object', { verificationPayload: {} }),
  fieldCase('hmacKey missing', { hmacKey: undefined }),
  fieldCase('hmacKey an array', { hmacKey: [] }),
  fieldCase('traveler a string', { traveler: 'true' }),
  fieldCase('symptomOnsetInterval a string', { symptomOnsetInterval: '2993328' }),
  fieldCase('symptomOnsetInterval a fraction', { symptomOnsetInterval: 2993328.5 }),
  fieldCase('symptomOnsetInterval negative', { symptomOnsetInterval: -1 }),
  rawCase('symptomOnsetInterval overflowing to Infinity', '{"symptomOnsetInterval":1e400}'),
  fieldCase('revisionToken a number', { revisionToken: 1 }),
  fieldCase('padding a number', { padding: 5 }),
  { name: 'register with an unknown field', path: REGISTER, request: () => ({ body: { deviceId: 'abc' } }), code: 'bad_request' },
  // 7. Caller
  { name: 'no Authorization', request: async () => publish(dailyKeys(2), {}, {}, { 'x-user-uuid': caller['x-user-uuid'] }), code: 'unauthorized' },
  { name: 'no X-User-Uuid', request: async () => publish(dailyKeys(2), {}, {}, { authorization: caller.authorization }), code: 'unauthorized' },
  { name: 'a wrong secret', request: async () => publish(dailyKeys(2), {}, {}, { ...caller, authorization: `Bearer dev1.${randomBytes(32).toString('base64url')}` }), code: 'unauthorized' },
  { name: 'the secret of another user', request: async () => publish(dailyKeys(2), {}, {}, { ...caller, 'x-user-uuid': '6f1c2a9e-0c4b-4a55-9a43-3c2b1d0e9f87' }), code: 'unauthorized' },
  { name: 'Bearer without a secret', request: async () => publish(dailyKeys(2), {}, {}, { ...caller, authorization: 'Bearer ' }), code: 'unauthorized' },
  { name: 'a secret of an unknown key version', request: async () => publish(dailyKeys(2), {}, {}, { ...caller, authorization: caller.authorization.replace('dev1.', 'old0.') }), code: 'unauthorized' },
  { name: 'an X-User-Uuid that is not a UUID', request: async () => publish(dailyKeys(2), {}, {}, { ...caller, 'x-user-uuid': 'me' }), code: 'unauthorized' },
  // 8. Certificate
  fieldCase('an unknown health authority', { healthAuthorityID: 'elsewhere' }, 'unknown_health_authority_id'),
  certificateCase('an expired certificate', { claims: { exp: nowSeconds - 3600 } }),
  certificateCase('a certificate not yet valid', { claims: { nbf: nowSeconds + 3600 } }),
  certificateCase('a certificate issued in the future', { claims: { iat: nowSeconds + 3600 } }),
  certificateCase('a certificate issued two days ago', { claims: { iat: nowSeconds - 2 * 86400, exp: nowSeconds + 600 } }),
  certificateCase('a certificate of another issuer', { claims: { iss: 'another.health-authority' } }),
  certificateCase('a certificate for another audience', { claims: { aud: 'another.server' } }),
  certificateCase('a certificate without reportType', { claims: { reportType: undefined } }),
  certificateCase('a certificate with reportType positive', { claims: { reportType: 'positive' } }),
  certificateCase('a certificate with a string symptomOnsetInterval', { claims: { symptomOnsetInterval: 'monday' } }),
  certificateCase('a certificate without tekmac', { claims: { tekmac: undefined } }),
  { name: 'a certificate signed by a foreign key under our kid', request: async () => ({ headers: caller, body: { ...(await api.fixture.publishBody(dailyKeys(2))), verificationPayload: (await issueVerificationCertificate({ ...stranger, kid: api.fixture.material.healthAuthority.kid, issuer: api.fixture.material.healthAuthority.issuer, audience: api.fixture.material.healthAuthority.audience }, { keys: dailyKeys(2), now: NOW })).verificationPayload } }), code: 'health_authority_verification_certificate_invalid' },
  { name: 'a certificate with an unknown kid', request: async () => signedWith({ kid: 'unknown-kid' }, {}, dailyKeys(2), randomBytes(32)), code: 'health_authority_verification_certificate_invalid' },
  { name: 'a certificate without kid', request: async () => signedWith({}, {}, dailyKeys(2), randomBytes(32)), code: 'health_authority_verification_certificate_invalid' },
  {
    name: 'an HS256 certificate',
    request: async () => {
      const sent = await publish(dailyKeys(2));
      const hs = await new SignJWT({ reportType: 'confirmed' }).setProtectedHeader({ alg: 'HS256', kid: api.fixture.material.healthAuthority.kid }).setIssuedAt(nowSeconds).setExpirationTime(nowSeconds + 600).sign(randomBytes(32));
      return { ...sent, body: { ...(sent.body as object), verificationPayload: hs } };
    },
    code: 'health_authority_verification_certificate_invalid',
  },
  fieldCase('an unsigned (alg none) certificate', { verificationPayload: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"reportType":"confirmed"}').toString('base64url')}.` }, 'health_authority_verification_certificate_invalid'),
  {
    name: 'a tampered certificate payload',
    request: async () => {
      const sent = await publish(dailyKeys(2));
      const body = sent.body as { verificationPayload: string };
      const [header, payload, signature] = body.verificationPayload.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      body.verificationPayload = [header, Buffer.from(JSON.stringify({ ...claims, reportType: 'likely' })).toString('base64url'), signature].join('.');
      return sent;
    },
    code: 'health_authority_verification_certificate_invalid',
  },
  {
    name: 'a truncated certificate',
    request: async () => {
      const sent = await publish(dailyKeys(2));
      const body = sent.body as { verificationPayload: string };
      body.verificationPayload = body.verificationPayload.slice(0, -10);
      return sent;
    },
    code: 'health_authority_verification_certificate_invalid',
  },
  fieldCase('a certificate that is not a JWT', { verificationPayload: 'certificate' }, 'health_authority_verification_certificate_invalid'),
  fieldCase('a wrong tekmac (another hmacKey)', { hmacKey: randomBytes(32).toString('base64') }, 'health_authority_verification_certificate_invalid'),
  fieldCase('an hmacKey that is not base64', { hmacKey: 'not base64!' }, 'health_authority_verification_certificate_invalid'),
  { name: 'a certificate for other keys', request: async () => ({ headers: caller, body: { ...(await api.fixture.publishBody(dailyKeys(3))), temporaryExposureKeys: dailyKeys(3) } }), code: 'health_authority_verification_certificate_invalid' },
  keyFieldCase('a key changed after certification', { key: randomBytes(16).toString('base64') }, 'health_authority_verification_certificate_invalid'),
  keyFieldCase('a transmission risk changed after certification', { transmissionRisk: 6 }, 'health_authority_verification_certificate_invalid'),
  // 9. Keys (each with a certificate valid for the keys as sent)
  keysCase('base64 of 15 bytes', () => [keyAt(1, { key: randomBytes(15).toString('base64') })], 'key_data_invalid'),
  keysCase('base64 of 17 bytes', () => [keyAt(1, { key: randomBytes(17).toString('base64') })], 'key_data_invalid'),
  keysCase('an empty key', () => [keyAt(1, { key: '' })], 'key_data_invalid'),
  keysCase('key data that is not base64', () => [keyAt(1, { key: '%%%%%%%%%%%%%%%%%%%%%%==' })], 'key_data_invalid'),
  keysCase('key data in base64url', () => [keyAt(1, { key: '-_' + randomBytes(15).toString('base64url').slice(0, 20) + '==' })], 'key_data_invalid'),
  keysCase('key data without padding', () => [keyAt(1, { key: randomBytes(16).toString('base64').replace(/=+$/, '') })], 'key_data_invalid'),
  keysCase('key data with whitespace', () => [keyAt(1, { key: ` ${randomBytes(16).toString('base64')}` })], 'key_data_invalid'),
  keysCase('31 keys', () => Array.from({ length: 31 }, () => keyAt(1)), 'too_many_keys'),
  keysCase('no keys', () => [], 'no_keys'),
  keysCase('a key starting in the future', () => [keyAt(1, { rollingStartNumber: keyAt(1).rollingStartNumber + 3 * 144 })], 'rolling_start_in_future'),
  keysCase('a key starting one interval from now', () => [keyAt(1, { rollingStartNumber: Math.floor(nowSeconds / 600) + 1, rollingPeriod: 1 })], 'rolling_start_in_future'),
  keysCase('a key of 15 days ago', () => [keyAt(14, { rollingStartNumber: keyAt(14).rollingStartNumber - 144 })], 'rolling_start_too_old'),
  keysCase('a key of 1970', () => [keyAt(1, { rollingStartNumber: 1 })], 'rolling_start_too_old'),
  keysCase('a duplicate key', () => {
    const key = keyAt(1);
    return [key, { ...key }];
  }, 'duplicate_key'),
  keysCase('overlapping keys', () => [keyAt(2), { ...keyAt(2), rollingStartNumber: keyAt(2).rollingStartNumber + 72 }], 'keys_overlap'),
  keysCase('four keys on one start interval', () => Array.from({ length: 4 }, () => keyAt(3)), 'too_many_keys_same_start'),
  keysCase('rolling period 0', () => [keyAt(1, { rollingPeriod: 0 })], 'rolling_period_invalid'),
  keysCase('rolling period 145', () => [keyAt(1, { rollingPeriod: 145 })], 'rolling_period_invalid'),
  keysCase('rolling period -1', () => [keyAt(1, { rollingPeriod: -1 })], 'rolling_period_invalid'),
  keysCase('a fractional rolling period', () => [keyAt(1, { rollingPeriod: 143.5 })], 'rolling_period_invalid'),
  keysCase('a negative rolling start', () => [keyAt(1, { rollingStartNumber: -144 })], 'rolling_start_invalid'),
  keysCase('a rolling start of 1e20', () => [keyAt(1, { rollingStartNumber: 1e20 })], 'rolling_start_invalid'),
  keysCase('a rolling start of 2^31', () => [keyAt(1, { rollingStartNumber: 2 ** 31 })], 'rolling_start_invalid'),
  keysCase('a fractional rolling start', () => [keyAt(1, { rollingStartNumber: keyAt(1).rollingStartNumber + 0.5 })], 'rolling_start_invalid'),
  keysCase('transmission risk 9', () => [keyAt(1, { transmissionRisk: 9 })], 'transmission_risk_invalid'),
  keysCase('transmission risk -1', () => [keyAt(1, { transmissionRisk: -1 })], 'transmission_risk_invalid'),
  keysCase('transmission risk 1e308', () => [keyAt(1, { transmissionRisk: 1e308 })], 'transmission_risk_invalid'),
  keysCase('one bad key among good ones', () => [...dailyKeys(5), keyAt(7, { rollingPeriod: 200 })], 'rolling_period_invalid'),
  // 10. Revision tokens
  fieldCase('a revision token that is garbage', { revisionToken: 'garbage' }, 'invalid_revision_token'),
  fieldCase('a revision token of an unknown key version', { revisionToken: `old0.${randomBytes(660).toString('base64url')}` }, 'invalid_revision_token'),
  fieldCase('a forged revision token', { revisionToken: `dev1.${randomBytes(660).toString('base64url')}` }, 'invalid_revision_token'),
  { name: 'a truncated revision token', request: () => publish(dailyKeys(2), {}, { revisionToken: likely.token.slice(0, -8) }), code: 'invalid_revision_token' },
  { name: 'revising likely keys without their token', request: () => publish(likely.keys, { reportType: 'confirmed' }), code: 'invalid_revision_token' },
  { name: 'revising likely keys with the token of other keys', request: () => publish(likely.keys, { reportType: 'confirmed' }, { revisionToken: confirmed.token }), code: 'invalid_revision_token' },
  { name: 'confirmed -> likely with the token', request: () => publish(confirmed.keys, { reportType: 'likely' }, { revisionToken: confirmed.token }), code: 'invalid_revision_token' },
  { name: 'confirmed -> negative with the token', request: () => publish(confirmed.keys, { reportType: 'negative' }, { revisionToken: confirmed.token }), code: 'invalid_revision_token' },
  { name: 'a stored key re-sent with another rolling period', request: () => publish([{ ...likely.keys[0], rollingPeriod: 100 }], { reportType: 'confirmed' }, { revisionToken: likely.token }), code: 'invalid_revision_token' },
  { name: 'a revision that also brings new keys, refused as a whole', request: () => publish([likely.keys[0], keyAt(9)], { reportType: 'confirmed' }), code: 'invalid_revision_token' },
];

beforeAll(async () => {
  api = await startHttpApi();
  caller = await api.fixture.callerHeaders();
  const store = async (keys: UploadKey[], reportType: 'likely' | 'confirmed') => {
    const answer = await api.send(PUBLISH, await publish(keys, { reportType }));
    if (answer.status !== 200) throw new Error(`setup upload failed: ${answer.text}`);
    return { keys, token: answer.json.revisionToken as string };
  };
  const days = dailyKeys(14);
  likely = await store(days.slice(0, 3), 'likely');
  confirmed = await store(days.slice(3, 6), 'confirmed');
});

afterAll(async () => {
  await api.stop();
});

describe('the malformed-request corpus', () => {
  it('has at least 100 distinct cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s -> its 4xx and code, nothing stored', async (_name, c) => {
    const before = await api.snapshot();
    const answer = await api.send(c.path ?? PUBLISH, await c.request());
    expect({ status: answer.status, code: answer.json.code }).toEqual({ status: STATUS_OF_CODE[c.code], code: c.code });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(typeof answer.json.error).toBe('string');
    expect(await api.snapshot()).toEqual(before);
  });
});
