/**
 * Structured logs: one JSON object per line on stdout (App Insights collects stdout of Function
 * Apps). Every component makes its logger here. Privacy is enforced in one place: fields whose
 * names can carry key data, secrets, tokens or client addresses are replaced before writing,
 * whatever the caller passed. A line written inside a traced operation (an upload, a publisher
 * run) carries its `traceId` and `spanId`, the operation id App Insights joins its telemetry by.
 */
import { types } from 'node:util';
import { isSpanContextValid, trace } from '@opentelemetry/api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names never written (compared case-insensitively, without `-` and `_`). */
const REDACTED_FIELDS = new Set(
  ['key', 'keys', 'keyData', 'temporaryExposureKeys', 'secret', 'token', 'authorization', 'verificationPayload', 'hmacKey', 'revisionToken', 'password', 'accountKey', 'connectionString', 'ip', 'clientIp', 'xForwardedFor', 'forwarded', 'remoteAddress', 'privateKey', 'body'].map(normalize),
);

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/** Nesting written; deeper objects are replaced, never written unchecked. */
const MAX_DEPTH = 6;

/**
 * Secrets as they appear inside text (an SDK's error message may quote a connection string or a
 * request URL): storage and Cosmos keys, SAS signatures, bearer tokens, JWTs.
 */
const SECRETS_IN_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/\b(AccountKey|SharedAccessSignature|SharedAccessKey|sig|password|secret)=[^;&\s"']*/gi, '$1=[redacted]'],
  [/\bBearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/\beyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]'],
];

/** `text` with the secrets it may quote replaced (also used for exported telemetry). */
export function scrubText(text: string): string {
  return SECRETS_IN_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

function scrub(value: unknown, depth = 0): unknown {
  // isNativeError, not instanceof: errors made in another realm (vm contexts, test runners) are errors too.
  if (types.isNativeError(value)) return { name: value.name, message: scrubText(value.message), ...(value as { code?: unknown }).code !== undefined ? { code: (value as { code?: unknown }).code } : {} };
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return '[bytes]';
  const out: LogFields = {};
  for (const [name, field] of Object.entries(value)) out[name] = REDACTED_FIELDS.has(normalize(name)) ? '[redacted]' : scrub(field, depth + 1);
  return out;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. an invocation id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass an array's push. */
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(component: string, options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const span = trace.getActiveSpan()?.spanContext();
    const traced = span && isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : undefined;
    const record = { time: now().toISOString(), level, component, message, ...traced, ...(scrub({ ...bound, ...fields }) as LogFields) };
    write(JSON.stringify(record));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(component, options, { ...bound, ...fields }),
  };
}

/** A logger that writes nothing (tests and benchmarks). */
export const silentLogger: Logger = createLogger('silent', { write: () => undefined });
