/**
 * HTTP with retries as a phone does it: network failures, 5xx and 429 are tried again after an
 * exponential backoff with full jitter (so a fleet that failed together does not come back
 * together), a `Retry-After` is honoured, and a 4xx other than 429 is never retried: the same
 * request would get the same answer. fetch, the clock, sleep and randomness are injected.
 */
import { ClientError } from './errors';

/** What the library needs from its runtime; every member defaults to the platform's own. */
export interface ClientEnvironment {
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Wall clock, epoch ms. */
  now?: () => number;
  /** Waits `ms`; rejects when `abortSignal` fires. */
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). */
  random?: () => number;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Backoff before try n+1 is random in [0, min(maxDelayInMs, baseDelayInMs * 2^n)). */
  baseDelayInMs: number;
  maxDelayInMs: number;
  /** A `Retry-After` longer than this ends the retries (the answer is given up on). */
  maxRetryAfterInMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayInMs: 1000, maxDelayInMs: 60_000, maxRetryAfterInMs: 15 * 60_000 };

export type RequestInit = { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal };

/** The environment with the platform's defaults filled in. */
export interface Runtime {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  now: () => number;
  sleep: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  random: () => number;
}

function platformSleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) return reject(abortSignal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortSignal?.reason);
    };
    const timer = setTimeout(() => {
      abortSignal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    abortSignal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function runtimeOf(env: ClientEnvironment = {}): Runtime {
  return {
    fetch: env.fetch ?? ((input, init) => fetch(input, init)),
    now: env.now ?? (() => Date.now()),
    sleep: env.sleep ?? platformSleep,
    random: env.random ?? Math.random,
  };
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; `undefined` when absent or unreadable. */
export function retryAfterInMs(value: string | null, nowInMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowInMs);
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  abortSignal?: AbortSignal;
  /** Called before each wait, for logs and tests. */
  onRetry?: (event: { attempt: number; delayInMs: number; reason: string }) => void;
}

function aborted(signal: AbortSignal | undefined, cause?: unknown): ClientError {
  return new ClientError('aborted', 'the request was cancelled', { cause: cause ?? signal?.reason });
}

/**
 * Sends the request until it gets an answer that is not retryable, or the tries run out.
 * Resolves to any 1xx-4xx answer (except 429) for the caller to judge; a 5xx or 429 after the last
 * try is `http_error`, no answer at all is `network_error`.
 */
export async function fetchWithRetry(url: string, init: RequestInit, runtime: Runtime, options: RetryOptions = {}): Promise<Response> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const signal = options.abortSignal;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw aborted(signal);
    let reason: string;
    let delay = runtime.random() * Math.min(policy.maxDelayInMs, policy.baseDelayInMs * 2 ** attempt);
    let failure: ClientError;
    try {
      const response = await runtime.fetch(url, { ...init, ...(signal ? { signal } : {}) });
      if (!retryable(response.status)) return response;
      await response.body?.cancel().catch(() => undefined);
      reason = `HTTP ${response.status}`;
      failure = new ClientError('http_error', `${init.method ?? 'GET'} ${url} answered ${response.status} after ${attempt + 1} tries`, { statusCode: response.status });
      const asked = retryAfterInMs(response.headers.get('retry-after'), runtime.now());
      if (asked !== undefined) {
        if (asked > policy.maxRetryAfterInMs) throw new ClientError('http_error', `${init.method ?? 'GET'} ${url} answered ${response.status} with Retry-After of ${Math.round(asked / 1000)} s, longer than the ${Math.round(policy.maxRetryAfterInMs / 1000)} s a phone waits`, { statusCode: response.status });
        // At least what the server asked; the jitter spreads the phones it asked all at once.
        delay = asked + runtime.random() * policy.baseDelayInMs;
      }
    } catch (error) {
      if (error instanceof ClientError) throw error;
      if (signal?.aborted) throw aborted(signal, error);
      reason = `network error: ${(error as Error).message}`;
      failure = new ClientError('network_error', `${init.method ?? 'GET'} ${url} got no answer after ${attempt + 1} tries (${(error as Error).message})`, { cause: error });
    }
    if (attempt + 1 >= policy.attempts) throw failure;
    options.onRetry?.({ attempt: attempt + 1, delayInMs: delay, reason });
    try {
      await runtime.sleep(delay, signal);
    } catch (error) {
      throw aborted(signal, error);
    }
  }
}

/** The `{"error","code"}` of an API error body, when there is one. */
export async function serverError(response: Response): Promise<{ code?: string; error?: string }> {
  try {
    const body = (await response.json()) as { code?: unknown; error?: unknown };
    return { ...(typeof body.code === 'string' ? { code: body.code } : {}), ...(typeof body.error === 'string' ? { error: body.error } : {}) };
  } catch {
    return {};
  }
}
