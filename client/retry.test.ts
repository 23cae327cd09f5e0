import { ClientError } from './errors';
import { fetchWithRetry, retryAfterInMs, runtimeOf, UPLOAD_RETRY_POLICY, type Runtime } from './retry';

/** A fake runtime: a virtual clock that sleep advances, scripted answers, and a fixed "random". */
function fakeRuntime(answers: Array<Response | Error>, random = 0.5) {
  let clock = Date.UTC(2026, 11, 1);
  const sleeps: number[] = [];
  const calls: string[] = [];
  const runtime: Runtime = {
    now: () => clock,
    random: () => random,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    fetch: async (url) => {
      calls.push(url);
      const next = answers.shift();
      if (!next) throw new Error('no more scripted answers');
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { runtime, sleeps, calls, now: () => clock };
}

const status = (code: number, headers: Record<string, string> = {}) => new Response(code === 304 ? null : 'x', { status: code, headers });

describe('fetchWithRetry', () => {
  const policy = { attempts: 5, baseDelayInMs: 1000, maxDelayInMs: 8000 };

  it('retries network errors and 5xx with exponential backoff and full jitter, then answers', async () => {
    const fake = fakeRuntime([new TypeError('fetch failed'), status(500), status(503), status(502), status(200)]);
    const response = await fetchWithRetry('http://edge/v1/440/index.txt', {}, fake.runtime, { policy });
    expect(response.status).toBe(200);
    // random() = 0.5 of min(8000, 1000 * 2^n): 500, 1000, 2000, 4000.
    expect(fake.sleeps).toEqual([500, 1000, 2000, 4000]);
    expect(fake.calls).toHaveLength(5);
  });

  it('caps the backoff at maxDelayInMs', async () => {
    const fake = fakeRuntime([status(500), status(500), status(500), status(500), status(500), status(200)], 0.99);
    await fetchWithRetry('http://edge/x', {}, fake.runtime, { policy: { ...policy, attempts: 6 } });
    expect(fake.sleeps.map(Math.round)).toEqual([990, 1980, 3960, 7920, 7920]);
  });

  it.each([
    ['seconds', '7', 7000],
    ['an HTTP date', 'Tue, 01 Dec 2026 00:00:30 GMT', 30_000],
  ])('honours Retry-After given in %s on a 429, plus jitter of at most the base delay', async (_name, value, waitInMs) => {
    const fake = fakeRuntime([status(429, { 'retry-after': value }), status(200)], 0.25);
    await fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy });
    expect(fake.sleeps).toEqual([waitInMs + 250]);
  });

  it('honours Retry-After on a 503', async () => {
    const fake = fakeRuntime([status(503, { 'retry-after': '2' }), status(200)], 0);
    await fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy });
    expect(fake.sleeps).toEqual([2000]);
  });

  it.each([400, 401, 403, 404, 410, 413])('never retries a %i', async (code) => {
    const fake = fakeRuntime([status(code), status(200)]);
    const response = await fetchWithRetry('http://edge/x', {}, fake.runtime, { policy });
    expect(response.status).toBe(code);
    expect(fake.sleeps).toEqual([]);
    expect(fake.calls).toHaveLength(1);
  });

  it('gives up after the last try: http_error with the status for 5xx', async () => {
    const fake = fakeRuntime([status(500), status(500), status(500)]);
    const error = (await fetchWithRetry('http://edge/x', {}, fake.runtime, { policy: { ...policy, attempts: 3 } }).catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'http_error', statusCode: 500 });
    expect(fake.sleeps).toHaveLength(2);
  });

  it('gives up after the last try: network_error when nothing answered', async () => {
    const fake = fakeRuntime([new TypeError('fetch failed'), new TypeError('fetch failed')]);
    await expect(fetchWithRetry('http://edge/x', {}, fake.runtime, { policy: { ...policy, attempts: 2 } })).rejects.toMatchObject({ code: 'network_error' });
  });

  it('does not wait for a Retry-After longer than the policy allows', async () => {
    const fake = fakeRuntime([status(429, { 'retry-after': '3600' })]);
    await expect(fetchWithRetry('http://edge/x', {}, fake.runtime, { policy: { ...policy, maxRetryAfterInMs: 60_000 } })).rejects.toMatchObject({ code: 'http_error', statusCode: 429 });
    expect(fake.sleeps).toEqual([]);
  });

  it('stops when aborted, between tries', async () => {
    const controller = new AbortController();
    const fake = fakeRuntime([status(500), status(200)]);
    fake.runtime.sleep = async () => {
      controller.abort();
      throw new Error('aborted');
    };
    await expect(fetchWithRetry('http://edge/x', {}, fake.runtime, { policy, abortSignal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(fake.calls).toHaveLength(1);
  });

  it('keeps an upload trying through a 35-minute outage of 503 with Retry-After, never more than a minute apart', async () => {
    const fake = fakeRuntime([]);
    const outageEnds = fake.now() + 35 * 60_000;
    fake.runtime.fetch = async (url) => {
      fake.calls.push(url);
      return fake.now() < outageEnds ? status(503, { 'retry-after': '1' }) : status(200);
    };
    const response = await fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy: UPLOAD_RETRY_POLICY });
    expect(response.status).toBe(200);
    expect(fake.now()).toBeGreaterThanOrEqual(outageEnds);
    expect(Math.max(...fake.sleeps)).toBeLessThanOrEqual(60_000);
    // Capped backoff, not a storm: about one try every 30 s once the cap is reached.
    expect(fake.calls.length).toBeLessThan(120);
  });

  it('gives up when the next try would start after maxElapsedInMs', async () => {
    const fake = fakeRuntime([]);
    fake.runtime.fetch = async (url) => {
      fake.calls.push(url);
      return status(503);
    };
    const error = (await fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy: { ...UPLOAD_RETRY_POLICY, maxElapsedInMs: 10 * 60_000 } }).catch((e: unknown) => e)) as ClientError;
    expect(error).toMatchObject({ code: 'http_error', statusCode: 503, message: expect.stringMatching(/the phone tries for 600 s/) });
    expect(fake.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(10 * 60_000);
  });

  it.each(['GET', 'POST'])('never retries a refusal by the edge (429 edge_refused) of a %s, and names the path', async (method) => {
    const refusal = () => new Response('{"error":"request refused by the edge","code":"edge_refused"}', { status: 429, headers: { 'content-type': 'application/json; charset=utf-8' } });
    const fake = fakeRuntime([refusal(), refusal()]);
    const error = (await fetchWithRetry('http://edge/v1/44O/index.txt?x=1', { method }, fake.runtime, { policy }).catch((e: unknown) => e)) as ClientError;
    expect(error).toMatchObject({ code: 'edge_refused', statusCode: 429, message: expect.stringContaining(`${method} /v1/44O/index.txt`) });
    expect(fake.calls).toHaveLength(1);
  });

  it('still retries a 429 that is not the edge refusing (the API throttling)', async () => {
    const fake = fakeRuntime([status(429, { 'retry-after': '1', 'content-type': 'application/json' }), status(200)], 0);
    await expect(fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy })).resolves.toMatchObject({ status: 200 });
  });

  it('abandons a try without an answer after timeoutInMs and tries again', async () => {
    const fake = fakeRuntime([]);
    let tries = 0;
    fake.runtime.fetch = (url, init) => {
      fake.calls.push(url);
      if (++tries > 1) return Promise.resolve(status(200));
      return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    };
    await expect(fetchWithRetry('http://edge/api/v1/publish', { method: 'POST' }, fake.runtime, { policy: { ...policy, timeoutInMs: 20 } })).resolves.toMatchObject({ status: 200 });
    expect(fake.calls).toHaveLength(2);
  });

  it('reads Retry-After values', () => {
    expect(retryAfterInMs(null, 0)).toBeUndefined();
    expect(retryAfterInMs('soon', 0)).toBeUndefined();
    expect(retryAfterInMs(' 12 ', 0)).toBe(12_000);
    expect(retryAfterInMs('Thu, 01 Jan 1970 00:00:10 GMT', 20_000)).toBe(0);
  });

  it('uses the platform by default', () => {
    const runtime = runtimeOf();
    expect(typeof runtime.fetch).toBe('function');
    expect(Math.abs(runtime.now() - Date.now())).toBeLessThan(1000);
  });
});
