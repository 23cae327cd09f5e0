/**
 * The phone library against the real parts over real HTTP: export files in Azurite behind the
 * local edge (keyfront's Front Door declaration), and the write API on the Cosmos emulator behind
 * the same edge. Each bad answer of the issue gets its own region, so the cases stay independent:
 * a wrong signature, a truncated zip, an index naming a missing file, and HTML instead of an index.
 * After each, the phone's state is what it was before the sync.
 */
import { ClientError, Phone, register, sendChaff, upload, type PhoneState, type UploadRequest } from '../../client';
import { exposureId } from '../../exposures/exposure-store';
import { silentLogger } from '../../platform/log';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import { LogOnlyPurger } from '../../publisher/purgers/log-only';
import type { PublisherDeps } from '../../publisher/publisher-deps';
import { publishExports } from '../../publisher/run';
import { prepareStorage } from '../../publisher/setup';
import { auditPublished } from '../../scripts/drills/local/audit';
import { DRILL_PUBLISHER_SETTINGS, drillPublishNow, drillSigning } from '../../scripts/drills/local/drill-stack';
import { INDEX_CACHE_CONTROL } from '../../publisher/index-file';
import type { LocalEdge } from '../../edge-config/local-edge/server';
import { dailyKeys, REGION } from '../support/api-fixture';
import type { HttpApi } from '../support/http-api';
import { indexFile, startPhoneStack, zipFile, type PhoneStack } from './phone-stack';
import { exportPath, KEY_ID, KEY_VERSION, realExport, testAuthority, WINDOW_START, type TestAuthority } from './signed-exports';

const HOUR = 3600;

