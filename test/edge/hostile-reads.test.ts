/**
 * Issue 11 through real HTTP: every hostile read of the corpus is sent to the local edge (serving
 * keyfront's declaration) in front of Azurite, right after a purge of everything, so the file it
 * aims at is cold. After each, plain reads of every file must return the published bytes, from the
 * origin and then from the cache; a recording proxy in front of Azurite shows that no origin
 * request carried a query or a header Blob storage reads.
 */
import { request } from 'undici';
import { localEdgeEnvironment } from '../../edge-config/config';
import { BLOB_REQUEST_HEADERS, keyfrontEdge, SITE_SECURITY_HEADERS } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { fillExports } from '../support/exports-fixture';
import { startOriginStandIn, type OriginStandIn } from '../support/origin-stand-in';
import { CORPUS_FILES, HOSTILE_READS, type CorpusPath, type HostileRead } from './hostile-reads';
import { rawRequest, startRecordingProxy, type RecordingProxy } from './raw-http';

const FDID = '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d';
// What the rules delete, and the ranges and conditionals Front Door's cache answers itself: none reaches Blob storage.
const BLOB_HEADERS = new Set([...BLOB_REQUEST_HEADERS, 'Range', 'If-Range', 'If-Match', 'If-Unmodified-Since'].map((name) => name.toLowerCase()));
const PATHS = Object.keys(CORPUS_FILES) as CorpusPath[];

/** The corpus file a target aims at, if any (its path without the query). */
function fileOf(target: string): CorpusPath | undefined {
  const path = target.split('?')[0];
  return (PATHS as string[]).includes(path) ? (path as CorpusPath) : undefined;
}

async function plainGet(url: string) {
  const response = await request(url);
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()).toString('latin1') };
}

