/**
 * Days since onset of symptoms, as the GAEN reference server derives them: from a symptom onset
 * interval (the certificate's claim first, being signed by the health authority; else the
 * request's) counted in whole UTC days to each key's start.
 */
import { INTERVALS_PER_DAY, MAX_DAYS_SINCE_ONSET, intervalNumberOf } from '../../proto/tek';

/** An onset older than this at upload is not plausible and is ignored (GAEN default). */
export const MAX_ONSET_AGE_DAYS = 28;

function midnightInterval(interval: number): number {
  return Math.floor(interval / INTERVALS_PER_DAY) * INTERVALS_PER_DAY;
}

/** The onset interval to use: the first candidate in the past and at most 28 days old, if any. */
export function chooseOnsetInterval(candidates: readonly (number | undefined)[], now: Date): number | undefined {
  const current = intervalNumberOf(now);
  const oldest = midnightInterval(current) - MAX_ONSET_AGE_DAYS * INTERVALS_PER_DAY;
  return candidates.find((interval) => interval !== undefined && Number.isInteger(interval) && interval < current && interval >= oldest);
}

/** Whole UTC days from the onset's day to the key's start day (negative: the key started before onset). */
export function daysSinceOnset(onsetInterval: number, rollingStartIntervalNumber: number): number {
  return (midnightInterval(rollingStartIntervalNumber) - midnightInterval(onsetInterval)) / INTERVALS_PER_DAY;
}

/** Whether days since onset fit the format (keys outside are not stored, as in the GAEN servers). */
export function isPlausibleDaysSinceOnset(days: number): boolean {
  return Math.abs(days) <= MAX_DAYS_SINCE_ONSET;
}
