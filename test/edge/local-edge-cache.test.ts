/**
 * Front Door's cache rules on the local edge, against a programmable origin standing in for the
 * storage account (so a test can send Age, Expires, private or Set-Cookie, or hold an answer back).
 */
import { get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'undici';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { waitFor } from '../support/exports-fixture';
import { startOriginStandIn, type OriginRequest, type OriginStandIn } from '../support/origin-stand-in';

const FDID = '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d';

/** Per path (after `/primary/exports`): the headers the origin answers with. */
const answers = new Map<string, Record<string, string | string[]>>();
/** Paths whose answer waits until released. */
const held = new Map<string, Promise<void>>();
/** Paths whose answer sends half its body, then waits until released. */
const halfway = new Map<string, Promise<void>>();

function hold(path: string): () => void {
  let release = () => undefined as void;
  held.set(
    path,
    new Promise<void>((resolve) => {
      release = resolve;
    }),
  );
  return () => release();
}

async function answer(request: OriginRequest, res: ServerResponse): Promise<void> {
  const path = request.url.replace(/^\/(primary|secondary)\/exports/, '');
  if (path === '/v1/440/index.txt') {
    res.writeHead(200, { 'cache-control': 'no-store' }).end('probe');
    return;
  }
  await held.get(path);
  const headers = answers.get(path);
  const pause = halfway.get(path);
  if (headers && pause) {
    const body = Buffer.alloc(256 * 1024, 0x61);
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(body.length), etag: `"${path.length}"`, ...headers });
    res.write(body.subarray(0, body.length / 2));
    await pause;
    res.end(body.subarray(body.length / 2));
    return;
  }
  if (!headers) {
    res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>BlobNotFound</Code></Error>');
    return;
  }
  const body = `body of ${path}`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), etag: `"${path.length}"`, 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT', ...headers });
  res.end(body);
}

