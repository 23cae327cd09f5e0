import * as fc from 'fast-check';
import {
  checkTekAt,
  checkTekFormat,
  checkUpload,
  decodeBase64,
  intervalNumberOf,
  oldestAcceptedInterval,
  tekFromJson,
  tekToJson,
  type Tek,
} from './tek';

const NOW = new Date('2026-11-30T12:34:56Z');
const TODAY = Date.UTC(2026, 10, 30) / 600_000; // interval number of midnight UTC today

function tek(overrides: Partial<Tek> = {}): Tek {
  return { keyData: Buffer.alloc(16, 7), rollingStartIntervalNumber: TODAY - 144, rollingPeriod: 144, transmissionRiskLevel: 4, ...overrides };
}

/** Keys with a distinct 16-byte pattern each, one per day going back from yesterday. */
function dailyKeys(count: number): Tek[] {
  return Array.from({ length: count }, (_, i) => tek({ keyData: Buffer.alloc(16, i + 1), rollingStartIntervalNumber: TODAY - 144 * (i + 1) }));
}

const validTek = fc.record({
  keyData: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  rollingStartIntervalNumber: fc.integer({ min: 0, max: 0x7fffffff }),
  rollingPeriod: fc.integer({ min: 1, max: 144 }),
  transmissionRiskLevel: fc.integer({ min: 0, max: 8 }),
  reportType: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  daysSinceOnsetOfSymptoms: fc.option(fc.integer({ min: -14, max: 14 }), { nil: undefined }),
});

describe('interval numbers', () => {
  it('counts 10-minute intervals since the epoch', () => {
    expect(intervalNumberOf(new Date('1970-01-01T00:10:00Z'))).toBe(1);
    expect(intervalNumberOf(NOW)).toBe(Math.floor(NOW.getTime() / 600_000));
  });

  it('accepts keys from midnight UTC 14 days before today (15 UTC days in all)', () => {
    expect(oldestAcceptedInterval(NOW)).toBe(TODAY - 14 * 144);
    expect(oldestAcceptedInterval(new Date('2026-11-30T00:00:00Z'))).toBe(TODAY - 14 * 144);
    expect(oldestAcceptedInterval(new Date('2026-11-30T23:59:59Z'))).toBe(TODAY - 14 * 144);
  });
});

describe('checkTekFormat', () => {
  it('accepts every key inside the format', () => {
    fc.assert(fc.property(validTek, (t) => expect(checkTekFormat(t)).toEqual({ ok: true })));
  });

  it.each([
    ['key of 15 bytes', { keyData: Buffer.alloc(15) }, 'key_data_invalid'],
    ['key of 17 bytes', { keyData: Buffer.alloc(17) }, 'key_data_invalid'],
    ['rolling period 0', { rollingPeriod: 0 }, 'rolling_period_invalid'],
    ['rolling period 145', { rollingPeriod: 145 }, 'rolling_period_invalid'],
    ['fractional rolling period', { rollingPeriod: 1.5 }, 'rolling_period_invalid'],
    ['negative start', { rollingStartIntervalNumber: -1 }, 'rolling_start_invalid'],
    ['start beyond int32', { rollingStartIntervalNumber: 2 ** 31 }, 'rolling_start_invalid'],
    ['risk 9', { transmissionRiskLevel: 9 }, 'transmission_risk_invalid'],
    ['risk -1', { transmissionRiskLevel: -1 }, 'transmission_risk_invalid'],
    ['report type 6', { reportType: 6 }, 'report_type_invalid'],
    ['days since onset 15', { daysSinceOnsetOfSymptoms: 15 }, 'days_since_onset_invalid'],
    ['days since onset -15', { daysSinceOnsetOfSymptoms: -15 }, 'days_since_onset_invalid'],
  ] as const)('rejects %s with %s', (_name, overrides, code) => {
    const result = checkTekFormat(tek(overrides as Partial<Tek>), 3);
    expect(result).toMatchObject({ ok: false, code, index: 3 });
    expect(result.ok ? '' : result.message).toMatch(/\w+ \w+/);
  });

  it('rejects any out-of-range field, whatever the others hold', () => {
    const broken = fc.oneof(
      fc.record({ rollingPeriod: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 145 })) }),
      fc.record({ transmissionRiskLevel: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 9 })) }),
      fc.record({ reportType: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 6 })) }),
      fc.record({ daysSinceOnsetOfSymptoms: fc.oneof(fc.integer({ max: -15 }), fc.integer({ min: 15 })) }),
    );
    fc.assert(fc.property(validTek, broken, (t, bad) => expect(checkTekFormat({ ...t, ...bad }).ok).toBe(false)));
  });
});

