/**
 * The Temporary Exposure Key model and the rules every component applies to it: the write API on
 * upload, the publisher before it signs, the CLI when it builds a file, the verifier when it reads
 * one. Each rule rejects with a stable machine-readable code and a sentence for humans.
 */

/** Length of a 10-minute interval in seconds; interval numbers count these since the Unix epoch. */
export const INTERVAL_SECONDS = 600;
/** Intervals in one day, also the longest rolling period. */
export const INTERVALS_PER_DAY = 144;
export const KEY_LENGTH = 16;
export const MAX_KEYS_PER_UPLOAD = 30;
/** The format's limit of keys in one export file. */
export const MAX_KEYS_PER_FILE = 750_000;
/** Phones refuse export files above 16 MB (the platforms' limit). */
export const MAX_EXPORT_FILE_BYTES = 16 * 1024 * 1024;
/** Keys may share a start interval (a key replaced the same day) up to this many. */
export const MAX_KEYS_SAME_START = 3;
/** Keys are accepted for the current UTC day and the 14 before it. */
export const MAX_KEY_AGE_UTC_DAYS = 15;
export const MAX_TRANSMISSION_RISK = 8;
export const MAX_DAYS_SINCE_ONSET = 14;

/** `TemporaryExposureKey.ReportType` of export.proto. */
export enum ReportType {
  UNKNOWN = 0,
  CONFIRMED_TEST = 1,
  CONFIRMED_CLINICAL_DIAGNOSIS = 2,
  SELF_REPORT = 3,
  RECURSIVE = 4,
  REVOKED = 5,
}

/** One key as the codec and the stores hold it. */
export interface Tek {
  /** 16 random bytes. */
  keyData: Uint8Array;
  rollingStartIntervalNumber: number;
  rollingPeriod: number;
  transmissionRiskLevel: number;
  reportType?: ReportType;
  daysSinceOnsetOfSymptoms?: number;
}

/** One key in the JSON upload shape (key data in standard base64). */
export interface TekJson {
  key: string;
  rollingStartNumber: number;
  rollingPeriod: number;
  transmissionRisk: number;
  reportType?: number;
  daysSinceOnsetOfSymptoms?: number;
}

/** Stable codes of the key rules; shared with the API's error codes and the CLI's messages. */
export type TekRuleCode =
  | 'key_data_invalid'
  | 'rolling_period_invalid'
  | 'rolling_start_invalid'
  | 'rolling_start_too_old'
  | 'rolling_start_in_future'
  | 'transmission_risk_invalid'
  | 'report_type_invalid'
  | 'days_since_onset_invalid'
  | 'no_keys'
  | 'too_many_keys'
  | 'duplicate_key'
  | 'keys_overlap'
  | 'too_many_keys_same_start';

/** A broken rule: `index` is the position of the first offending key in its list, when one key is to blame. */
export interface TekViolation {
  code: TekRuleCode;
  message: string;
  index?: number;
}

export type TekCheck = { ok: true } | ({ ok: false } & TekViolation);

const OK: TekCheck = { ok: true };

