import type { FileCheck } from './check-files';
import { keysPerDay, layoutChart, MAX_DAYS, niceCeiling } from './keys-per-day';

const DAY = 86400;
const day0 = 20_000 * DAY; // 2024-10-04

function verified(start: number, keyCount: number): FileCheck {
  const entry = { path: `v1/440/${start}-${start + 3600}-00001.zip`, region: '440', start, end: start + 3600, n: 1 };
  return {
    entry,
    path: entry.path,
    status: 'verified',
    verified: { region: '440', startTimestamp: start, endTimestamp: start + 3600, batchNum: 1, batchSize: 1, keyCount, revisedKeyCount: 0, signatureInfo: { verificationKeyId: '440', verificationKeyVersion: 'v1', signatureAlgorithm: '1.2.840.10045.4.3.2' }, signedBy: [{ verificationKeyId: '440', verificationKeyVersion: 'v1', signatureAlgorithm: '1.2.840.10045.4.3.2' }], binSha256: '', bytes: 0 },
  };
}

describe('keys per day', () => {
  it('sums verified files by the UTC day of their window start, with empty days as zeros', () => {
    const failed: FileCheck = { ...verified(day0, 999), status: 'failed', verified: undefined, failure: { code: 'signature_invalid', message: 'x' } };
    const days = keysPerDay([verified(day0 + 3600, 10), verified(day0 + 7200, 5), failed, verified(day0 + 2 * DAY, 7)]);
    expect(days).toEqual([
      { day: '2024-10-04', keys: 15, files: 2 },
      { day: '2024-10-05', keys: 0, files: 0 },
      { day: '2024-10-06', keys: 7, files: 1 },
    ]);
  });

  it('keeps the newest days only, and nothing without verified files', () => {
    const many = Array.from({ length: 20 }, (_, i) => verified(day0 + i * DAY, i + 1));
    const days = keysPerDay(many);
    expect(days).toHaveLength(MAX_DAYS);
    expect(days[days.length - 1]).toEqual({ day: '2024-10-23', keys: 20, files: 1 });
    expect(keysPerDay([])).toEqual([]);
  });

  it.each([
    [0, 1],
    [1, 1],
    [7, 8],
    [40, 40],
    [65, 80],
    [1057, 1200],
    [2125, 2500],
    [99_999, 100_000],
  ])('rounds the axis of %i up to %i', (value, ceiling) => {
    expect(niceCeiling(value)).toBe(ceiling);
  });

  it('lays the bars out in fixed slots, newest at the right edge, heights to scale', () => {
    const layout = layoutChart([{ day: '2024-10-04', keys: 50, files: 1 }, { day: '2024-10-05', keys: 25, files: 1 }], 480, 220);
    expect(layout.scaleMax).toBe(50);
    const [first, second] = layout.bars;
    expect(first.height).toBe(layout.baseline - layout.top);
    expect(second.height).toBe(Math.round((layout.baseline - layout.top) / 2));
    expect(second.x + second.width).toBeLessThanOrEqual(480 - 8);
    expect(second.x - first.x).toBeCloseTo((480 - 16) / MAX_DAYS, 0);
    expect(first.y + first.height).toBe(layout.baseline);
  });
});
