import { embargoEndOf } from '../../../proto/embargo';
import { drillExposures } from './drill-keys';

const DAY = 86400;
const MIDNIGHT = Date.UTC(2026, 11, 8) / 1000;

describe('drillExposures', () => {
  // A drill run at any time of day publishes its keys at once (CI once ran the storage drill at 00:43 UTC).
  it.each([
    ['just after midnight UTC', MIDNIGHT + 60],
    ['within the first two hours', MIDNIGHT + 7199],
    ['two hours in', MIDNIGHT + 7200],
    ['late in the day', MIDNIGHT + DAY - 1],
  ])('gives keys whose embargo is over %s', (_when, now) => {
    for (const exposure of drillExposures('440', 3, now)) {
      expect(embargoEndOf(exposure.tek)).toBeLessThanOrEqual(now);
      expect(exposure.publishAt).toBe(now);
      expect(exposure.tek.rollingPeriod).toBe(144);
    }
  });
});
