/**
 * The local edge through real HTTP: keyfront's declaration served in front of a stand-in API
 * origin and Azurite (the exports), checked from the client side (status, headers, X-Cache) and
 * from the origins' side (what reached them).
 */
import { connect } from 'node:net';
import { request } from 'undici';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge, RATE_LIMITS } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { LocalEdgePurger } from '../../publisher/purgers/local-edge';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { fillExports } from '../support/exports-fixture';
import { startOriginStandIn, type OriginStandIn } from '../support/origin-stand-in';

const FDID = '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d';
const INDEX = 'v1/440/1700000000-1700003600-00001.zip\nv1/440/1700003600-1700007200-00001.zip\n';
/** Kept by the edge 2 s (`s-maxage=2`): long enough for a hit right after the miss, short enough to wait out. */
const SHORT_LIVED = '/v1/440/1699996400-1700000000-00001.zip';

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const response = await request(url, { method, headers });
  const body = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body };
}

/** Sends `head` (request line and headers, as written) on its own connection; resolves to the status code. */
function rawStatus(url: string, head: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}`));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

describe('the local edge in front of the API and Azurite', () => {
  let azurite: Azurite;
  let api: OriginStandIn;
  let edge: LocalEdge;

  beforeAll(async () => {
    [azurite, api] = await Promise.all([startAzurite(), startOriginStandIn()]);
    await fillExports(azurite.connectionString, {
      'v1/440/index.txt': { body: INDEX, contentType: 'text/plain', cacheControl: 'public, max-age=300, s-maxage=60' },
      'v1/440/1700000000-1700003600-00001.zip': { body: Buffer.from('PK\u0003\u0004first file'), contentType: 'application/zip', cacheControl: 'public, max-age=1209600, immutable' },
      'v1/440/1700003600-1700007200-00001.zip': { body: Buffer.from('PK\u0003\u0004second file'), contentType: 'application/zip', cacheControl: 'public, max-age=1209600, immutable' },
      'v1/440/index.json': { body: '{"files":[]}', contentType: 'application/json', cacheControl: 'public, max-age=300, s-maxage=60' },
      [SHORT_LIVED.slice(1)]: { body: 'short-lived', contentType: 'text/plain', cacheControl: 'public, max-age=60, s-maxage=2' },
    });
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: api.url, blobPrimary: azurite.blobEndpoint })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  });
  afterAll(async () => {
    await edge?.stop();
    await Promise.all([azurite?.stop(), api?.stop()]);
  });

  describe('routes', () => {
    it('sends /api/* to the API origin and /v1/* to the exports container', async () => {
      const health = await get(`${edge.url}/api/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ method: 'GET', url: '/api/health' });

      const index = await get(`${edge.url}/v1/440/index.txt`);
      expect(index.status).toBe(200);
      expect(index.body).toBe(INDEX);
      expect(index.headers['content-type']).toBe('text/plain');
    });

    it('refuses paths no route serves at the WAF, with a JSON error', async () => {
      const response = await get(`${edge.url}/admin/secret`);
      expect(response.status).toBe(429);
      expect(JSON.parse(response.body)).toEqual({ error: expect.any(String), code: 'edge_refused' });
      expect(response.headers['x-azure-ref']).toEqual(expect.any(String));
    });

    it('adds the security headers everywhere and CORS to the exports only', async () => {
      const exportsResponse = await get(`${edge.url}/v1/440/index.txt`);
      expect(exportsResponse.headers).toMatchObject({ 'strict-transport-security': 'max-age=31536000; includeSubDomains', 'x-content-type-options': 'nosniff', 'access-control-allow-origin': '*' });
      const apiResponse = await get(`${edge.url}/api/health`);
      expect(apiResponse.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(apiResponse.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('headers towards the API', () => {
    it('always sets the profile\'s X-Azure-FDID, replacing one a client sent', async () => {
      const before = api.requests.length;
      await get(`${edge.url}/api/health`, { 'x-azure-fdid': '00000000-0000-0000-0000-000000000000' });
      const seen = api.requests[before];
      expect(seen.headers['x-azure-fdid']).toBe(FDID);
    });

    it("deletes the phone's User-Agent (the Functions host would record it), and only that of the client's headers", async () => {
      const before = api.requests.length;
      await get(`${edge.url}/api/health`, { 'user-agent': 'keyfront-app/3.1 (Android 14; Pixel 8)', 'accept-language': 'ja-JP' });
      const seen = api.requests[before];
      expect(seen.headers['user-agent']).toBeUndefined();
      expect(seen.headers['accept-language']).toBe('ja-JP');
    });

    it('adds X-Forwarded-For (appending to a client\'s), X-Forwarded-Host and an X-Azure-Ref it also returns', async () => {
      const before = api.requests.length;
      const response = await get(`${edge.url}/api/health`, { 'x-forwarded-for': '203.0.113.7', 'x-azure-socketip': '198.51.100.1' });
      const seen = api.requests[before];
      expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
      expect(seen.headers['x-forwarded-host']).toBe(new URL(edge.url).host);
      expect(seen.headers['x-azure-socketip']).toBe('127.0.0.1');
      expect(seen.headers['x-azure-ref']).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{20}$/);
      expect(response.headers['x-azure-ref']).toBe(seen.headers['x-azure-ref']);
    });

    it('forwards POST bodies and never caches the API (CONFIG_NOCACHE)', async () => {
      const before = api.requests.length;
      const first = await request(`${edge.url}/api/v1/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"temporaryExposureKeys":[]}' });
      await first.body.text();
      const second = await get(`${edge.url}/api/health`);
      const third = await get(`${edge.url}/api/health`);
      expect(first.headers['x-cache']).toBe('CONFIG_NOCACHE');
      expect([second.headers['x-cache'], third.headers['x-cache']]).toEqual(['CONFIG_NOCACHE', 'CONFIG_NOCACHE']);
      expect(api.requests.slice(before).map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual(['POST /api/v1/publish {"temporaryExposureKeys":[]}', 'GET /api/health ', 'GET /api/health ']);
    });

    it('refuses request bodies over the edge limit with 413, without reaching the API', async () => {
      const before = api.requests.length;
      const response = await request(`${edge.url}/api/v1/publish`, { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1, 0x61) });
      expect(response.statusCode).toBe(413);
      expect(await response.body.json()).toMatchObject({ code: 'payload_too_large' });
      expect(api.requests.length).toBe(before);
    });
  });

  describe('the WAF', () => {
    it.each([
      ['PUT', '/api/v1/publish'],
      ['DELETE', '/api/v1/register'],
      ['POST', '/v1/440/index.txt'],
      ['OPTIONS', '/v1/440/index.txt'],
    ])('refuses %s %s (a method the route does not serve) before any origin sees it', async (method, path) => {
      const apiBefore = api.requests.length;
      const response = await request(`${edge.url}${path}`, { method: method as 'PUT' });
      expect(response.statusCode).toBe(429);
      expect(await response.body.json()).toEqual({ error: expect.any(String), code: 'edge_refused' });
      expect(api.requests.length).toBe(apiBefore);
    });

    it('refuses a request target that names another host (//host/path) before routing', async () => {
      const apiBefore = api.requests.length;
      const host = new URL(edge.url).host;
      expect(await rawStatus(edge.url, `POST //x/api/v1/publish HTTP/1.1\r\nHost: ${host}`)).toBe(400);
      expect(await rawStatus(edge.url, `DELETE //x/api/v1/register HTTP/1.1\r\nHost: ${host}`)).toBe(400);
      expect(await rawStatus(edge.url, `DELETE /\\x/api/v1/register HTTP/1.1\r\nHost: ${host}`)).toBe(400);
      expect(api.requests.length).toBe(apiBefore);
    });

    it('applies the WAF to requests with an empty or malformed Host', async () => {
      const apiBefore = api.requests.length;
      expect(await rawStatus(edge.url, 'DELETE /api/v1/register HTTP/1.1\r\nHost: ')).toBe(429);
      expect(await rawStatus(edge.url, 'DELETE /api/v1/register HTTP/1.1\r\nHost: x/y')).toBe(400);
      expect(api.requests.length).toBe(apiBefore);
    });
  });

  describe('the cache, on Azurite', () => {
    it('misses once, then answers from the cache with an Age', async () => {
      const path = '/v1/440/1700000000-1700003600-00001.zip';
      const first = await get(`${edge.url}${path}`);
      const second = await get(`${edge.url}${path}`);
      expect(first.headers['x-cache']).toBe('TCP_MISS');
      expect(second.headers['x-cache']).toBe('TCP_HIT');
      expect(second.headers.age).toMatch(/^\d+$/);
      expect(second.body).toBe(first.body);
      expect(second.headers['cache-control']).toBe('public, max-age=1209600, immutable');
    });

    it('answers a phone\'s conditional poll with 304 from the cache, by ETag or by date', async () => {
      const fresh = await get(`${edge.url}/v1/440/index.json`);
      const origin = () => edge.metrics().routes.exports.originRequests;
      const before = origin();
      const byTag = await get(`${edge.url}/v1/440/index.json`, { 'if-none-match': String(fresh.headers.etag) });
      const byDate = await get(`${edge.url}/v1/440/index.json`, { 'if-modified-since': String(fresh.headers['last-modified']) });
      expect([byTag.status, byTag.headers['x-cache'], byTag.body]).toEqual([304, 'TCP_HIT', '']);
      expect([byDate.status, byDate.headers['x-cache']]).toEqual([304, 'TCP_HIT']);
      expect(byTag.headers.etag).toBe(fresh.headers.etag);
      expect(byTag.headers['access-control-allow-origin']).toBe('*');
      expect(origin()).toBe(before);
      // A changed file (another ETag) is sent in full.
      const changed = await get(`${edge.url}/v1/440/index.json`, { 'if-none-match': '"0x8DC0FFEE"' });
      expect([changed.status, changed.body]).toEqual([200, '{"files":[]}']);
    });

    it('refuses a query string on a read before the cache or the origin (Blob storage would act on it)', async () => {
      const before = edge.metrics().routes.exports.originRequests;
      const refused = await get(`${edge.url}/v1/440/1700003600-1700007200-00001.zip?cache-buster=1`);
      expect([refused.status, JSON.parse(refused.body).code]).toEqual([429, 'edge_refused']);
      expect(edge.metrics().routes.exports.originRequests).toBe(before);
    });

    it('never answers HEAD from the cache (Front Door caches GET only)', async () => {
      await get(`${edge.url}/v1/440/index.txt`);
      const before = edge.metrics().routes.exports.originRequests;
      const head = await get(`${edge.url}/v1/440/index.txt`, {}, 'HEAD');
      expect([head.status, head.headers['x-cache'], head.body]).toEqual([200, 'TCP_MISS', '']);
      expect(edge.metrics().routes.exports.originRequests).toBe(before + 1);
    });

    it('refills a stale entry with one full GET, however many clients ask at once, and keeps it again', async () => {
      const origin = () => edge.metrics().routes.exports.originRequests;
      const before = origin();
      expect((await get(`${edge.url}${SHORT_LIVED}`)).headers['x-cache']).toBe('TCP_MISS');
      expect((await get(`${edge.url}${SHORT_LIVED}`)).headers['x-cache']).toBe('TCP_HIT');
      expect(origin()).toBe(before + 1);
      // Past s-maxage: Azurite would answer a conditional revalidation with a bare 304 that
      // refreshes nothing, so the edge drops the stale entry and fetches the file again.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const clients = await Promise.all(Array.from({ length: 30 }, () => get(`${edge.url}${SHORT_LIVED}`)));
      expect(clients.every((client) => client.status === 200 && client.body === 'short-lived')).toBe(true);
      expect(origin()).toBe(before + 2);
      expect(clients.filter((client) => client.headers['x-cache'] === 'TCP_MISS')).toHaveLength(1);
      expect((await get(`${edge.url}${SHORT_LIVED}`)).headers['x-cache']).toBe('TCP_HIT');
      expect(origin()).toBe(before + 2);
    });

    it('is emptied by a purge through the admin port, with Front Door\'s path semantics', async () => {
      const paths = ['/v1/440/index.txt', '/v1/440/index.json', '/v1/440/1700000000-1700003600-00001.zip'];
      for (const path of paths) await get(`${edge.url}${path}`);
      for (const path of paths) expect((await get(`${edge.url}${path}`)).headers['x-cache']).toBe('TCP_HIT');

      // An exact path (case-insensitive, like Front Door) drops just that entry.
      const purger = new LocalEdgePurger(edge.adminUrl);
      await expect(purger.purgeEntries(['/V1/440/INDEX.TXT'])).resolves.toBe(1);
      expect((await get(`${edge.url}/v1/440/index.txt`)).headers['x-cache']).toBe('TCP_MISS');
      expect((await get(`${edge.url}/v1/440/index.json`)).headers['x-cache']).toBe('TCP_HIT');

      // A /* prefix drops everything under it.
      await expect(purger.purgeEntries(['/v1/440/*'])).resolves.toBeGreaterThanOrEqual(3);
      for (const path of paths) expect((await get(`${edge.url}${path}`)).headers['x-cache']).toBe('TCP_MISS');
      expect(edge.metrics().cache.purges).toBeGreaterThanOrEqual(2);
    });
  });

  describe('the admin server', () => {
    it('answers bad purge requests with JSON errors and purges nothing', async () => {
      const post = (body: string, contentType = 'application/json') => request(`${edge.adminUrl}/purge`, { method: 'POST', headers: { 'content-type': contentType }, body });
      const cases: [Promise<Awaited<ReturnType<typeof post>>>, number, string][] = [
        [post('{"contentPaths":["index.txt"]}'), 400, 'invalid_content_paths'],
        [post('{"contentPaths":[]}'), 400, 'invalid_content_paths'],
        [post('{"paths":["/v1/*"]}'), 400, 'invalid_content_paths'],
        [post('not json'), 400, 'invalid_json'],
        [post('{"contentPaths":["/v1/*"]}', 'text/plain'), 415, 'unsupported_media_type'],
        [post(JSON.stringify({ contentPaths: Array.from({ length: 5000 }, (_, i) => `/v1/440/${'x'.repeat(10)}${i}`) })), 413, 'payload_too_large'],
      ];
      const purgesBefore = edge.metrics().cache.purges;
      for (const [pending, status, code] of cases) {
        const response = await pending;
        expect([response.statusCode, ((await response.body.json()) as { code: string }).code]).toEqual([status, code]);
      }
      expect(edge.metrics().cache.purges).toBe(purgesBefore);
      const wrongMethod = await request(`${edge.adminUrl}/purge`, { method: 'GET' });
      expect([wrongMethod.statusCode, wrongMethod.headers.allow]).toEqual([405, 'POST']);
      await wrongMethod.body.dump();
      const unknown = await request(`${edge.adminUrl}/v1/440/index.txt`);
      expect(unknown.statusCode).toBe(404);
      await unknown.body.dump();
    });

    it('serves per-route counters of hits, misses and origin requests', async () => {
      await get(`${edge.url}/v1/440/index.json`);
      const response = await request(`${edge.adminUrl}/metrics`);
      const metrics = (await response.body.json()) as ReturnType<LocalEdge['metrics']>;
      expect(response.statusCode).toBe(200);
      expect(metrics.routes.exports).toMatchObject({ requests: expect.any(Number), hits: expect.any(Number), misses: expect.any(Number), originRequests: expect.any(Number) });
      expect(metrics.routes.exports.hits).toBeGreaterThan(0);
      expect(metrics.routes.exports.hits + metrics.routes.exports.misses + metrics.routes.exports.wafBlocked).toBeLessThanOrEqual(metrics.routes.exports.requests);
      expect(metrics.routes.api.notCached).toBeGreaterThan(0);
      expect(metrics.routes.api.hits).toBe(0);
      expect(metrics.originGroups.exports.map((o) => o.name)).toEqual(['blob-primary', 'blob-secondary']);
      expect(metrics.cache.entries).toBeGreaterThan(0);
    });
  });
});

/** For the enclosing describe: a local edge with fresh WAF counters in front of an echoing API stand-in (which also answers the blob probes). */
function edgeBeforeEchoApi(): { api: OriginStandIn; edge: LocalEdge } {
  const stack = {} as { api: OriginStandIn; edge: LocalEdge };
  beforeAll(async () => {
    stack.api = await startOriginStandIn();
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: stack.api.url, blobPrimary: `${stack.api.url}/devstoreaccount1` })), 'local');
    stack.edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  });
  afterAll(async () => {
    await stack.edge?.stop();
    await stack.api?.stop();
  });
  return stack;
}

