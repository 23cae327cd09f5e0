/**
 * Revisions of keys already stored, with the rules of the GAEN reference server: a key may change
 * report type once, only from "likely" (clinical diagnosis; unknown counts as likely) to
 * "confirmed" or "negative" (revoked), and only when the upload presents a revision token naming
 * the key with the intervals it was stored with. Re-uploading a key unchanged is not a revision.
 */
import type { Exposure, ExposureRevision } from '../../exposures/exposure-store';
import { ReportType } from '../../proto/tek';
import { HttpError } from '../errors';
import type { RevisableKey } from './revision-token';

export interface Incoming {
  reportType: ReportType;
  rollingStartIntervalNumber: number;
  rollingPeriod: number;
  daysSinceOnsetOfSymptoms?: number;
}

function refuse(message: string): HttpError {
  return new HttpError(400, 'invalid_revision_token', message);
}

/** Whether the report type of a stored key may become `to`. */
export function isAllowedTransition(from: ReportType | undefined, to: ReportType): boolean {
  const effective = from === undefined || from === ReportType.UNKNOWN ? ReportType.CONFIRMED_CLINICAL_DIAGNOSIS : from;
  return effective === ReportType.CONFIRMED_CLINICAL_DIAGNOSIS && (to === ReportType.CONFIRMED_TEST || to === ReportType.REVOKED);
}

/**
 * What an upload does to a stored key: nothing (`undefined`: the same report type again), or the
 * revision to record. Anything not allowed is a 400 `invalid_revision_token`.
 * `token` is the token's key of the same key data, `tokenPresented` whether the upload had one.
 */
export function revisionOf(stored: Exposure, incoming: Incoming, token: { presented: boolean; key?: RevisableKey }, nowSeconds: number): ExposureRevision | undefined {
  if (stored.tek.rollingStartIntervalNumber !== incoming.rollingStartIntervalNumber || stored.tek.rollingPeriod !== incoming.rollingPeriod) {
    throw refuse('a key was uploaded before with other intervals');
  }
  if (stored.tek.reportType === incoming.reportType || stored.revision?.reportType === incoming.reportType) return undefined;
  if (!token.presented) throw refuse('changing keys uploaded before needs the revision token of that upload');
  if (!token.key) throw refuse('the revision token does not name a key of this upload that was uploaded before');
  if (token.key.rollingStartIntervalNumber !== stored.tek.rollingStartIntervalNumber || token.key.rollingPeriod !== stored.tek.rollingPeriod) {
    throw refuse('the revision token names a key with other intervals');
  }
  if (stored.revision) throw refuse('a key of this upload was already revised');
  if (!isAllowedTransition(stored.tek.reportType, incoming.reportType)) throw refuse('this change of report type is not allowed');
  const revision: ExposureRevision = { reportType: incoming.reportType, revisedAt: nowSeconds, publishAt: Math.max(nowSeconds, stored.publishAt) };
  if (incoming.daysSinceOnsetOfSymptoms !== undefined) revision.daysSinceOnsetOfSymptoms = incoming.daysSinceOnsetOfSymptoms;
  return revision;
}
