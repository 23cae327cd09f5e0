import { createHash } from 'node:crypto';
import { EMBARGO_SECONDS } from '../proto/embargo';
import { exposureId, publishAtOf } from './exposure-store';

describe('exposureId', () => {
  const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const reference = (region: string, keyData: Uint8Array) => createHash('sha256').update(region).update('\0').update(keyData).digest('base64url');

  it.each([['440'], ['DE'], ['a-region-of-16ch'], ['é'], ['r'.repeat(400)]])('is base64url(sha256(region, 0x00, key data)) for region %p', (region) => {
    expect(exposureId(region, key)).toBe(reference(region, key));
  });

  it('differs by region and by key, and reveals no key bytes', () => {
    expect(exposureId('440', key)).not.toBe(exposureId('441', key));
    expect(exposureId('440', key)).not.toBe(exposureId('440', Buffer.alloc(16)));
    expect(exposureId('440', key)).not.toContain(key.toString('base64url').slice(0, 8));
  });
});

describe('publishAtOf', () => {
  const tek = { keyData: Buffer.alloc(16), rollingStartIntervalNumber: 2_990_000, rollingPeriod: 144, transmissionRiskLevel: 0 };
  const end = (tek.rollingStartIntervalNumber + tek.rollingPeriod) * 600;
  it('is the end of the rolling period plus the embargo, or the upload when later', () => {
    expect(publishAtOf(tek, end - 100)).toBe(end + EMBARGO_SECONDS);
    expect(publishAtOf(tek, end + 3 * 3600)).toBe(end + 3 * 3600);
  });
});
