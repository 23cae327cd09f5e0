/** Keys a drill uploads: yesterday's daily keys (embargo long over), so each is publishable at once. */
import { randomBytes } from 'node:crypto';
import { exposureId, publishAtOf, type Exposure } from '../../../exposures/exposure-store';
import { INTERVAL_SECONDS, type Tek } from '../../../proto/tek';

const DAY = 86400;

/** `count` exposures of `region` uploaded at `nowSeconds`, each a full day's key of the day before. */
export function drillExposures(region: string, count: number, nowSeconds: number): Exposure[] {
  const yesterday = Math.floor(nowSeconds / DAY) * DAY - DAY;
  return Array.from({ length: count }, () => {
    const tek: Tek = { keyData: randomBytes(16), rollingStartIntervalNumber: yesterday / INTERVAL_SECONDS, rollingPeriod: 144, transmissionRiskLevel: 4, reportType: 1 };
    return { id: exposureId(region, tek.keyData), region, tek, uploadedAt: nowSeconds, publishAt: publishAtOf(tek, nowSeconds) };
  });
}

export const hexOf = (keyData: Uint8Array): string => Buffer.from(keyData).toString('hex');
