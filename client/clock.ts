/**
 * Time as a phone can know it. Phone clocks are wrong by minutes to hours (DESIGN.md), so a file's
 * window is judged against what the server says the time is: the index's `Date` (plus `Age`, when a
 * cache answered) or, without one, its `Last-Modified`. The phone's clock only bounds that within
 * ±24 hours, so that a forged `Date` cannot move the judgement further than a wrong phone clock
 * could. Without either, nothing is judged.
 *
 * What the checks protect against: a window in the future (a publisher clock fault, seconds and
 * milliseconds mixed up) and a window older than the index keeps files (an old index or file
 * replayed to the phone).
 */
import { ClientError } from './errors';

/** How far a phone's clock may be from the truth, either way. */
export const CLOCK_TOLERANCE_SECONDS = 24 * 3600;
/** A window may end this long after the server's time (the publisher's and storage's clocks differ a little). */
export const MAX_WINDOW_AHEAD_SECONDS = 3600;
/** A window ending longer ago than this is not in any current index (files stay 14 days). */
export const MAX_WINDOW_AGE_SECONDS = 15 * 86400;

/** What a phone knows of the time, UTC seconds. */
export interface TimeEvidence {
  /** The phone's own clock. */
  phoneSeconds?: number;
  /** What the server said (the index's `Date` plus `Age`, else its `Last-Modified`). */
  serverSeconds?: number;
}

/**
 * The latest and earliest window end accepted: around the server's time, bounded to the phone's
 * clock ± `CLOCK_TOLERANCE_SECONDS`; around the phone's clock widened by the tolerance when the
 * server said nothing. `undefined` when neither is known.
 */
export function acceptedWindowEnds(evidence: TimeEvidence): { earliest: number; latest: number } | undefined {
  const { phoneSeconds: phone, serverSeconds: server } = evidence;
  if (phone === undefined && server === undefined) return undefined;
  let low: number;
  let high: number;
  if (server === undefined) {
    low = (phone as number) - CLOCK_TOLERANCE_SECONDS;
    high = (phone as number) + CLOCK_TOLERANCE_SECONDS;
  } else if (phone === undefined) {
    low = high = server;
  } else {
    low = high = Math.min(Math.max(server, phone - CLOCK_TOLERANCE_SECONDS), phone + CLOCK_TOLERANCE_SECONDS);
  }
  return { earliest: low - MAX_WINDOW_AGE_SECONDS, latest: high + MAX_WINDOW_AHEAD_SECONDS };
}

function iso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

/** `window_invalid` when a window ending at `end` is in the future or older than any index keeps, by `evidence`. */
export function checkWindowTime(end: number, evidence: TimeEvidence): void {
  const accepted = acceptedWindowEnds(evidence);
  if (!accepted) return;
  const { phoneSeconds: phone, serverSeconds: server } = evidence;
  const basis =
    server === undefined
      ? "the phone's clock, 24 hours either way (the server gave no time)"
      : phone !== undefined && Math.abs(server - phone) > CLOCK_TOLERANCE_SECONDS
        ? "the server's time held within 24 hours of the phone's clock (they are further apart than a phone's clock may be off)"
        : "the server's time";
  if (end > accepted.latest) throw new ClientError('window_invalid', `the window ends at ${iso(end)}, later than ${iso(accepted.latest)}, which ${basis} allows: it is in the future`);
  if (end < accepted.earliest) throw new ClientError('window_invalid', `the window ended at ${iso(end)}, before ${iso(accepted.earliest)}, which ${basis} allows: no current index names a file that old`);
}

/**
 * The server's time from the index's answer: `Date` plus `Age` (RFC 9111 §5.1: a cached answer
 * keeps its `Date`), else `Last-Modified` (the index was written no later than now). UTC seconds;
 * `undefined` when neither header is readable.
 */
export function serverSecondsOf(headers: { get(name: string): string | null }): number | undefined {
  const date = Date.parse(headers.get('date') ?? '');
  if (!Number.isNaN(date)) {
    const age = Number(headers.get('age') ?? '0');
    return Math.floor(date / 1000) + (Number.isSafeInteger(age) && age > 0 ? age : 0);
  }
  const modified = Date.parse(headers.get('last-modified') ?? '');
  return Number.isNaN(modified) ? undefined : Math.floor(modified / 1000);
}
