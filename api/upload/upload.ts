/**
 * The publish request body (GAEN v1 publish shape): fields, their JSON types, nothing unknown.
 * The shape is checked first (400 `bad_request`); the key rules come after the certificate.
 */
import { checkUpload, tekFromJson, type Tek } from '../../proto/tek';
import { HttpError } from '../errors';
import { requireKnownFields } from '../http';

/** One key as uploaded; the numbers are kept as sent, for the certificate's HMAC. */
export interface UploadKey {
  key: string;
  rollingStartNumber: number;
  rollingPeriod: number;
  /** 0 when the phone left it out. */
  transmissionRisk: number;
}

export interface PublishRequest {
  keys: UploadKey[];
  healthAuthorityID: string;
  verificationPayload: string;
  hmacKey: string;
  symptomOnsetInterval?: number;
  traveler?: boolean;
  revisionToken?: string;
  /** The platform of the device attestation (checked only where the mode asks for it: any string here). */
  platform?: string;
  /** The device attestation (Play Integrity token or App Attest object), never stored. */
  deviceVerificationPayload?: string;
}

/** Every field a publish request may carry. */
export const PUBLISH_REQUEST_FIELDS: ReadonlySet<string> = new Set(['temporaryExposureKeys', 'healthAuthorityID', 'verificationPayload', 'hmacKey', 'symptomOnsetInterval', 'traveler', 'revisionToken', 'platform', 'deviceVerificationPayload', 'padding']);
/** Every field a key of a publish request may carry. */
export const PUBLISH_KEY_FIELDS: ReadonlySet<string> = new Set(['key', 'rollingStartNumber', 'rollingPeriod', 'transmissionRisk']);

function wrongType(field: string, type: string): HttpError {
  return new HttpError(400, 'bad_request', `${field} must be ${type}`);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw wrongType(field, 'a non-empty string');
  return value;
}

function number(value: unknown, field: string): number {
  if (typeof value !== 'number') throw wrongType(field, 'a number');
  return value;
}

function uploadKey(value: unknown, index: number): UploadKey {
  const where = `temporaryExposureKeys[${index}]`;
  const key = requireKnownFields(value, PUBLISH_KEY_FIELDS, where);
  if (typeof key.key !== 'string') throw wrongType(`${where}.key`, 'a base64 string');
  return {
    key: key.key,
    rollingStartNumber: number(key.rollingStartNumber, `${where}.rollingStartNumber`),
    rollingPeriod: number(key.rollingPeriod, `${where}.rollingPeriod`),
    transmissionRisk: key.transmissionRisk === undefined ? 0 : number(key.transmissionRisk, `${where}.transmissionRisk`),
  };
}

/** Reads the parsed JSON body into a `PublishRequest`, or fails with 400 `bad_request`. */
export function parsePublishRequest(body: unknown): PublishRequest {
  const fields = requireKnownFields(body, PUBLISH_REQUEST_FIELDS, 'the body');
  if (!Array.isArray(fields.temporaryExposureKeys)) throw wrongType('temporaryExposureKeys', 'an array');
  const request: PublishRequest = {
    keys: fields.temporaryExposureKeys.map(uploadKey),
    healthAuthorityID: requiredString(fields, 'healthAuthorityID'),
    verificationPayload: requiredString(fields, 'verificationPayload'),
    hmacKey: requiredString(fields, 'hmacKey'),
  };
  if (fields.symptomOnsetInterval !== undefined) {
    const onset = fields.symptomOnsetInterval;
    // An interval number (10-minute units since the epoch), as the format stores it: a uint32 in the protobuf.
    if (typeof onset !== 'number' || !Number.isInteger(onset) || onset < 0 || onset > 0x7fffffff) throw wrongType('symptomOnsetInterval', 'an interval number (an integer from 0 to 2147483647)');
    request.symptomOnsetInterval = onset;
  }
  if (fields.traveler !== undefined) {
    if (typeof fields.traveler !== 'boolean') throw wrongType('traveler', 'a boolean');
    request.traveler = fields.traveler;
  }
  if (fields.revisionToken !== undefined) {
    if (typeof fields.revisionToken !== 'string') throw wrongType('revisionToken', 'a string');
    // Phones without a token may send it empty.
    if (fields.revisionToken !== '') request.revisionToken = fields.revisionToken;
  }
  // The attestation pair: typed here, judged by the attestation check (off mode ignores it).
  for (const field of ['platform', 'deviceVerificationPayload'] as const) {
    if (fields[field] === undefined) continue;
    if (typeof fields[field] !== 'string') throw wrongType(field, 'a string');
    if (fields[field] !== '') request[field] = fields[field];
  }
  if (fields.padding !== undefined && typeof fields.padding !== 'string') throw wrongType('padding', 'a string');
  return request;
}

/** The key rules of the format issue (`checkUpload`), each broken rule a 400 with its own code. */
export function checkUploadKeys(keys: readonly UploadKey[], now: Date): Tek[] {
  const teks: Tek[] = [];
  for (let i = 0; i < keys.length; i++) {
    const read = tekFromJson(keys[i], i);
    if (!read.ok) throw new HttpError(400, read.code, `temporaryExposureKeys[${i}]: ${read.message}`);
    teks.push(read.tek);
  }
  const check = checkUpload(teks, now);
  if (!check.ok) throw new HttpError(400, check.code, check.index === undefined ? check.message : `temporaryExposureKeys[${check.index}]: ${check.message}`);
  return teks;
}