describe('the local edge cache follows Front Door\'s rules', () => {
  let origin: OriginStandIn;
  let edge: LocalEdge;
  let counter = 0;

  beforeAll(async () => {
    origin = await startOriginStandIn(answer);
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: origin.url, blobPrimary: `${origin.url}/primary`, blobSecondary: `${origin.url}/secondary` })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  /** A fresh path answered with these headers. */
  function file(headers: Record<string, string | string[]>): string {
    counter += 1;
    // A name the publisher writes: the WAF refuses every other path on the storage routes.
    const path = `/v1/test/${1_700_000_000 + counter}-${1_700_003_600 + counter}-00001.zip`;
    answers.set(path, headers);
    return path;
  }
  const originRequestsFor = (path: string) => origin.requests.filter((r) => r.url === `/primary/exports${path}`).length;
  async function get(path: string, headers: Record<string, string> = {}) {
    const response = await request(`${edge.url}${path}`, { headers });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  }
  /** `count` clients asking for `path` at once; resolves when all are inside the edge and the origin was asked (its answer held). */
  async function concurrentClients(path: string, count: number) {
    const before = edge.metrics().routes.exports.requests;
    const clients = Array.from({ length: count }, () => get(path));
    await waitFor('all clients to reach the edge', () => edge.metrics().routes.exports.requests - before === count);
    await waitFor('the origin to be asked', () => originRequestsFor(path) >= 1);
    return clients;
  }
  async function twice(path: string) {
    const first = await get(path);
    const second = await get(path);
    return { first, second, xCache: [first.headers['x-cache'], second.headers['x-cache']], originRequests: originRequestsFor(path) };
  }

  it.each<[string, Record<string, string>, string[]]>([
    ['s-maxage is the shared lifetime, before max-age', { 'cache-control': 'max-age=600, s-maxage=5', age: '10' }, ['TCP_MISS', 'TCP_MISS']],
    ['max-age counts when there is no s-maxage', { 'cache-control': 'max-age=600', age: '10' }, ['TCP_MISS', 'TCP_HIT']],
    ['max-age comes before Expires', { 'cache-control': 'max-age=5', age: '10', expires: new Date(Date.now() + 3600_000).toUTCString() }, ['TCP_MISS', 'TCP_MISS']],
    ['Expires counts when there is no max-age', { expires: new Date(Date.now() + 3600_000).toUTCString() }, ['TCP_MISS', 'TCP_HIT']],
    ['an Expires in the past means stale', { expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }, ['TCP_MISS', 'TCP_MISS']],
  ])('%s', async (_rule, headers, expected) => {
    const result = await twice(file(headers));
    expect(result.xCache).toEqual(expected);
    expect(result.originRequests).toBe(expected[1] === 'TCP_HIT' ? 1 : 2);
  });

  it.each<[string, Record<string, string>]>([
    ['private', { 'cache-control': 'private, s-maxage=600' }],
    ['no-store', { 'cache-control': 'no-store, s-maxage=600' }],
    ['no-cache', { 'cache-control': 'no-cache, s-maxage=600' }],
    ['Set-Cookie', { 'cache-control': 'public, s-maxage=600', 'set-cookie': 'session=abc; Secure' }],
  ])('never caches an answer with %s (X-Cache: PRIVATE_NOSTORE)', async (_what, headers) => {
    const path = file(headers);
    const result = await twice(path);
    expect(result.xCache).toEqual(['PRIVATE_NOSTORE', 'PRIVATE_NOSTORE']);
    expect(result.originRequests).toBe(2);
    if (headers['set-cookie']) expect(result.second.headers['set-cookie']).toBe('session=abc; Secure');
  });

  it('keeps an answer without freshness information for Front Door\'s default lifetime, and shows the client the origin\'s headers', async () => {
    const path = file({});
    const result = await twice(path);
    expect(result.xCache).toEqual(['TCP_MISS', 'TCP_HIT']);
    expect(result.originRequests).toBe(1);
    for (const response of [result.first, result.second]) {
      expect(response.headers['cache-control']).toBeUndefined();
      expect(Object.keys(response.headers).filter((name) => name.startsWith('x-keyfront'))).toEqual([]);
    }
  });

  it('does not keep a 404', async () => {
    const result = await twice('/v1/test/1699996400-1700000000-00001.zip');
    expect([result.first.status, result.second.status]).toEqual([404, 404]);
    expect(result.originRequests).toBe(2);
  });

  it('ignores a client\'s no-cache: phones cannot make the edge go to the origin', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    await get(path);
    const forced = await get(path, { 'cache-control': 'no-cache', pragma: 'no-cache' });
    expect(forced.headers['x-cache']).toBe('TCP_HIT');
    expect(originRequestsFor(path)).toBe(1);
  });

  it('answers a conditional request that misses with 304, and still keeps the full answer', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    const conditional = await get(path, { 'if-none-match': `"${path.length}"` });
    expect([conditional.status, conditional.headers['x-cache'], conditional.body]).toEqual([304, 'TCP_MISS', '']);
    // The origin got a plain GET: the edge needs the body for its cache.
    const seen = origin.requests.filter((r) => r.url === `/primary/exports${path}`);
    expect(seen.map((r) => r.headers['if-none-match'])).toEqual([undefined]);
    const full = await get(path);
    expect([full.status, full.headers['x-cache'], full.body]).toEqual([200, 'TCP_HIT', `body of ${path}`]);
    expect(originRequestsFor(path)).toBe(1);
  });

  it('keeps filling the cache after a 304 went out while the origin\'s body still streams in', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    let release = () => undefined as void;
    halfway.set(path, new Promise<void>((resolve) => (release = resolve)));
    const conditional = await get(path, { 'if-none-match': `"${path.length}"` });
    expect([conditional.status, conditional.headers['x-cache']]).toEqual([304, 'TCP_MISS']);
    release();
    // Answered from the cache the 304's fill completed (or waits for it to complete): no second origin request.
    const full = await get(path);
    expect([full.status, full.headers['x-cache'], full.body.length]).toEqual([200, 'TCP_HIT', 256 * 1024]);
    expect(originRequestsFor(path)).toBe(1);
  });

  it('collapses concurrent misses for one path into one origin request', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    const release = hold(path);
    const collapsedBefore = edge.metrics().routes.exports.collapsed;
    // Every client is inside the edge (waiting) before the origin answers.
    const clients = await concurrentClients(path, 25);
    release();
    const responses = await Promise.all(clients);
    expect(responses.every((r) => r.status === 200 && r.body === `body of ${path}`)).toBe(true);
    expect(originRequestsFor(path)).toBe(1);
    // One filled the cache; the others waited for it and were answered from the cache.
    expect(responses.filter((r) => r.headers['x-cache'] === 'TCP_MISS')).toHaveLength(1);
    expect(responses.filter((r) => r.headers['x-cache'] === 'TCP_HIT')).toHaveLength(24);
    expect(edge.metrics().routes.exports.collapsed - collapsedBefore).toBe(24);
  });

  it('also collapses requests that arrive while the first answer is streaming in', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    let release = () => undefined as void;
    halfway.set(path, new Promise<void>((resolve) => (release = resolve)));
    const first = await request(`${edge.url}${path}`);
    // Headers and half the body are through the edge; the rest is held at the origin.
    expect(first.statusCode).toBe(200);
    const before = edge.metrics().routes.exports.requests;
    const late = Array.from({ length: 10 }, () => get(path));
    await waitFor('the late clients to reach the edge', () => edge.metrics().routes.exports.requests - before === 10);
    release();
    expect((await first.body.arrayBuffer()).byteLength).toBe(256 * 1024);
    const responses = await Promise.all(late);
    expect(responses.every((r) => r.status === 200 && r.body.length === 256 * 1024 && r.headers['x-cache'] === 'TCP_HIT')).toBe(true);
    expect(originRequestsFor(path)).toBe(1);
  });

  it('keeps filling for the waiting clients when the client that started the fill leaves', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    let release = () => undefined as void;
    halfway.set(path, new Promise<void>((resolve) => (release = resolve)));
    const leaving = httpGet(`${edge.url}${path}`);
    const first = await new Promise<IncomingMessage>((resolve) => leaving.once('response', resolve));
    expect(first.headers['x-cache']).toBe('TCP_MISS');
    const before = edge.metrics().routes.exports.requests;
    const waiting = Array.from({ length: 10 }, () => get(path));
    await waitFor('the waiting clients to reach the edge', () => edge.metrics().routes.exports.requests - before === 10);
    const disconnectsBefore = edge.metrics().routes.exports.clientDisconnects;
    leaving.destroy();
    await waitFor('the edge to see the client leave', () => edge.metrics().routes.exports.clientDisconnects === disconnectsBefore + 1);
    release();
    const responses = await Promise.all(waiting);
    expect(responses.every((r) => r.status === 200 && r.body.length === 256 * 1024 && r.headers['x-cache'] === 'TCP_HIT')).toBe(true);
    expect(originRequestsFor(path)).toBe(1);
  });

  it('makes the clients that waited for a fill a purge discarded wait for the next fill, not all go to the origin', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    const release = hold(path);
    const clients = await concurrentClients(path, 10);
    // The answer under way predates the purge: it is not kept, and one waiter fetches it again for all.
    edge.purge([path]);
    release();
    const responses = await Promise.all(clients);
    expect(responses.every((r) => r.status === 200 && r.body === `body of ${path}`)).toBe(true);
    expect(originRequestsFor(path)).toBe(2);
    expect(responses.filter((r) => r.headers['x-cache'] === 'TCP_MISS')).toHaveLength(2);
    held.delete(path);
  });

  it('sends the waiters of an answer the cache may not keep on to the origin together, not one after another', async () => {
    const path = file({ 'cache-control': 'private, max-age=600' });
    const releaseFirst = hold(path);
    const clients = await concurrentClients(path, 5);
    // The waiters' own answers are held too: all four reach the origin only if none waits for another.
    const releaseWaiters = hold(path);
    releaseFirst();
    await waitFor('the four waiters to reach the origin', () => originRequestsFor(path) === 5);
    releaseWaiters();
    const responses = await Promise.all(clients);
    expect(responses.map((r) => r.headers['x-cache'])).toEqual(Array(5).fill('PRIVATE_NOSTORE'));
    held.delete(path);
  });

  it('does not keep an answer whose fetch began before a purge of its path', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    const release = hold(path);
    const pending = get(path);
    await waitFor('the origin to be asked', () => originRequestsFor(path) === 1);
    expect(edge.purge([path])).toBe(0);
    release();
    expect((await pending).headers['x-cache']).toBe('TCP_MISS');
    held.delete(path);
    // The answer may predate what the purge announced: the next client gets a fresh fetch, which is kept.
    expect((await get(path)).headers['x-cache']).toBe('TCP_MISS');
    expect((await get(path)).headers['x-cache']).toBe('TCP_HIT');
    expect(originRequestsFor(path)).toBe(2);
  });

  it('holds at most cacheMaxBytes, dropping the least recently used entries, and counts only what it holds', async () => {
    const small = await startLocalEdge(validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: origin.url, blobPrimary: `${origin.url}/primary` })), 'local'), { frontDoorId: FDID, probeIntervalInMs: 60_000, cacheMaxBytes: 160 });
    try {
      const fetch = async (path: string) => {
        const response = await request(`${small.url}${path}`);
        await response.body.dump();
        return response.headers['x-cache'];
      };
      // Bodies of 48 bytes ("body of /v1/test/{start}-{end}-00001.zip"): three fit in 160 bytes, four do not.
      const paths = Array.from({ length: 6 }, () => file({ 'cache-control': 'public, max-age=600' }));
      for (const path of paths) expect(await fetch(path)).toBe('TCP_MISS');
      expect(small.metrics().cache).toMatchObject({ entries: 3, bytes: expect.any(Number) });
      expect(small.metrics().cache.bytes).toBeLessThanOrEqual(160);
      expect(await fetch(paths[5])).toBe('TCP_HIT');
      expect(await fetch(paths[0])).toBe('TCP_MISS');
    } finally {
      await small.stop();
    }
  });

  it('sends an origin the edge\'s headers on cached routes with the FDID and the container path, and no client header the rules delete', async () => {
    const path = file({ 'cache-control': 'public, max-age=600' });
    await get(path, { cookie: 'tracking=1', authorization: 'Bearer secret', 'x-azure-fdid': 'spoofed', 'user-agent': 'phone/1.0' });
    const seen = origin.requests.find((r) => r.url === `/primary/exports${path}`);
    expect(seen?.headers).toMatchObject({ 'x-azure-fdid': FDID, 'x-forwarded-host': new URL(edge.url).host });
    expect(seen?.headers.cookie).toBeUndefined();
    expect(seen?.headers.authorization).toBeUndefined();
    // What Blob storage ignores goes on, as Front Door passes it.
    expect(seen?.headers['user-agent']).toBe('phone/1.0');
    expect(Object.keys(seen?.headers ?? {}).filter((name) => name.startsWith('x-keyfront'))).toEqual([]);
  });
});
