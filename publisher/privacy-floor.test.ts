import { randomBytes } from 'node:crypto';
import { TekList } from '../proto/tek-list';
import { appendPadding, paddingCount, type FloorRandom } from './privacy-floor';

const SETTINGS = { minKeysPerFile: 1000, paddingJitter: 100, maxKeysPerFile: 750_000 };
/** Draws the given jitter, and cycles through sources. */
function fixed(jitter: number): FloorRandom {
  let next = 0;
  return { int: (min, max) => (max - min === SETTINGS.paddingJitter + 1 ? jitter : min + (next++ % (max - min))), bytes: (size) => randomBytes(size) };
}

describe('privacy floor', () => {
  it.each([
    ['no primary keys (revised keys only)', 0, 5, 0],
    ['keys at the minimum', 1000, 0, 0],
    ['one key', 1, 0, 1000 + 37 - 1],
    ['999 keys', 999, 0, 1000 + 37 - 999],
  ])('pads a file with %s to the minimum plus jitter', (_name, primary, revised, expected) => {
    expect(paddingCount(primary, revised, SETTINGS, fixed(37))).toBe(expected);
  });

  it('never pads past the maximum file size', () => {
    expect(paddingCount(10, 5, { minKeysPerFile: 20, paddingJitter: 10, maxKeysPerFile: 22 }, fixed(10))).toBe(7);
  });

  it('generates keys with fresh key data and the metadata of the file’s real keys', () => {
    const keys = TekList.from([
      { keyData: randomBytes(16), rollingStartIntervalNumber: 2_900_000, rollingPeriod: 144, transmissionRiskLevel: 2, reportType: 1, daysSinceOnsetOfSymptoms: -3 },
      { keyData: randomBytes(16), rollingStartIntervalNumber: 2_900_144, rollingPeriod: 100, transmissionRiskLevel: 7 },
    ]);
    appendPadding(keys, 50, fixed(0));
    expect(keys.length).toBe(52);
    const metadata = (i: number) => JSON.stringify([keys.start[i], keys.period[i], keys.risk[i], keys.hasReportType(i) ? keys.reportType[i] : null, keys.hasOnset(i) ? keys.onset[i] : null]);
    const real = new Set([metadata(0), metadata(1)]);
    const used = new Set<string>();
    const data = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      expect(real).toContain(metadata(i));
      used.add(metadata(i));
      data.add(Buffer.from(keys.keyDataAt(i)).toString('hex'));
    }
    expect(used.size).toBe(2);
    expect(data.size).toBe(52);
  });

  it('refuses to pad a file without real keys to copy', () => {
    expect(() => appendPadding(new TekList(), 3)).toThrow(RangeError);
  });
});
