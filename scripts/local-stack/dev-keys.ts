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

/**
 * Transmission risk by day before the upload (index 0: today): highest around the days before and
 * at symptom onset, falling to 1 for the oldest keys, the shape health authorities give their
 * risk vectors, so dev uploads and exports carry realistic values instead of all 0.
 */
export const DEV_TRANSMISSION_RISK_BY_DAY: readonly number[] = [5, 6, 8, 8, 8, 5, 3, 1, 1, 1, 1, 1, 1, 1];

/** Report type and days since onset (symptoms `onsetDaysAgo` days before today) added to upload-shaped keys: the export file's key shape. */
export interface ExportShapedKey extends UploadKey {
  reportType: number;
  daysSinceOnsetOfSymptoms: number;
}

/** `randomDailyKeys` with the dev transmission risks; with `reportType`, in the shape of an export file's keys. */
export function realisticDevKeys(count: number, options: { now?: Date; reportType?: number; onsetDaysAgo?: number } = {}): UploadKey[] | ExportShapedKey[] {
  const keys = randomDailyKeys(count, options.now).map((key, day) => ({ ...key, transmissionRisk: DEV_TRANSMISSION_RISK_BY_DAY[day] ?? 1 }));
  if (options.reportType === undefined) return keys;
  const onset = options.onsetDaysAgo ?? 3;
  return keys.map((key, day) => ({ ...key, reportType: options.reportType as number, daysSinceOnsetOfSymptoms: onset - day }));
}
