/** The GAEN embargo: a key is never published until two hours after its rolling period ended. */
import { INTERVAL_SECONDS, type Tek } from './tek';

/** A key is never published until this long after its rolling period ended (GAEN rule). */
export const EMBARGO_SECONDS = 2 * 3600;

/** When a key's embargo ends: its rolling period ended plus `EMBARGO_SECONDS`, UTC seconds. */
export function embargoEndOf(tek: Pick<Tek, 'rollingStartIntervalNumber' | 'rollingPeriod'>): number {
  return (tek.rollingStartIntervalNumber + tek.rollingPeriod) * INTERVAL_SECONDS + EMBARGO_SECONDS;
}
