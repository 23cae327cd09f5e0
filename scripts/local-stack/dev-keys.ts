/** Random keys for development, tests and load generation: one a day, in the upload shape. */
import { randomBytes } from 'node:crypto';
import type { UploadKey } from '../../api/upload/upload';
import { INTERVALS_PER_DAY, intervalNumberOf } from '../../proto/tek';

/**
 * `count` random keys of consecutive whole UTC days, the newest starting `newestDaysAgo` days
 * before the day of `now` (0: today's key, still valid).
 */
export function randomDailyKeys(count: number, now: Date = new Date(), newestDaysAgo = 0): UploadKey[] {
  const today = Math.floor(intervalNumberOf(now) / INTERVALS_PER_DAY) * INTERVALS_PER_DAY;
  return Array.from({ length: count }, (_, day) => ({
    key: randomBytes(16).toString('base64'),
    rollingStartNumber: today - (day + newestDaysAgo) * INTERVALS_PER_DAY,
    rollingPeriod: INTERVALS_PER_DAY,
    transmissionRisk: 0,
  }));
}
