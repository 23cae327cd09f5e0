/**
 * Uploads a phone keeps until the API answers them. A person's keys must not be lost to a store
 * outage, a dead network or a phone that restarts: a queued upload lives in the phone's state
 * (`PhoneState.uploads`) and leaves it only with an answer: accepted (200), or refused (a 4xx other
 * than 429: the same request would be refused again). Anything else (no answer after 45 minutes of
 * tries, 5xx, 429, a refusal by the edge, a cancel) keeps it queued for the next send.
 *
 * Every send is the same request (same keys, certificate and HMAC key; only the padding differs),
 * so a retry after a lost answer cannot store anything twice: the API keys each exposure by region
 * and key data and treats the same uploader's keys as already stored (api/upload/store-upload.ts).
 */
import { ClientError } from './errors';
import { checkUploadRequest, register, upload, type Registration, type UploadRequest, type UploadResult, type WriteOptions } from './upload';

export interface PendingUpload {
  /** Random, for the caller to follow the upload. */
  id: string;
  /** What is sent, unchanged, every time. */
  request: UploadRequest;
  /** Register (once) before sending, unless `registration` is held. */
  register: boolean;
  registration?: Registration;
  /** When it was queued, epoch ms. */
  queuedAt: number;
  /** Sends that got no answer (each with its own retries). */
  attempts: number;
  /** Why the last send got no answer. */
  lastFailure?: { code: string; message: string; at: number };
}

/** How one send of a queued upload ended. */
export type UploadOutcome =
  /** The API stored it (`insertedExposures` counts keys new to the store: 0 when an earlier send whose answer was lost stored them). */
  | { id: string; status: 'accepted'; result: UploadResult; requests: number }
  /** The API (or the library, for a request it could never accept) refused it: it left the queue. */
  | { id: string; status: 'refused'; error: ClientError; requests: number }
  /** No answer: it stays queued. */
  | { id: string; status: 'pending'; error: ClientError; requests: number };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value read back from a saved state is a pending upload. */
export function isPendingUpload(value: unknown): value is PendingUpload {
  if (!isRecord(value) || typeof value.id !== 'string' || typeof value.register !== 'boolean') return false;
  if (!Number.isFinite(value.queuedAt) || !Number.isInteger(value.attempts)) return false;
  const request = value.request;
  if (!isRecord(request) || !Array.isArray(request.temporaryExposureKeys) || !['healthAuthorityID', 'verificationPayload', 'hmacKey'].every((field) => typeof request[field] === 'string')) return false;
  const registration = value.registration;
  return registration === undefined || (isRecord(registration) && typeof registration.userUuid === 'string' && typeof registration.secret === 'string');
}

function randomId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A new queue entry; `bad_request` (and nothing queued) for a request the API could never accept. */
export function newPendingUpload(request: UploadRequest, options: { register: boolean; registration?: Registration; nowInMs: number }): PendingUpload {
  checkUploadRequest(request);
  return { id: randomId(), request: structuredClone(request), register: options.register, ...(options.registration ? { registration: { ...options.registration } } : {}), queuedAt: options.nowInMs, attempts: 0 };
}

/** Whether a failure is the API's answer (a 4xx other than 429, or a request it could never take), which ends the upload. */
export function isAnswer(error: ClientError): boolean {
  if (error.code === 'bad_request') return true;
  return error.code === 'http_error' && error.statusCode !== undefined && error.statusCode < 500 && error.statusCode !== 429;
}

/**
 * Sends one queued upload (registering first when it must). Resolves to the outcome and, when it
 * stays queued, the entry as it now is (with its registration, if one was made, and the failure).
 */
export async function sendPendingUpload(baseUrl: string, pending: PendingUpload, options: WriteOptions & { nowInMs: () => number }): Promise<{ outcome: UploadOutcome; pending?: PendingUpload }> {
  let requests = 0;
  const counted: WriteOptions = {
    ...options,
    onRetry: (event) => {
      requests++;
      options.onRetry?.(event);
    },
  };
  let entry = pending;
  try {
    if (entry.register && !entry.registration) {
      requests++;
      entry = { ...entry, registration: await register(baseUrl, counted) };
    }
    requests++;
    const result = await upload(baseUrl, entry.request, { ...counted, ...(entry.registration ? { registration: entry.registration } : {}) });
    return { outcome: { id: entry.id, status: 'accepted', result, requests } };
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    if (isAnswer(error)) return { outcome: { id: entry.id, status: 'refused', error, requests } };
    const kept: PendingUpload = { ...entry, attempts: entry.attempts + 1, lastFailure: { code: error.code, message: error.message, at: options.nowInMs() } };
    return { outcome: { id: entry.id, status: 'pending', error, requests }, pending: kept };
  }
}
