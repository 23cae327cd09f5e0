import { HttpError } from '../errors';
import { checkUploadKeys, parsePublishRequest } from './upload';
import { dailyKeys, NOW } from '../../test/support/api-fixture';

const key = dailyKeys(1)[0];
const valid = { temporaryExposureKeys: [key], healthAuthorityID: 'dev', verificationPayload: 'jwt', hmacKey: 'aGk=' };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'accepted';
}

describe('parsePublishRequest', () => {
  it('reads the GAEN v1 publish shape, transmissionRisk defaulting to 0 and an empty token to none', () => {
    const { transmissionRisk: _t, ...noRisk } = key;
    const request = parsePublishRequest({ ...valid, temporaryExposureKeys: [noRisk], traveler: true, symptomOnsetInterval: 5, revisionToken: '', padding: 'xyz' });
    expect(request).toEqual({ keys: [{ ...key, transmissionRisk: 0 }], healthAuthorityID: 'dev', verificationPayload: 'jwt', hmacKey: 'aGk=', traveler: true, symptomOnsetInterval: 5 });
  });

  it.each<[string, unknown]>([
    ['an array body', [valid]],
    ['null', null],
    ['an unknown field', { ...valid, regions: ['US'] }],
    ['an unknown key field', { ...valid, temporaryExposureKeys: [{ ...key, reportType: 1 }] }],
    ['keys not an array', { ...valid, temporaryExposureKeys: key }],
    ['a key not an object', { ...valid, temporaryExposureKeys: ['abc'] }],
    ['a key without key', { ...valid, temporaryExposureKeys: [{ ...key, key: undefined }] }],
    ['a numeric key', { ...valid, temporaryExposureKeys: [{ ...key, key: 12 }] }],
    ['a string start', { ...valid, temporaryExposureKeys: [{ ...key, rollingStartNumber: '1' }] }],
    ['no rolling period', { ...valid, temporaryExposureKeys: [{ ...key, rollingPeriod: undefined }] }],
    ['a null risk', { ...valid, temporaryExposureKeys: [{ ...key, transmissionRisk: null }] }],
    ['no healthAuthorityID', { ...valid, healthAuthorityID: undefined }],
    ['an empty verificationPayload', { ...valid, verificationPayload: '' }],
    ['a numeric hmacKey', { ...valid, hmacKey: 5 }],
    ['a string traveler', { ...valid, traveler: 'yes' }],
    ['a string onset', { ...valid, symptomOnsetInterval: '5' }],
    ['a fractional onset', { ...valid, symptomOnsetInterval: 2993328.5 }],
    ['a negative onset', { ...valid, symptomOnsetInterval: -5 }],
    ['an onset beyond an interval number', { ...valid, symptomOnsetInterval: 2 ** 31 }],
    ['a numeric token', { ...valid, revisionToken: 5 }],
    ['an object padding', { ...valid, padding: {} }],
  ])('refuses %s with 400 bad_request', (_name, body) => {
    expect(codeOf(() => parsePublishRequest(JSON.parse(JSON.stringify(body))))).toBe('400 bad_request');
  });
});

describe('checkUploadKeys', () => {
  it('returns the keys of a valid upload', () => {
    expect(checkUploadKeys(dailyKeys(14), NOW)).toHaveLength(14);
  });

  it.each([
    ['15-byte key data', [{ ...key, key: Buffer.alloc(15).toString('base64') }], 'key_data_invalid'],
    ['non-base64 key data', [{ ...key, key: '!!!!' }], 'key_data_invalid'],
    ['rolling period 0', [{ ...key, rollingPeriod: 0 }], 'rolling_period_invalid'],
    ['a fractional start', [{ ...key, rollingStartNumber: 1.5 }], 'rolling_start_invalid'],
    ['risk 9', [{ ...key, transmissionRisk: 9 }], 'transmission_risk_invalid'],
    ['a key of 15 days ago', [{ ...key, rollingStartNumber: key.rollingStartNumber - 14 * 144 }], 'rolling_start_too_old'],
    ['a key starting in the future', [{ ...key, rollingStartNumber: key.rollingStartNumber + 2 * 144 }], 'rolling_start_in_future'],
    ['no keys', [], 'no_keys'],
    ['31 keys', Array.from({ length: 31 }, () => key), 'too_many_keys'],
    ['a duplicate', [key, key], 'duplicate_key'],
    ['overlapping keys', [key, { ...dailyKeys(1)[0], rollingStartNumber: key.rollingStartNumber + 10 }], 'keys_overlap'],
  ])('refuses %s with its rule code', (_name, keys, code) => {
    expect(codeOf(() => checkUploadKeys(keys, NOW))).toBe(`400 ${code}`);
  });
});