describe('checkTekAt', () => {
  it('accepts the oldest accepted start interval and the current one', () => {
    expect(checkTekAt(tek({ rollingStartIntervalNumber: TODAY - 14 * 144 }), NOW).ok).toBe(true);
    expect(checkTekAt(tek({ rollingStartIntervalNumber: intervalNumberOf(NOW) }), NOW).ok).toBe(true);
  });

  it('rejects a start one interval too old', () => {
    expect(checkTekAt(tek({ rollingStartIntervalNumber: TODAY - 14 * 144 - 1 }), NOW)).toMatchObject({ ok: false, code: 'rolling_start_too_old' });
  });

  it('rejects a start in the future', () => {
    expect(checkTekAt(tek({ rollingStartIntervalNumber: intervalNumberOf(NOW) + 1 }), NOW)).toMatchObject({ ok: false, code: 'rolling_start_in_future' });
  });

  it('accepts exactly the starts inside the 15 UTC days up to now', () => {
    const oldest = oldestAcceptedInterval(NOW);
    const current = intervalNumberOf(NOW);
    fc.assert(
      fc.property(fc.integer({ min: oldest - 500, max: current + 500 }), (start) => {
        expect(checkTekAt(tek({ rollingStartIntervalNumber: start }), NOW).ok).toBe(start >= oldest && start <= current);
      }),
    );
  });
});

describe('checkUpload', () => {
  it('accepts 14 daily keys', () => {
    expect(checkUpload(dailyKeys(14), NOW)).toEqual({ ok: true });
  });

  it('rejects an empty upload and one of 31 keys', () => {
    expect(checkUpload([], NOW)).toMatchObject({ ok: false, code: 'no_keys' });
    const many = Array.from({ length: 31 }, (_, i) => tek({ keyData: Buffer.alloc(16, i), rollingStartIntervalNumber: TODAY - 14 * 144 + i * 10, rollingPeriod: 10 }));
    expect(checkUpload(many, NOW)).toMatchObject({ ok: false, code: 'too_many_keys' });
  });

  it('accepts 30 keys', () => {
    const keys = Array.from({ length: 30 }, (_, i) => tek({ keyData: Buffer.alloc(16, i), rollingStartIntervalNumber: TODAY - 14 * 144 + i * 10, rollingPeriod: 10 }));
    expect(checkUpload(keys, NOW)).toEqual({ ok: true });
  });

  it('names the first key that breaks a rule', () => {
    const keys = dailyKeys(5);
    keys[3] = { ...keys[3], transmissionRiskLevel: 12 };
    expect(checkUpload(keys, NOW)).toMatchObject({ ok: false, code: 'transmission_risk_invalid', index: 3 });
  });

  it('rejects the same key twice', () => {
    const keys = dailyKeys(3);
    keys[2] = { ...keys[2], keyData: keys[0].keyData };
    expect(checkUpload(keys, NOW)).toMatchObject({ ok: false, code: 'duplicate_key', index: 2 });
  });

  it('allows up to three keys sharing a start interval, not four', () => {
    const same = (n: number) => Array.from({ length: n }, (_, i) => tek({ keyData: Buffer.alloc(16, 100 + i), rollingStartIntervalNumber: TODAY, rollingPeriod: 30 + i }));
    expect(checkUpload(same(3), NOW)).toEqual({ ok: true });
    expect(checkUpload(same(4), NOW)).toMatchObject({ ok: false, code: 'too_many_keys_same_start' });
  });

  it('rejects keys whose intervals overlap without sharing a start', () => {
    const keys = [tek({ keyData: Buffer.alloc(16, 1), rollingStartIntervalNumber: TODAY - 144 }), tek({ keyData: Buffer.alloc(16, 2), rollingStartIntervalNumber: TODAY - 100 })];
    expect(checkUpload(keys, NOW)).toMatchObject({ ok: false, code: 'keys_overlap', index: 1 });
  });

  it('accepts back-to-back keys of any periods', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 144 }), { minLength: 1, maxLength: 14 }), (periods) => {
        let start = TODAY - 14 * 144;
        const keys = periods.map((period, i) => {
          const k = tek({ keyData: Buffer.alloc(16, i + 1), rollingStartIntervalNumber: start, rollingPeriod: period });
          start += period;
          return k;
        });
        expect(checkUpload(keys, NOW)).toEqual({ ok: true });
      }),
    );
  });

  it('rejects any upload where one key starts inside another one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 144 }), fc.integer({ min: 1, max: 143 }), (period, offset) => {
        fc.pre(offset < period);
        const keys = [tek({ keyData: Buffer.alloc(16, 1), rollingStartIntervalNumber: TODAY - 144, rollingPeriod: period }), tek({ keyData: Buffer.alloc(16, 2), rollingStartIntervalNumber: TODAY - 144 + offset })];
        expect(checkUpload(keys, NOW)).toMatchObject({ ok: false, code: 'keys_overlap' });
      }),
    );
  });
});

