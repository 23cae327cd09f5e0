import { ClientError } from './errors';
import { Phone } from './phone';
import { parseState } from './state';

type Call = { url: string; method: string; headers: Record<string, string> };

/** A fetch that answers the index with 304 and uploads as scripted. */
function fakeEdge(uploadStatus: number) {
  const calls: Call[] = [];
  const fetch = async (url: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
    calls.push({ url, method: init.method ?? 'GET', headers: init.headers ?? {} });
    if (url.endsWith('/index.txt')) return new Response(null, { status: 304 });
    return new Response('{"revisionToken":"x","insertedExposures":1,"padding":""}', { status: uploadStatus });
  };
  return { calls, fetch };
}

const key = { publicKey: '-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----' };
const state = { version: 1 as const, region: '440', index: { etag: '"v1"' }, files: [] };

describe('Phone', () => {
  it('polls with the saved ETag and sends no chaff at rate 0', async () => {
    const edge = fakeEdge(200);
    const phone = new Phone({ baseUrl: 'http://edge/', region: '440', key, state, env: { fetch: edge.fetch } });
    await expect(phone.sync()).resolves.toMatchObject({ indexStatus: 304, chaff: 'none' });
    expect(edge.calls).toEqual([{ url: 'http://edge/v1/440/index.txt', method: 'GET', headers: { 'if-none-match': '"v1"' } }]);
  });

  it('sends one chaff upload with a sync at its rate, marked X-Chaff', async () => {
    const edge = fakeEdge(200);
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', key, state, chaffRate: 0.5, env: { fetch: edge.fetch, random: () => 0.49 } });
    await expect(phone.sync()).resolves.toMatchObject({ chaff: 'sent' });
    expect(edge.calls[1]).toMatchObject({ url: 'http://edge/api/v1/publish', method: 'POST', headers: { 'x-chaff': '1', 'content-type': 'application/json' } });
  });

  it('a refused chaff changes nothing for the sync', async () => {
    const edge = fakeEdge(400);
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', key, state, chaffRate: 1, env: { fetch: edge.fetch } });
    await expect(phone.sync()).resolves.toMatchObject({ indexStatus: 304, chaff: 'failed' });
    expect(phone.state.index.etag).toBe('"v1"');
  });
});