function fail(code: TekRuleCode, message: string, index?: number): TekCheck {
  return index === undefined ? { ok: false, code, message } : { ok: false, code, message, index };
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The interval number (10-minute units since the epoch) that contains `time`. */
export function intervalNumberOf(time: Date): number {
  return Math.floor(time.getTime() / 1000 / INTERVAL_SECONDS);
}

/** The time at which an interval number begins. */
export function dateOfInterval(interval: number): Date {
  return new Date(interval * INTERVAL_SECONDS * 1000);
}

/** The oldest start interval accepted at `now`: midnight UTC, 14 days before today. */
export function oldestAcceptedInterval(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return (midnight / 1000 - (MAX_KEY_AGE_UTC_DAYS - 1) * 86400) / INTERVAL_SECONDS;
}

/**
 * Rules of the format itself, independent of the clock: what any export file must hold.
 * `index` goes into the violation so that callers can name the key.
 */
export function checkTekFormat(tek: Tek, index?: number): TekCheck {
  if (!(tek.keyData instanceof Uint8Array) || tek.keyData.length !== KEY_LENGTH) {
    const got = tek.keyData instanceof Uint8Array ? `${tek.keyData.length} bytes` : 'no bytes';
    return fail('key_data_invalid', `key data must be exactly ${KEY_LENGTH} bytes, got ${got}`, index);
  }
  if (!isIntIn(tek.rollingPeriod, 1, INTERVALS_PER_DAY)) {
    return fail('rolling_period_invalid', `rolling period must be an integer from 1 to ${INTERVALS_PER_DAY}, got ${String(tek.rollingPeriod)}`, index);
  }
  if (!isIntIn(tek.rollingStartIntervalNumber, 0, 0x7fffffff)) {
    return fail('rolling_start_invalid', `rolling start interval number must be a non-negative 32-bit integer, got ${String(tek.rollingStartIntervalNumber)}`, index);
  }
  if (!isIntIn(tek.transmissionRiskLevel, 0, MAX_TRANSMISSION_RISK)) {
    return fail('transmission_risk_invalid', `transmission risk must be an integer from 0 to ${MAX_TRANSMISSION_RISK}, got ${String(tek.transmissionRiskLevel)}`, index);
  }
  if (tek.reportType !== undefined && !isIntIn(tek.reportType, ReportType.UNKNOWN, ReportType.REVOKED)) {
    return fail('report_type_invalid', `report type must be an integer from 0 to 5, got ${String(tek.reportType)}`, index);
  }
  if (tek.daysSinceOnsetOfSymptoms !== undefined && !isIntIn(tek.daysSinceOnsetOfSymptoms, -MAX_DAYS_SINCE_ONSET, MAX_DAYS_SINCE_ONSET)) {
    return fail('days_since_onset_invalid', `days since onset of symptoms must be an integer from -${MAX_DAYS_SINCE_ONSET} to ${MAX_DAYS_SINCE_ONSET}, got ${String(tek.daysSinceOnsetOfSymptoms)}`, index);
  }
  return OK;
}

/** The start intervals accepted at `now`: from midnight UTC 14 days ago to the current interval. */
function acceptedStarts(now: Date): { oldest: number; current: number } {
  return { oldest: oldestAcceptedInterval(now), current: intervalNumberOf(now) };
}

function checkStart(tek: Tek, bounds: { oldest: number; current: number }, index?: number): TekCheck {
  if (tek.rollingStartIntervalNumber < bounds.oldest) {
    return fail('rolling_start_too_old', `rolling start interval ${tek.rollingStartIntervalNumber} is before ${bounds.oldest}, the oldest accepted (${dateOfInterval(bounds.oldest).toISOString()})`, index);
  }
  if (tek.rollingStartIntervalNumber > bounds.current) {
    return fail('rolling_start_in_future', `rolling start interval ${tek.rollingStartIntervalNumber} is in the future (now is interval ${bounds.current})`, index);
  }
  return OK;
}

/** The format rules plus the clock: not older than 15 UTC days, not starting in the future. */
export function checkTekAt(tek: Tek, now: Date, index?: number): TekCheck {
  const format = checkTekFormat(tek, index);
  return format.ok ? checkStart(tek, acceptedStarts(now), index) : format;
}

/**
 * All rules of one upload: each key at `now`, the count, duplicates, and overlaps. Keys may
 * overlap only when they share a start interval, and at most three may share one.
 */
export function checkUpload(teks: readonly Tek[], now: Date): TekCheck {
  if (teks.length === 0) return fail('no_keys', 'an upload must contain at least one key');
  if (teks.length > MAX_KEYS_PER_UPLOAD) {
    return fail('too_many_keys', `an upload may contain at most ${MAX_KEYS_PER_UPLOAD} keys, got ${teks.length}`);
  }
  const bounds = acceptedStarts(now);
  for (let i = 0; i < teks.length; i++) {
    const format = checkTekFormat(teks[i], i);
    if (!format.ok) return format;
    const start = checkStart(teks[i], bounds, i);
    if (!start.ok) return start;
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < teks.length; i++) {
    const key = teks[i].keyData;
    const id = Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
    if (seen.has(id)) return fail('duplicate_key', `key ${i} repeats key ${seen.get(id)}`, i);
    seen.set(id, i);
  }
  return checkOverlaps(teks);
}

function checkOverlaps(teks: readonly Tek[]): TekCheck {
  const order = teks.map((_, i) => i).sort((a, b) => teks[a].rollingStartIntervalNumber - teks[b].rollingStartIntervalNumber);
  let sameStart = 1;
  for (let n = 1; n < order.length; n++) {
    const prev = teks[order[n - 1]];
    const cur = teks[order[n]];
    if (cur.rollingStartIntervalNumber === prev.rollingStartIntervalNumber) {
      sameStart++;
      if (sameStart > MAX_KEYS_SAME_START) {
        return fail('too_many_keys_same_start', `at most ${MAX_KEYS_SAME_START} keys may share start interval ${cur.rollingStartIntervalNumber}`, order[n]);
      }
      continue;
    }
    sameStart = 1;
    // Sorted by start: a key overlaps an earlier-starting one if any earlier key is still valid.
    for (let m = n - 1; m >= 0; m--) {
      const earlier = teks[order[m]];
      if (earlier.rollingStartIntervalNumber + earlier.rollingPeriod > cur.rollingStartIntervalNumber) {
        return fail('keys_overlap', `key ${order[n]} starts at interval ${cur.rollingStartIntervalNumber}, inside key ${order[m]} (intervals ${earlier.rollingStartIntervalNumber} to ${earlier.rollingStartIntervalNumber + earlier.rollingPeriod - 1})`, order[n]);
      }
    }
  }
  return OK;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 decode: `undefined` for anything that is not canonical base64. */
export function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

export type TekFromJson = { ok: true; tek: Tek } | ({ ok: false } & TekViolation);

/**
 * Reads one key of the upload JSON shape into the model, rejecting wrong types with the code
 * of the field's rule. Range checks are left to `checkTekFormat`/`checkTekAt`.
 */
export function tekFromJson(value: unknown, index?: number): TekFromJson {
  const obj = (value ?? {}) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'key_data_invalid', message: 'each key must be a JSON object', ...(index === undefined ? {} : { index }) };
  }
  const keyData = decodeBase64(obj.key);
  if (keyData === undefined || keyData.length !== KEY_LENGTH) {
    const what = keyData === undefined ? 'is not standard base64' : `decodes to ${keyData.length} bytes`;
    return { ok: false, code: 'key_data_invalid', message: `key must be the base64 of ${KEY_LENGTH} bytes, but it ${what}`, ...(index === undefined ? {} : { index }) };
  }
  const tek: Tek = {
    keyData,
    rollingStartIntervalNumber: obj.rollingStartNumber as number,
    // rollingPeriod is required (a missing one is refused by its rule); an absent risk is 0 as in
    // GAEN v1 uploads, but an explicit null is a wrong type.
    rollingPeriod: obj.rollingPeriod as number,
    transmissionRiskLevel: (obj.transmissionRisk === undefined ? 0 : obj.transmissionRisk) as number,
  };
  if (obj.reportType !== undefined) tek.reportType = obj.reportType as number;
  if (obj.daysSinceOnsetOfSymptoms !== undefined) tek.daysSinceOnsetOfSymptoms = obj.daysSinceOnsetOfSymptoms as number;
  const check = checkTekFormat(tek, index);
  return check.ok ? { ok: true, tek } : check;
}

/** The model back to the upload JSON shape. */
export function tekToJson(tek: Tek): TekJson {
  const json: TekJson = {
    key: Buffer.from(tek.keyData).toString('base64'),
    rollingStartNumber: tek.rollingStartIntervalNumber,
    rollingPeriod: tek.rollingPeriod,
    transmissionRisk: tek.transmissionRiskLevel,
  };
  if (tek.reportType !== undefined) json.reportType = tek.reportType;
  if (tek.daysSinceOnsetOfSymptoms !== undefined) json.daysSinceOnsetOfSymptoms = tek.daysSinceOnsetOfSymptoms;
  return json;
}