describe('the upload JSON shape', () => {
  it('round-trips every valid key', () => {
    fc.assert(
      fc.property(validTek, (t) => {
        const read = tekFromJson(tekToJson(t));
        expect(read.ok).toBe(true);
        if (read.ok) expect({ ...read.tek, keyData: Buffer.from(read.tek.keyData) }).toEqual({ ...t, keyData: Buffer.from(t.keyData) });
      }),
    );
  });

  it.each([
    ['base64 of 15 bytes', { key: Buffer.alloc(15).toString('base64') }],
    ['base64 of 17 bytes', { key: Buffer.alloc(17).toString('base64') }],
    ['not base64', { key: '!!!!notbase64!!!!!!!!!!!' }],
    ['base64url characters', { key: '_-' + Buffer.alloc(16).toString('base64').slice(2) }],
    ['unpadded base64', { key: Buffer.alloc(16).toString('base64').replace(/=+$/, '') }],
    ['a number for the key', { key: 1234 }],
    ['a missing key', { key: undefined }],
  ])('rejects %s as key_data_invalid', (_name, overrides) => {
    const json = { ...tekToJson(tek()), ...overrides };
    expect(tekFromJson(json, 2)).toMatchObject({ ok: false, code: 'key_data_invalid', index: 2 });
  });

  it.each([
    ['a string rolling start', { rollingStartNumber: '2900000' }, 'rolling_start_invalid'],
    ['a missing rolling start', { rollingStartNumber: undefined }, 'rolling_start_invalid'],
    ['a huge rolling period', { rollingPeriod: 1e300 }, 'rolling_period_invalid'],
    ['a string risk', { transmissionRisk: '4' }, 'transmission_risk_invalid'],
    ['a null report type', { reportType: null }, 'report_type_invalid'],
  ])('rejects %s', (_name, overrides, code) => {
    expect(tekFromJson({ ...tekToJson(tek()), ...overrides })).toMatchObject({ ok: false, code });
  });

  it('rejects values that are not objects', () => {
    for (const value of [null, 3, 'key', [1, 2]]) expect(tekFromJson(value)).toMatchObject({ ok: false, code: 'key_data_invalid' });
  });

  it('requires the rolling period, and reads a missing risk as 0 (GAEN v1) but not a null one', () => {
    const key = Buffer.alloc(16, 1).toString('base64');
    expect(tekFromJson({ key, rollingStartNumber: TODAY })).toMatchObject({ ok: false, code: 'rolling_period_invalid' });
    expect(tekFromJson({ key, rollingStartNumber: TODAY, rollingPeriod: null })).toMatchObject({ ok: false, code: 'rolling_period_invalid' });
    expect(tekFromJson({ key, rollingStartNumber: TODAY, rollingPeriod: 144 })).toMatchObject({ ok: true, tek: { rollingPeriod: 144, transmissionRiskLevel: 0 } });
    expect(tekFromJson({ key, rollingStartNumber: TODAY, rollingPeriod: 144, transmissionRisk: null })).toMatchObject({ ok: false, code: 'transmission_risk_invalid' });
  });

  it('decodes only canonical standard base64', () => {
    expect(decodeBase64('AAECAwQFBgcICQoLDA0ODw==')).toEqual(Buffer.from([...Array(16).keys()]));
    expect(decodeBase64('AAECAwQFBgcICQoLDA0ODw')).toBeUndefined();
    expect(decodeBase64(' AAECAwQFBgcICQoLDA0ODw==')).toBeUndefined();
  });
});