describe('the WAF rate limits of the local edge', () => {
  const stack = edgeBeforeEchoApi();

  const post = async (path: string, headers: Record<string, string> = {}) => {
    const response = await request(`${stack.edge.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    return { status: response.statusCode, body: await response.body.text() };
  };

  it(`answers 429 after ${RATE_LIMITS.publishPerMinute} publishes a minute from one socket address, whatever X-Forwarded-For says`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMITS.publishPerMinute; i += 1) statuses.push((await post('/api/v1/publish', { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const refused = await post('/api/v1/publish', { 'x-forwarded-for': '198.51.100.99' });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({ error: expect.any(String), code: 'edge_refused' });
    expect(stack.api.requestsTo('/api/v1/publish')).toHaveLength(RATE_LIMITS.publishPerMinute);
    expect(stack.edge.metrics().routes.api.wafBlocked).toBe(1);
  });

  it('counts register separately, and leaves other API paths alone', async () => {
    expect((await post('/api/v1/register')).status).toBe(200);
    const health = await request(`${stack.edge.url}/api/health`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    expect((await post('/api/v1/publish')).status).toBe(429);
  });
});

describe('the WAF rate limits of the local edge, on percent-encoded paths', () => {
  const stack = edgeBeforeEchoApi();

  it('counts percent-encoded publish paths towards the publish limit (UrlDecode, then Lowercase), even beside a malformed escape', async () => {
    // Azure Functions decodes the path before routing: each of these is a publish there.
    const variants = ['/api/v1/publish', '/api/v1/%70ublish', '/api/v1/%50UBLISH', '/api/v1/%70ublish?x=%zz'];
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMITS.publishPerMinute; i += 1) {
      const response = await request(`${stack.edge.url}${variants[i % variants.length]}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await response.body.dump();
      statuses.push(response.statusCode);
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    for (const variant of variants) {
      const refused = await request(`${stack.edge.url}${variant}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await refused.body.dump();
      expect([variant, refused.statusCode]).toEqual([variant, 429]);
    }
    expect(stack.api.requests.filter((r) => r.method === 'POST')).toHaveLength(RATE_LIMITS.publishPerMinute);
  });
});