describe('hostile reads against the local edge, right after a purge, on cold files', () => {
  let azurite: Azurite;
  let api: OriginStandIn;
  let proxy: RecordingProxy;
  let edge: LocalEdge;
  const counts = { tried: 0, cachedWrong: 0, originRequests: 0, originWithQuery: 0, originWithBlobHeader: 0 };

  beforeAll(async () => {
    [azurite, api] = await Promise.all([startAzurite(), startOriginStandIn()]);
    await fillExports(azurite.connectionString, Object.fromEntries(Object.values(CORPUS_FILES).map((file) => [file.blob, { body: file.body, contentType: file.contentType, cacheControl: file.cacheControl }])));
    proxy = await startRecordingProxy(new URL(azurite.blobEndpoint).origin);
    const account = new URL(azurite.blobEndpoint).pathname;
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: api.url, blobPrimary: `${proxy.url}${account}` })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  });
  afterAll(async () => {
    await edge?.stop();
    await proxy?.stop();
    await Promise.all([azurite?.stop(), api?.stop()]);
  });

  it(`holds at least 50 hostile reads (${HOSTILE_READS.length})`, () => {
    expect(HOSTILE_READS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(HOSTILE_READS.map((c) => c.name)).size).toBe(HOSTILE_READS.length);
  });

  it.each(HOSTILE_READS.map((c) => [c.name, c] as const))('%s: changes nothing a later plain read receives', async (_name, hostile: HostileRead) => {
    edge.purge(['/*']);
    const before = proxy.requests.length;
    counts.tried += 1;
    const answer = await rawRequest(edge.url, hostile);
    expect(answer.status).toBeLessThan(500);

    if (hostile.outcome === 'refused') {
      // Refused by the HTTP layer (`transport`), the answer may be a reset instead of its 4xx: Node 24
      // resets a client still sending a header past the limit, at times before the 431 arrives.
      const refusedByTransport = hostile.transport !== undefined && answer.status === 0 && answer.reset;
      expect([hostile.target, (answer.status >= 400 && answer.status < 500) || refusedByTransport]).toEqual([hostile.target, true]);
      if (!hostile.transport && hostile.method !== 'HEAD') expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ error: expect.any(String), code: expect.stringMatching(/^(edge_refused|bad_request)$/) });
      expect(proxy.requests.length).toBe(before);
    } else {
      expect([200, 304]).toContain(answer.status);
      const file = fileOf(hostile.target);
      if (answer.status === 200 && hostile.method === 'GET' && file) expect(answer.body.toString('latin1')).toBe(CORPUS_FILES[file].body);
    }

    for (const path of PATHS) {
      const first = await plainGet(`${edge.url}${path}`);
      const second = await plainGet(`${edge.url}${path}`);
      const wrong = [first, second].some((read) => read.status !== 200 || read.body !== CORPUS_FILES[path].body || read.headers['content-type'] !== CORPUS_FILES[path].contentType);
      if (wrong) counts.cachedWrong += 1;
      expect([path, first.status, first.body, first.headers['content-type']]).toEqual([path, 200, CORPUS_FILES[path].body, CORPUS_FILES[path].contentType]);
      expect([path, second.status, second.body, second.headers['x-cache']]).toEqual([path, 200, CORPUS_FILES[path].body, 'TCP_HIT']);
    }

    const reached = proxy.requests.slice(before);
    counts.originRequests += reached.length;
    const withQuery = reached.filter((r) => r.url.includes('?'));
    const withBlobHeader = reached.filter((r) => Object.keys(r.headers).some((name) => BLOB_HEADERS.has(name)));
    counts.originWithQuery += withQuery.length;
    counts.originWithBlobHeader += withBlobHeader.length;
    expect(withQuery.map((r) => r.url)).toEqual([]);
    expect(withBlobHeader.map((r) => Object.keys(r.headers).filter((name) => BLOB_HEADERS.has(name)))).toEqual([]);
    // Every origin request is a GET or HEAD of a published blob, by its one name.
    for (const r of reached) expect([r.method, Object.values(CORPUS_FILES).some((file) => r.url.endsWith(`/exports/${file.blob}`))]).toEqual([expect.stringMatching(/^(GET|HEAD)$/), true]);
  });

  it('tried every case: nothing cached wrong, no origin request carried a query or a Blob header', () => {
    expect(counts).toEqual({ tried: HOSTILE_READS.length, cachedWrong: 0, originRequests: expect.any(Number), originWithQuery: 0, originWithBlobHeader: 0 });
    process.stdout.write(`hostile reads: ${JSON.stringify(counts)}\n`);
  });

  describe('the transparency page', () => {
    it('serves / from the blob site/index.html with the page\'s security headers, cached under /', async () => {
      edge.purge(['/']);
      const first = await plainGet(`${edge.url}/`);
      const second = await plainGet(`${edge.url}/`);
      expect([first.status, first.body, first.headers['x-cache'], second.headers['x-cache']]).toEqual([200, CORPUS_FILES['/'].body, 'TCP_MISS', 'TCP_HIT']);
      for (const [name, value] of Object.entries(SITE_SECURITY_HEADERS)) expect([name, first.headers[name.toLowerCase()], second.headers[name.toLowerCase()]]).toEqual([name, value, value]);
      expect(proxy.requests.at(-1)?.url).toMatch(/\/exports\/site\/index\.html$/);
      // The publisher purges "/" with the index: the next read goes to the origin again.
      edge.purge(['/']);
      expect((await plainGet(`${edge.url}/`)).headers['x-cache']).toBe('TCP_MISS');
    });

    it('serves /site/* files with the security headers and HEAD, and no CORS on the page', async () => {
      const js = await plainGet(`${edge.url}/site/app.js`);
      expect([js.status, js.body, js.headers['content-security-policy'], js.headers['referrer-policy'], js.headers['x-content-type-options']]).toEqual([200, CORPUS_FILES['/site/app.js'].body, SITE_SECURITY_HEADERS['Content-Security-Policy'], 'no-referrer', 'nosniff']);
      expect(js.headers['access-control-allow-origin']).toBeUndefined();
      const head = await request(`${edge.url}/site/app.js`, { method: 'HEAD' });
      await head.body.dump();
      expect([head.statusCode, head.headers['content-security-policy']]).toEqual([200, SITE_SECURITY_HEADERS['Content-Security-Policy']]);
      // The exports keep CORS and carry no page policy.
      const index = await plainGet(`${edge.url}/v1/440/index.txt`);
      expect([index.headers['access-control-allow-origin'], index.headers['content-security-policy']]).toEqual(['*', undefined]);
    });
  });

  it('never caches an origin error: a missing file the publisher may write later is asked for again', async () => {
    const missing = '/v1/440/1700007200-1700010800-00001.zip';
    const before = proxy.requests.length;
    const first = await plainGet(`${edge.url}${missing}`);
    const second = await plainGet(`${edge.url}${missing}`);
    expect([first.status, second.status, second.headers['x-cache']]).toEqual([404, 404, 'TCP_MISS']);
    expect(proxy.requests.slice(before).map((r) => r.url)).toEqual([expect.stringMatching(/1700007200-1700010800-00001\.zip$/), expect.stringMatching(/1700007200-1700010800-00001\.zip$/)]);
    // Once the publisher writes it, the very next read has it.
    await fillExports(azurite.connectionString, { 'v1/440/1700007200-1700010800-00001.zip': { body: 'PK\u0003\u0004 third', contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable' } });
    expect((await plainGet(`${edge.url}${missing}`)).body).toBe('PK\u0003\u0004 third');
  });
});
