/**
 * The Front Door gate: the origin answers only requests that came through our Front Door profile,
 * which sets `X-Azure-FDID` to the profile's ID (overwriting whatever a client sent).
 */
import { timingSafeEqual } from 'node:crypto';

export const FRONT_DOOR_ID_HEADER = 'x-azure-fdid';

/** Whether the header value is one of the accepted IDs; every ID is compared in constant time. */
export function isAcceptedFrontDoorId(value: string | null, accepted: readonly string[]): boolean {
  if (value === null) return false;
  const presented = Buffer.from(value.trim().toLowerCase());
  let match = false;
  for (const id of accepted) {
    const expected = Buffer.from(id);
    // No early exit: the time taken does not depend on which ID matched.
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) match = true;
  }
  return match;
}
