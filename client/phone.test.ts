import { Phone } from './phone';

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