/** A scripted API on a virtual clock: `answer` decides each request; sleeps advance the clock. */
function fakeApi(answer: (path: string, body: Record<string, unknown>, at: number) => Response | Error) {
  let clock = Date.UTC(2026, 11, 1, 12);
  const bodies: Array<{ path: string; body: Record<string, unknown>; headers: Record<string, string> }> = [];
  const env = {
    now: () => clock,
    random: () => 0.5,
    sleep: async (ms: number) => {
      clock += ms;
    },
    fetch: async (url: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
      const path = new URL(url).pathname;
      const body = JSON.parse(init.body ?? '{}') as Record<string, unknown>;
      bodies.push({ path, body, headers: init.headers ?? {} });
      const result = answer(path, body, clock);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { env, bodies, now: () => clock };
}

const accepted = (inserted: number) => new Response(JSON.stringify({ revisionToken: 'token', insertedExposures: inserted }), { status: 200, headers: { 'content-type': 'application/json' } });
const registered = () => new Response('{"userUuid":"00000000-0000-4000-8000-000000000001","secret":"s3cret"}', { status: 201 });
const request = { temporaryExposureKeys: [{ key: 'AAAAAAAAAAAAAAAAAAAAAA==', rollingStartNumber: 2_950_000, rollingPeriod: 144 }], healthAuthorityID: 'ha', verificationPayload: 'a.b.c', hmacKey: 'aG1hYw==' };
const withoutPadding = ({ padding: _padding, ...rest }: Record<string, unknown>) => rest;

describe('Phone uploads', () => {
  it('keeps an upload through a 35-minute store outage (503 with Retry-After) and sends it until it is answered', async () => {
    const start = Date.UTC(2026, 11, 1, 12);
    const api = fakeApi((path, _body, at) => (path === '/api/v1/register' ? registered() : at < start + 35 * 60_000 ? new Response('{"code":"store_unavailable"}', { status: 503, headers: { 'retry-after': '1' } }) : accepted(1)));
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env });
    await expect(phone.upload(request, { register: true })).resolves.toEqual({ revisionToken: 'token', insertedExposures: 1 });
    expect(api.now() - start).toBeGreaterThanOrEqual(35 * 60_000);
    expect(api.bodies.filter((b) => b.path === '/api/v1/register')).toHaveLength(1);
    expect(phone.state.uploads).toBeUndefined();
  });

  it('sends the very same upload again when an answer is lost, so the API stores it once', async () => {
    let publishes = 0;
    const api = fakeApi((path) => (path !== '/api/v1/publish' ? registered() : ++publishes === 1 ? new TypeError('fetch failed: socket hang up') : accepted(0)));
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env });
    const id = phone.queueUpload(request, { register: true });
    const [outcome] = await phone.sendUploads();
    expect(outcome).toMatchObject({ id, status: 'accepted', result: { insertedExposures: 0 }, requests: 3 });
    const sent = api.bodies.filter((b) => b.path === '/api/v1/publish');
    expect(sent).toHaveLength(2);
    expect(withoutPadding(sent[1].body)).toEqual(withoutPadding(sent[0].body));
    expect(withoutPadding(sent[0].body)).toEqual(request);
    expect(sent[1].headers).toEqual(sent[0].headers);
  });

  it('keeps an unanswered upload in the state, across a restart, until a later send gets an answer', async () => {
    let up = false;
    const api = fakeApi((path) => (!up ? new TypeError('fetch failed') : path === '/api/v1/register' ? registered() : accepted(1)));
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env, uploadRetry: { maxElapsedInMs: 10 * 60_000 } });
    const error = (await phone.upload(request, { register: true }).catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe('network_error');
    const saved = parseState(JSON.stringify(phone.state));
    expect(saved.uploads).toEqual([expect.objectContaining({ request, register: true, attempts: 1, lastFailure: expect.objectContaining({ code: 'network_error' }) })]);

    up = true;
    const restarted = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env, state: saved });
    await expect(restarted.sendUploads()).resolves.toEqual([expect.objectContaining({ status: 'accepted', result: { revisionToken: 'token', insertedExposures: 1 } })]);
    expect(restarted.state.uploads).toBeUndefined();
  });

  it("drops an upload the API refuses, with the API's code", async () => {
    const api = fakeApi(() => new Response('{"error":"expired","code":"health_authority_verification_certificate_invalid"}', { status: 401 }));
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env });
    await expect(phone.upload(request)).rejects.toMatchObject({ code: 'http_error', statusCode: 401, serverCode: 'health_authority_verification_certificate_invalid' });
    expect(phone.state.uploads).toBeUndefined();
    expect(api.bodies).toHaveLength(1);
  });

  it('sends queued uploads oldest first and stops at the first without an answer', async () => {
    let publishes = 0;
    const api = fakeApi(() => (++publishes === 1 ? accepted(1) : new Response('busy', { status: 503 })));
    const phone = new Phone({ baseUrl: 'http://edge', region: '440', env: api.env, uploadRetry: { maxElapsedInMs: 60_000 } });
    const ids = [phone.queueUpload(request), phone.queueUpload(request), phone.queueUpload(request)];
    const outcomes = await phone.sendUploads();
    expect(outcomes.map((outcome) => [outcome.id, outcome.status])).toEqual([[ids[0], 'accepted'], [ids[1], 'pending']]);
    expect(phone.pendingUploads.map((upload) => upload.id)).toEqual([ids[1], ids[2]]);
  });

  it('refuses a request the API could never accept before queueing anything', () => {
    const phone = new Phone({ baseUrl: 'http://edge', region: '440' });
    expect(() => phone.queueUpload({ ...request, temporaryExposureKeys: [] })).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(phone.state.uploads).toBeUndefined();
  });
});
