/** Keys a drill uploads: daily keys whose embargo is over, so each is publishable at once. */
import { randomBytes } from 'node:crypto';
import { exposureId, publishAtOf, type Exposure } from '../../../exposures/exposure-store';
import { EMBARGO_SECONDS } from '../../../proto/embargo';
import { INTERVAL_SECONDS, type Tek } from '../../../proto/tek';

const DAY = 86400;

/**
 * `count` exposures of `region` uploaded at `nowSeconds`, each a full day's key of the last UTC day
 * that ended at least the embargo before `nowSeconds` (yesterday's, or the day before's in the
 * first two hours of a UTC day, when yesterday's key is still under embargo).
 */
export function drillExposures(region: string, count: number, nowSeconds: number): Exposure[] {
  const dayStart = Math.floor((nowSeconds - EMBARGO_SECONDS) / DAY) * DAY - DAY;
  return Array.from({ length: count }, () => {
    const tek: Tek = { keyData: randomBytes(16), rollingStartIntervalNumber: dayStart / INTERVAL_SECONDS, rollingPeriod: 144, transmissionRiskLevel: 4, reportType: 1 };
    return { id: exposureId(region, tek.keyData), region, tek, uploadedAt: nowSeconds, publishAt: publishAtOf(tek, nowSeconds) };
  });
}

export const hexOf = (keyData: Uint8Array): string => Buffer.from(keyData).toString('hex');
