import { exposureId, type Exposure } from '../../exposures/exposure-store';
import { ReportType } from '../../proto/tek';
import { HttpError } from '../errors';
import { isAllowedTransition, revisionOf } from './revise';

const { UNKNOWN, CONFIRMED_TEST: CONFIRMED, CONFIRMED_CLINICAL_DIAGNOSIS: LIKELY, SELF_REPORT, RECURSIVE, REVOKED: NEGATIVE } = ReportType;
const keyData = Buffer.alloc(16, 7);
const stored: Exposure = { id: exposureId('440', keyData), region: '440', tek: { keyData, rollingStartIntervalNumber: 1000, rollingPeriod: 144, transmissionRiskLevel: 0, reportType: LIKELY }, uploadedAt: 100, publishAt: 5000 };
const token = { presented: true, key: { keyData, rollingStartIntervalNumber: 1000, rollingPeriod: 144 } };
const incoming = (reportType: ReportType) => ({ reportType, rollingStartIntervalNumber: 1000, rollingPeriod: 144 });

function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
}

describe('isAllowedTransition (GAEN reference server)', () => {
  it.each([
    [LIKELY, CONFIRMED, true],
    [LIKELY, NEGATIVE, true],
    [UNKNOWN, CONFIRMED, true],
    [undefined, NEGATIVE, true],
    [LIKELY, LIKELY, false],
    [LIKELY, SELF_REPORT, false],
    [CONFIRMED, LIKELY, false],
    [CONFIRMED, NEGATIVE, false],
    [NEGATIVE, CONFIRMED, false],
    [NEGATIVE, LIKELY, false],
    [SELF_REPORT, CONFIRMED, false],
    [RECURSIVE, CONFIRMED, false],
  ])('%p -> %p: %p', (from, to, allowed) => {
    expect(isAllowedTransition(from, to)).toBe(allowed);
  });
});

describe('revisionOf', () => {
  it('revises with the token, published not before the key itself', () => {
    expect(revisionOf(stored, { ...incoming(CONFIRMED), daysSinceOnsetOfSymptoms: 3 }, token, 200)).toEqual({ reportType: CONFIRMED, daysSinceOnsetOfSymptoms: 3, revisedAt: 200, publishAt: 5000 });
    expect(revisionOf(stored, incoming(NEGATIVE), token, 9000)).toEqual({ reportType: NEGATIVE, revisedAt: 9000, publishAt: 9000 });
  });

  it('changes nothing for the same report type, or the one it was already revised to', () => {
    expect(revisionOf(stored, incoming(LIKELY), { presented: false }, 200)).toBeUndefined();
    const revised = { ...stored, revision: { reportType: CONFIRMED, revisedAt: 150, publishAt: 5000 } };
    expect(revisionOf(revised, incoming(CONFIRMED), { presented: false }, 200)).toBeUndefined();
  });

  it.each([
    ['no token', stored, incoming(CONFIRMED), { presented: false }],
    ['a token without the key', stored, incoming(CONFIRMED), { presented: true }],
    ['a token with other intervals', stored, incoming(CONFIRMED), { presented: true, key: { ...token.key, rollingPeriod: 100 } }],
    ['a key uploaded with other intervals', stored, { ...incoming(CONFIRMED), rollingStartIntervalNumber: 1001 }, token],
    ['a key revised before', { ...stored, revision: { reportType: CONFIRMED, revisedAt: 150, publishAt: 5000 } }, incoming(NEGATIVE), token],
    ['a transition not allowed', { ...stored, tek: { ...stored.tek, reportType: CONFIRMED } }, incoming(LIKELY), token],
  ])('refuses %s with 400 invalid_revision_token', (_name, existing, change, presented) => {
    expect(outcome(() => revisionOf(existing, change, presented, 200))).toBe('400 invalid_revision_token');
  });
});
