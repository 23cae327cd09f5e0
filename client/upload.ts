/**
 * The write side of a phone: register (a user UUID and its secret), upload of a confirmed case's
 * keys, and chaff. Every request body is padded with random base64 to a fixed block size, and
 * chaff is a request of the same shape and size marked `X-Chaff` (which the API answers like an
 * upload, storing nothing), so that neither size nor rate tells an observer who tested positive.
 */
import { canonicalUploadDigest, type AttestationPlatform } from '../proto/canonical-upload';
import { MAX_KEYS_PER_UPLOAD, type TekJson } from '../proto/tek';
import { ClientError } from './errors';
import { bytesToBase64 } from './public-key';
import { fetchWithRetry, runtimeOf, serverError, UPLOAD_RETRY_POLICY, type ClientEnvironment, type RetryOptions, type RetryPolicy } from './retry';

/** Request bodies are padded to a multiple of this: a 30-key upload with its certificate fits one block. */
export const REQUEST_BLOCK_BYTES = 8 * 1024;

export interface Registration {
  userUuid: string;
  secret: string;
}

/** One key in the upload shape of the API (transmission risk 0 when left out). */
export type UploadKey = Pick<TekJson, 'key' | 'rollingStartNumber' | 'rollingPeriod'> & Partial<Pick<TekJson, 'transmissionRisk'>>;

export interface UploadRequest {
  temporaryExposureKeys: UploadKey[];
  healthAuthorityID: string;
  verificationPayload: string;
  hmacKey: string;
  symptomOnsetInterval?: number;
  traveler?: boolean;
  revisionToken?: string;
  /** Device attestation (README "Device attestation"): the platform, and its payload made for `attestationDigest(request)`. */
  platform?: AttestationPlatform;
  deviceVerificationPayload?: string;
}

/**
 * What the device attestation of `request` must be bound to: SHA-256 of its canonical form (with
 * `platform` set). iOS passes it to App Attest as `clientDataHash`; Android to Play Integrity as
 * the `nonce` of a classic request, in base64url.
 */
export function attestationDigest(request: Omit<UploadRequest, 'deviceVerificationPayload'>): Promise<Uint8Array> {
  return canonicalUploadDigest(request);
}

export interface UploadResult {
  revisionToken: string;
  insertedExposures: number;
}