describe('a phone against the local edge, Azurite and the write API', () => {
  let stack: PhoneStack;
  let api: HttpApi;
  let edge: LocalEdge;
  let authority: TestAuthority;
  const first = exportPath(WINDOW_START - 2 * HOUR);
  const second = exportPath(WINDOW_START - HOUR);
  const third = exportPath(WINDOW_START);

  const apiRequests = () => Object.values(edge.metrics().routes).reduce((sum, route) => sum + route.notCached, 0);
  const phoneOf = (region: string, state?: PhoneState) =>
    new Phone({ baseUrl: edge.url, region, key: { publicKey: authority.publicPem, keyId: KEY_ID, keyVersion: KEY_VERSION }, retry: { attempts: 2, baseDelayInMs: 10 }, ...(state ? { state } : {}) });

  beforeAll(async () => {
    authority = testAuthority();
    const other = testAuthority();
    const good = async (start: number, region = '440') => zipFile(await realExport(authority, start, { region }));
    const path = (start: number, region: string) => exportPath(start, region);
    const truncated = (await realExport(authority, WINDOW_START, { region: '442' })).subarray(0, 200);
    stack = await startPhoneStack({
      [first]: await good(WINDOW_START - 2 * HOUR),
      [second]: await good(WINDOW_START - HOUR),
      [third]: await good(WINDOW_START),
      'v1/440/index.txt': indexFile([first, second]),
      // 441: the second file is signed by another key.
      [path(WINDOW_START - HOUR, '441')]: await good(WINDOW_START - HOUR, '441'),
      [path(WINDOW_START, '441')]: zipFile(await realExport(other, WINDOW_START, { region: '441' })),
      'v1/441/index.txt': indexFile([path(WINDOW_START - HOUR, '441'), path(WINDOW_START, '441')]),
      // 442: the second file is cut short.
      [path(WINDOW_START - HOUR, '442')]: await good(WINDOW_START - HOUR, '442'),
      [path(WINDOW_START, '442')]: zipFile(truncated),
      'v1/442/index.txt': indexFile([path(WINDOW_START - HOUR, '442'), path(WINDOW_START, '442')]),
      // 443: the index names a file that was never written.
      [path(WINDOW_START - HOUR, '443')]: await good(WINDOW_START - HOUR, '443'),
      'v1/443/index.txt': indexFile([path(WINDOW_START - HOUR, '443'), path(WINDOW_START, '443')]),
      // 444: an HTML page where the index should be (a captive portal, a misrouted origin).
      'v1/444/index.txt': { body: '<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>', contentType: 'text/html', cacheControl: INDEX_CACHE_CONTROL },
      // 445: HTML again, served as text/plain.
      'v1/445/index.txt': { body: '<html><body>Not here</body></html>\n', contentType: 'text/plain', cacheControl: INDEX_CACHE_CONTROL },
    });
    ({ api, edge } = stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('sync', () => {
    it('downloads and verifies every file of a fresh index, then polls with a 304, then fetches only what is new', async () => {
      const phone = phoneOf('440');
      const initial = await phone.sync();
      expect(initial.indexStatus).toBe(200);
      expect(initial.fetched.map((file) => file.path)).toEqual([first, second]);
      expect(initial.fetched.every((file) => file.keyCount === 20 && file.region === '440' && file.signatureInfo.verificationKeyId === KEY_ID)).toBe(true);
      expect(phone.state.files).toEqual([first, second]);
      expect(phone.state.index.etag).toEqual(expect.any(String));

      const idle = await phone.sync();
      expect(idle).toMatchObject({ indexStatus: 304, fetched: [], bodyBytes: 0, requests: 1 });

      await stack.fill({ 'v1/440/index.txt': indexFile([first, second, third]) });
      expect(edge.purge(['/v1/440/index.txt'])).toBe(1);
      const next = await phone.sync();
      expect(next.indexStatus).toBe(200);
      expect(next.fetched.map((file) => file.path)).toEqual([third]);
      expect(next.skipped).toEqual([first, second]);
      expect(phone.state.files).toEqual([first, second, third]);

      // A file leaving the index leaves the state.
      await stack.fill({ 'v1/440/index.txt': indexFile([second, third]) });
      edge.purge(['/v1/440/index.txt']);
      const pruned = await phone.sync();
      expect(pruned).toMatchObject({ fetched: [], dropped: [first], skipped: [second, third] });
      expect(phone.state.files).toEqual([second, third]);
    });

    it('a restored state goes on from where it was', async () => {
      const phone = phoneOf('440');
      await phone.sync();
      const restored = phoneOf('440', JSON.parse(JSON.stringify(phone.state)) as PhoneState);
      await expect(restored.sync()).resolves.toMatchObject({ indexStatus: 304 });
    });

    it.each([
      ['a file signed by another key', '441', 'signature_invalid'],
      ['a truncated zip', '442', 'zip_invalid'],
      ['an index naming a missing file', '443', 'file_missing'],
    ])('keeps the good file and reports %s with its code; the bad one stays pending', async (_name, region, code) => {
      const phone = phoneOf(region, { version: 1, region, index: { etag: '"stale"' }, files: [] });
      const report = await phone.sync();
      expect(report.fetched.map((file) => file.path)).toEqual([exportPath(WINDOW_START - HOUR, region)]);
      expect(report.failed).toEqual([expect.objectContaining({ path: exportPath(WINDOW_START, region), code, message: expect.stringMatching(/\w+ \w+ \w+/) })]);
      expect(phone.state).toMatchObject({ files: [exportPath(WINDOW_START - HOUR, region)], pending: [exportPath(WINDOW_START, region)] });
    });

    it.each([
      ['HTML served as the index', '444', 'not_an_index'],
      ['HTML served as text/plain', '445', 'not_an_index'],
    ])('refuses %s with a clear error and leaves the state unchanged', async (_name, region, code) => {
      const before: PhoneState = { version: 1, region, index: { etag: '"stale"' }, files: [] };
      const phone = phoneOf(region, before);
      const error = (await phone.sync().catch((e: unknown) => e)) as ClientError;
      expect(error).toBeInstanceOf(ClientError);
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(20);
      expect(phone.state).toEqual(before);
    });

    it('reports a base URL the edge does not serve as edge_refused, with the path, after one request', async () => {
      let requests = 0;
      const phone = new Phone({ baseUrl: `${edge.url}/typo`, region: '440', key: { publicKey: authority.publicPem }, env: { fetch: (url, init) => (requests++, fetch(url, init)) } });
      await expect(phone.sync()).rejects.toMatchObject({ code: 'edge_refused', statusCode: 429, message: expect.stringContaining('GET /typo/v1/440/index.txt') });
      expect(requests).toBe(1);
    });

    it('says so when the region has no index at all (404)', async () => {
      await expect(phoneOf('449').sync()).rejects.toMatchObject({ code: 'not_an_index', statusCode: 404 });
    });

    it('gives up with network_error when nothing listens', async () => {
      const phone = new Phone({ baseUrl: 'http://127.0.0.1:9', region: '440', key: { publicKey: authority.publicPem }, retry: { attempts: 2, baseDelayInMs: 1 } });
      await expect(phone.sync()).rejects.toMatchObject({ code: 'network_error' });
      expect(phone.state.files).toEqual([]);
    });
  });

  describe('register and upload through the edge', () => {
    it('registers, uploads keys with a certificate, and sends chaff that stores nothing', async () => {
      const registration = await register(edge.url);
      expect(registration).toEqual({ userUuid: expect.stringMatching(/^[0-9a-f-]{36}$/), secret: expect.any(String) });
      const keys = dailyKeys(3);
      const body = await api.fixture.publishBody(keys);
      const result = await upload(edge.url, body as unknown as UploadRequest, { registration });
      expect(result).toEqual({ revisionToken: expect.any(String), insertedExposures: 3 });

      const stored = await api.snapshot();
      await sendChaff(edge.url, { registration });
      expect(await api.snapshot()).toEqual(stored);
    });

    it('sends an upload again when its answer is lost: the API stores each key once, the publisher publishes each once', async () => {
      const keys = dailyKeys(3);
      const body = (await api.fixture.publishBody(keys)) as unknown as UploadRequest;
      let publishes = 0;
      // The first upload reaches the API and is stored; its answer never reaches the phone.
      const losingFirstAnswer = async (url: string, init?: RequestInit): Promise<Response> => {
        const response = await fetch(url, init);
        if (url.endsWith('/api/v1/publish') && publishes++ === 0) {
          await response.arrayBuffer();
          throw new TypeError('fetch failed: the connection dropped before the answer');
        }
        return response;
      };
      const before = new Set(await api.snapshot());
      const phone = new Phone({ baseUrl: edge.url, region: REGION, env: { fetch: losingFirstAnswer }, uploadRetry: { baseDelayInMs: 10 } });
      await expect(phone.upload(body, { register: true })).resolves.toEqual({ revisionToken: expect.any(String), insertedExposures: 0 });
      expect(publishes).toBe(2);
      expect(phone.state.uploads).toBeUndefined();

      const added = (await api.snapshot()).filter((entry) => !before.has(entry)).map((entry) => entry.split(':')[0]);
      expect(added.sort()).toEqual(keys.map((key) => exposureId(REGION, Buffer.from(key.key, 'base64'))).sort());

      const blob = (name: string) => AzureBlobWriter.fromConnectionString(stack.azurite.connectionString, name);
      const deps: PublisherDeps = { store: api.fixture.store, exports: blob('exports-retried-upload'), state: blob('state-retried-upload'), signer: drillSigning().signer, purger: new LogOnlyPurger(silentLogger), logger: silentLogger, settings: { ...DRILL_PUBLISHER_SETTINGS, regions: [REGION], windowSeconds: 86400 } };
      await prepareStorage(deps);
      await publishExports(deps, { now: drillPublishNow() });
      const audit = await auditPublished(deps.exports, REGION, new Set(keys.map((key) => Buffer.from(key.key, 'base64').toString('hex'))));
      expect(audit).toMatchObject({ duplicateKeys: 0, missingKeys: [], danglingIndexEntries: [] });
      expect(audit.filesRead).toBeGreaterThan(0);
    });

    it('passes on the API\'s refusal code (and does not retry a 4xx)', async () => {
      const registration = await register(edge.url);
      const body = await api.fixture.publishBody(dailyKeys(2));
      const requestsBefore = apiRequests();
      const error = (await upload(edge.url, { ...(body as unknown as UploadRequest), verificationPayload: 'not.a.jwt' }, { registration }).catch((e: unknown) => e)) as ClientError;
      expect(error).toMatchObject({ code: 'http_error', statusCode: 401, serverCode: 'health_authority_verification_certificate_invalid' });
      expect(apiRequests() - requestsBefore).toBe(1);
    });

    it('an upload without registration is refused as unauthorized', async () => {
      const body = await api.fixture.publishBody(dailyKeys(1));
      await expect(upload(edge.url, body as unknown as UploadRequest)).rejects.toMatchObject({ statusCode: 401, serverCode: 'unauthorized' });
    });
  });
});
