/**
 * The API's one error type and its fixed list of codes. `api/openapi.yaml` lists the same codes
 * (a test keeps them in step); responses carry them as `{"error": "...", "code": "..."}`.
 */
import type { TekRuleCode } from '../proto/tek';

/** The key rules of `proto/tek.ts`, answered 400 with the rule's own code. */
export const KEY_RULE_CODES = [
  'key_data_invalid',
  'rolling_period_invalid',
  'rolling_start_invalid',
  'rolling_start_too_old',
  'rolling_start_in_future',
  'transmission_risk_invalid',
  'report_type_invalid',
  'days_since_onset_invalid',
  'no_keys',
  'too_many_keys',
  'duplicate_key',
  'keys_overlap',
  'too_many_keys_same_start',
] as const satisfies readonly TekRuleCode[];

/** Device attestation of an upload (README "Device attestation"), each answered 401 in enforce mode. */
export const ATTESTATION_CODES = [
  'attestation_required',
  'attestation_invalid',
  'attestation_nonce_mismatch',
  'attestation_app_mismatch',
  'attestation_device_integrity',
  'attestation_expired',
] as const;

export type AttestationCode = (typeof ATTESTATION_CODES)[number];

export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'front_door_required',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'unknown_health_authority_id',
  'health_authority_verification_certificate_invalid',
  'invalid_revision_token',
  ...KEY_RULE_CODES,
  ...ATTESTATION_CODES,
  'store_unavailable',
  'health_authority_keys_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The status each code is answered with (one status per code, so clients may rely on either). */
export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  front_door_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unknown_health_authority_id: 401,
  health_authority_verification_certificate_invalid: 401,
  invalid_revision_token: 400,
  ...(Object.fromEntries(KEY_RULE_CODES.map((code) => [code, 400])) as Record<(typeof KEY_RULE_CODES)[number], 400>),
  ...(Object.fromEntries(ATTESTATION_CODES.map((code) => [code, 401])) as Record<AttestationCode, 401>),
  store_unavailable: 503,
  health_authority_keys_unavailable: 503,
  internal_error: 500,
};

// Every key rule of proto/tek.ts has its code here: a new rule fails the type check until listed.
type MissingRule = Exclude<TekRuleCode, (typeof KEY_RULE_CODES)[number]>;
const _allRulesListed: MissingRule extends never ? true : MissingRule = true;
void _allRulesListed;

/** A refusal with its status, stable code and a sentence for the caller (never internals). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    if (STATUS_OF_CODE[code] !== status) throw new RangeError(`${code} is answered with ${STATUS_OF_CODE[code]}, not ${status}`);
  }
}