export interface WriteOptions {
  env?: ClientEnvironment;
  /** Over `UPLOAD_RETRY_POLICY` for register and upload (45 minutes of tries), over `DEFAULT_RETRY_POLICY` for chaff. */
  retry?: Partial<RetryPolicy>;
  abortSignal?: AbortSignal;
  /** Called before each wait between tries. */
  onRetry?: RetryOptions['onRetry'];
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** `fields` as JSON with a `padding` of random base64 that fills the body to a multiple of `REQUEST_BLOCK_BYTES`. */
export function paddedBody(fields: Record<string, unknown>): string {
  const bare = JSON.stringify({ ...fields, padding: '' });
  const length = new TextEncoder().encode(bare).length;
  const target = Math.max(1, Math.ceil(length / REQUEST_BLOCK_BYTES)) * REQUEST_BLOCK_BYTES;
  const padding = bytesToBase64(randomBytes(Math.ceil(((target - length) * 3) / 4) + 3)).slice(0, target - length);
  return `${bare.slice(0, -2)}${padding}"}`;
}

function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

async function refused(response: Response, what: string): Promise<ClientError> {
  const body = await serverError(response);
  return new ClientError('http_error', `${what} was refused with ${response.status}${body.code ? ` ${body.code}` : ''}${body.error ? `: ${body.error}` : ''}`, { statusCode: response.status, ...(body.code ? { serverCode: body.code } : {}) });
}

async function postJson(baseUrl: string, path: string, body: string, headers: Record<string, string>, options: WriteOptions, policy: Partial<RetryPolicy>): Promise<Response> {
  return fetchWithRetry(endpoint(baseUrl, path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }, runtimeOf(options.env), { policy: { ...policy, ...options.retry }, abortSignal: options.abortSignal, ...(options.onRetry ? { onRetry: options.onRetry } : {}) });
}

/** `POST /api/v1/register`: a user UUID and the secret that authorises its uploads. */
export async function register(baseUrl: string, options: WriteOptions = {}): Promise<Registration> {
  const response = await postJson(baseUrl, '/api/v1/register', paddedBody({}), {}, options, UPLOAD_RETRY_POLICY);
  if (response.status !== 201) throw await refused(response, 'register');
  const body = (await response.json().catch(() => undefined)) as Partial<Registration> | undefined;
  if (typeof body?.userUuid !== 'string' || typeof body.secret !== 'string') throw new ClientError('http_error', 'register answered 201 without a userUuid and secret', { statusCode: 201 });
  return { userUuid: body.userUuid, secret: body.secret };
}

function callerHeaders(registration: Registration | undefined): Record<string, string> {
  return registration ? { authorization: `Bearer ${registration.secret}`, 'x-user-uuid': registration.userUuid } : {};
}

/** `bad_request` for an upload the API could never accept (no keys or more than 30, a missing certificate field). */
export function checkUploadRequest(request: UploadRequest): void {
  const count = Array.isArray(request.temporaryExposureKeys) ? request.temporaryExposureKeys.length : 0;
  if (count < 1 || count > MAX_KEYS_PER_UPLOAD) throw new ClientError('bad_request', `an upload carries 1 to ${MAX_KEYS_PER_UPLOAD} keys, this one ${count}`);
  for (const field of ['healthAuthorityID', 'verificationPayload', 'hmacKey'] as const) {
    if (typeof request[field] !== 'string' || request[field] === '') throw new ClientError('bad_request', `${field} must be a non-empty string`);
  }
}

/**
 * `POST /api/v1/publish`: uploads the keys, trying for 45 minutes (`UPLOAD_RETRY_POLICY`) when the
 * store or the network is down. The API's refusal comes back as `http_error` with its
 * `serverCode`. Sending the same request again is safe: the API stores a repeated key once. To
 * keep an upload across restarts until it is answered, queue it in a `Phone`.
 */
export async function upload(baseUrl: string, request: UploadRequest, options: WriteOptions & { registration?: Registration } = {}): Promise<UploadResult> {
  checkUploadRequest(request);
  const response = await postJson(baseUrl, '/api/v1/publish', paddedBody({ ...request }), callerHeaders(options.registration), options, UPLOAD_RETRY_POLICY);
  if (response.status !== 200) throw await refused(response, 'the upload');
  const body = (await response.json().catch(() => undefined)) as Partial<UploadResult> | undefined;
  if (typeof body?.revisionToken !== 'string' || typeof body.insertedExposures !== 'number') throw new ClientError('http_error', 'the upload answered 200 without a revisionToken', { statusCode: 200 });
  return { revisionToken: body.revisionToken, insertedExposures: body.insertedExposures };
}

/**
 * Attestation-sized payloads of chaff, so that chaff of an attesting app pads to as many blocks as
 * its uploads: Apple's sample attestation object is 7,877 base64 characters (receipt included); a
 * Play Integrity token, a JWE of a JWS of a verdict of about 1 KB, about 2,000.
 */
const CHAFF_ATTESTATION_CHARS: Readonly<Record<AttestationPlatform, number>> = { android: 2000, ios: 7900 };

/** A made-up upload of the real shape: random keys of recent days, a certificate-sized payload (and an attestation-sized one with `attest`). */
export function chaffRequest(nowInMs: number, random: () => number, attest?: AttestationPlatform): UploadRequest {
  const today = Math.floor(nowInMs / 600_000 / 144) * 144;
  const count = 1 + Math.floor(random() * 14);
  const keys = Array.from({ length: count }, (_, day) => ({ key: bytesToBase64(randomBytes(16)), rollingStartNumber: today - day * 144, rollingPeriod: 144, transmissionRisk: 0 }));
  const jwtPart = (bytes: number) => bytesToBase64(randomBytes(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const request: UploadRequest = { temporaryExposureKeys: keys, healthAuthorityID: 'chaff', verificationPayload: `${jwtPart(36)}.${jwtPart(280)}.${jwtPart(64)}`, hmacKey: bytesToBase64(randomBytes(32)) };
  if (attest) Object.assign(request, { platform: attest, deviceVerificationPayload: bytesToBase64(randomBytes((CHAFF_ATTESTATION_CHARS[attest] * 3) / 4)) });
  return request;
}

/** Sends one chaff upload (`X-Chaff: 1`; `attest`: shaped as an attested upload of that platform); resolves when the API answered it like an upload. */
export async function sendChaff(baseUrl: string, options: WriteOptions & { registration?: Registration; attest?: AttestationPlatform } = {}): Promise<void> {
  const runtime = runtimeOf(options.env);
  const body = paddedBody({ ...chaffRequest(runtime.now(), runtime.random, options.attest) });
  const response = await postJson(baseUrl, '/api/v1/publish', body, { ...callerHeaders(options.registration), 'x-chaff': '1' }, options, {});
  if (response.status !== 200) throw await refused(response, 'the chaff upload');
  await response.body?.cancel().catch(() => undefined);
}
