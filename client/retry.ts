/**
 * HTTP with retries as a phone does it: network failures, 5xx and 429 are tried again after an
 * exponential backoff with full jitter (so a fleet that failed together does not come back
 * together), a `Retry-After` is honoured, and a 4xx other than 429 is never retried: the same
 * request would get the same answer. Neither is a refusal by the edge's WAF (429 `edge_refused`:
 * a path, method or query the edge does not serve, or too many requests from one address):
 * trying again at once would be the storm the rule is there to stop. fetch, the clock, sleep and
 * randomness are injected.
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
  /** When set, no try starts later than this after the first (the tries end at `attempts` or here, whichever comes first). */
  maxElapsedInMs?: number;
  /** When set, a try that has no answer (status and headers) after this long is abandoned and counts as a network failure. */
  timeoutInMs?: number;
}

/** Reads: a few tries over about a minute; the next sync tries again. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayInMs: 1000, maxDelayInMs: 60_000, maxRetryAfterInMs: 15 * 60_000 };

/**
 * Uploads (and the register before them): a person's keys must outlast a store outage of half an
 * hour and more, so tries go on for 45 minutes, at most a minute apart (capped backoff, full
 * jitter) or as long as `Retry-After` asks; a try without an answer for a minute is abandoned. A
 * repeated upload is stored once (the API keys each exposure by region and key data), so a retry
 * after a lost answer is safe.
 */
export const UPLOAD_RETRY_POLICY: RetryPolicy = { attempts: 1000, baseDelayInMs: 1000, maxDelayInMs: 60_000, maxRetryAfterInMs: 15 * 60_000, maxElapsedInMs: 45 * 60_000, timeoutInMs: 60_000 };

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

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** The edge's WAF refusal (keyfront's edge declaration answers every block 429 `{"code":"edge_refused"}`), as a `ClientError`; `undefined` for any other 429. */
async function edgeRefusal(response: Response, method: string, url: string): Promise<ClientError | undefined> {
  const body = await serverError(response.clone());
  if (body.code !== 'edge_refused') return undefined;
  await response.body?.cancel().catch(() => undefined);
  return new ClientError('edge_refused', `the edge refused ${method} ${pathOf(url)} (429 edge_refused: a path, method or query it does not serve, or too many requests from this address; check the base URL)`, { statusCode: 429, serverCode: 'edge_refused' });
}

/** One try: the caller's signal, and a timeout until the answer's headers when the policy has one. */
async function tryOnce(url: string, init: RequestInit, runtime: Runtime, signal: AbortSignal | undefined, timeoutInMs: number | undefined): Promise<Response> {
  if (timeoutInMs === undefined) return runtime.fetch(url, { ...init, ...(signal ? { signal } : {}) });
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${Math.round(timeoutInMs / 1000)} s`)), timeoutInMs);
  try {
    return await runtime.fetch(url, { ...init, signal: controller.signal });
  } catch (error) {
    // A timeout is a network failure like any other; the caller's abort is told apart by its signal.
    throw controller.signal.aborted && !signal?.aborted ? new Error(String((controller.signal.reason as Error)?.message ?? 'timed out'), { cause: error }) : error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
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
 * Sends the request until it gets an answer that is not retryable, or the tries run out (their
 * number, or `maxElapsedInMs`). Resolves to any 1xx-4xx answer (except 429) for the caller to
 * judge; a 5xx or 429 after the last try is `http_error`, no answer at all is `network_error`, a
 * refusal by the edge's WAF is `edge_refused` at once.
 */
export async function fetchWithRetry(url: string, init: RequestInit, runtime: Runtime, options: RetryOptions = {}): Promise<Response> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const signal = options.abortSignal;
  const method = init.method ?? 'GET';
  const started = runtime.now();
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw aborted(signal);
    let reason: string;
    let delay = runtime.random() * Math.min(policy.maxDelayInMs, policy.baseDelayInMs * 2 ** attempt);
    let failure: ClientError;
    try {
      const response = await tryOnce(url, init, runtime, signal, policy.timeoutInMs);
      if (!retryable(response.status)) return response;
      const refusal = response.status === 429 ? await edgeRefusal(response, method, url) : undefined;
      if (refusal) throw refusal;
      await response.body?.cancel().catch(() => undefined);
      reason = `HTTP ${response.status}`;
      failure = new ClientError('http_error', `${method} ${url} answered ${response.status} after ${attempt + 1} tries`, { statusCode: response.status });
      const asked = retryAfterInMs(response.headers.get('retry-after'), runtime.now());
      if (asked !== undefined) {
        if (asked > policy.maxRetryAfterInMs) throw new ClientError('http_error', `${method} ${url} answered ${response.status} with Retry-After of ${Math.round(asked / 1000)} s, longer than the ${Math.round(policy.maxRetryAfterInMs / 1000)} s a phone waits`, { statusCode: response.status });
        // At least what the server asked (the jitter spreads the phones it asked all at once), and
        // no less than the backoff: a store that keeps asking for a second is not tried every second.
        delay = Math.max(asked + runtime.random() * policy.baseDelayInMs, delay);
      }
    } catch (error) {
      if (error instanceof ClientError) throw error;
      if (signal?.aborted) throw aborted(signal, error);
      reason = `network error: ${(error as Error).message}`;
      failure = new ClientError('network_error', `${method} ${url} got no answer after ${attempt + 1} tries (${(error as Error).message})`, { cause: error });
    }
    if (attempt + 1 >= policy.attempts) throw failure;
    if (policy.maxElapsedInMs !== undefined && runtime.now() + delay - started > policy.maxElapsedInMs) {
      throw new ClientError(failure.code, `${failure.message}, over ${Math.round((runtime.now() - started) / 1000)} s (the phone tries for ${Math.round(policy.maxElapsedInMs / 1000)} s)`, { ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }), cause: failure.cause });
    }
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
