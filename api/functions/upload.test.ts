import { exposureId, type Exposure } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { ReportType } from '../../proto/tek';
import { createApiFixture, dailyKeys, NOW, REGION, type ApiFixture } from '../../test/support/api-fixture';

async function all(store: MemoryExposureStore): Promise<Exposure[]> {
  const out: Exposure[] = [];
  for await (const page of store.listForPublication(REGION, 0, 2 ** 31)) out.push(...page);
  return out;
}

describe('POST /api/v1/publish', () => {
  let api: ApiFixture;
  let store: MemoryExposureStore;
  let caller: Record<string, string>;

  beforeEach(async () => {
    store = new MemoryExposureStore();
    api = createApiFixture({ store });
    caller = await api.callerHeaders();
  });

  it('stores every key with the report type of the certificate, upload time and publishAt, and answers a token', async () => {
    const keys = dailyKeys(14);
    const response = await api.invoke('publish', { headers: caller, body: await api.publishBody(keys) });
    expect(response.status).toBe(200);
    expect(response.json.insertedExposures).toBe(14);
    expect(typeof response.json.revisionToken).toBe('string');
    const stored = await all(store);
    expect(stored).toHaveLength(14);
    const uploadedAt = NOW.getTime() / 1000;
    for (const exposure of stored) {
      expect(exposure.region).toBe(REGION);
      expect(exposure.tek.reportType).toBe(ReportType.CONFIRMED_TEST);
      expect(exposure.uploadedAt).toBe(uploadedAt);
      expect(exposure.publishAt).toBeGreaterThanOrEqual(uploadedAt);
      expect(exposure.healthAuthorityId).toBe('dev');
      expect(exposure.id).toBe(exposureId(REGION, exposure.tek.keyData));
    }
  });

  it('stores nothing twice when the same keys are uploaded again, and answers 0 inserted', async () => {
    const keys = dailyKeys(5);
    expect((await api.invoke('publish', { headers: caller, body: await api.publishBody(keys) })).json.insertedExposures).toBe(5);
    const again = await api.invoke('publish', { headers: caller, body: await api.publishBody(keys) });
    expect(again.status).toBe(200);
    expect(again.json.insertedExposures).toBe(0);
    expect(store.size).toBe(5);
  });

  it('leaves out keys further than 14 days from the onset (GAEN)', async () => {
    const keys = dailyKeys(14);
    const onset = keys[0].rollingStartNumber - 19 * 144; // 20 days ago: keys of 1 to 5 days ago are 15 to 19 days after it
    const response = await api.invoke('publish', { headers: caller, body: await api.publishBody(keys, { symptomOnsetInterval: onset }) });
    expect(response.json.insertedExposures).toBe(9);
    const stored = await all(store);
    expect(stored.map((e) => e.tek.daysSinceOnsetOfSymptoms).sort((a, b) => a! - b!)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('stores, for keys whose onset is known, the days since onset', async () => {
    const keys = dailyKeys(14);
    const onset = keys[2].rollingStartNumber; // three days ago
    await api.invoke('publish', { headers: caller, body: await api.publishBody(keys, { symptomOnsetInterval: onset }) });
    const byStart = new Map((await all(store)).map((e) => [e.tek.rollingStartIntervalNumber, e.tek.daysSinceOnsetOfSymptoms]));
    expect(byStart.get(keys[0].rollingStartNumber)).toBe(2);
    expect(byStart.get(keys[2].rollingStartNumber)).toBe(0);
    expect(byStart.get(keys[13].rollingStartNumber)).toBe(-11);
  });

  it('takes the onset of the request when the certificate has none', async () => {
    const keys = dailyKeys(2);
    await api.invoke('publish', { headers: caller, body: await api.publishBody(keys, {}, { symptomOnsetInterval: keys[1].rollingStartNumber }) });
    const byStart = new Map((await all(store)).map((e) => [e.tek.rollingStartIntervalNumber, e.tek.daysSinceOnsetOfSymptoms]));
    expect(byStart.get(keys[0].rollingStartNumber)).toBe(1);
  });

  it('answers chaff like an upload, after the body checks, without touching the store or needing a caller', async () => {
    const keys = dailyKeys(14);
    const real = await api.invoke('publish', { headers: caller, body: await api.publishBody(dailyKeys(14)) });
    const before = store.size;
    const chaff = await api.invoke('publish', { headers: { 'x-chaff': '1' }, body: { ...(await api.publishBody(keys)), verificationPayload: 'x' } });
    expect(chaff.status).toBe(200);
    expect(chaff.text.length).toBe(real.text.length);
    expect((chaff.json.revisionToken as string).length).toBe((real.json.revisionToken as string).length);
    expect(store.size).toBe(before);
    // Checks 1-2 still apply to chaff.
    expect((await api.invoke('publish', { headers: { 'x-chaff': '1' }, body: '{', noFrontDoor: true })).json.code).toBe('front_door_required');
    expect((await api.invoke('publish', { headers: { 'x-chaff': '1', 'content-type': 'application/json' }, body: '{' })).json.code).toBe('bad_request');
  });

  it('answers chaff as late as real uploads are answered, never from a fixed short delay', async () => {
    const waits: number[] = [];
    const slowStore = new MemoryExposureStore();
    const insert = slowStore.insert.bind(slowStore);
    // Real uploads take at least 100 ms here (a slow store); chaff must take as long.
    slowStore.insert = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return insert(...args);
    };
    const slow = createApiFixture({ store: slowStore, sleep: async (ms) => void waits.push(ms) });
    const chaffBody = { ...(await slow.publishBody(dailyKeys(14))), verificationPayload: 'x' };
    await slow.invoke('publish', { headers: { 'x-chaff': '1' }, body: chaffBody });
    expect(waits).toEqual([]); // no real upload to imitate yet
    const slowCaller = await slow.callerHeaders();
    const durations: number[] = [];
    for (let i = 0; i < 3; i++) {
      const body = await slow.publishBody(dailyKeys(2));
      const started = performance.now();
      expect((await slow.invoke('publish', { headers: slowCaller, body })).status).toBe(200);
      durations.push(performance.now() - started);
    }
    await slow.invoke('publish', { headers: { 'x-chaff': '1' }, body: chaffBody });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(Math.max(...durations));
  });

  it('pads success and refusal to the same size', async () => {
    const ok = await api.invoke('publish', { headers: caller, body: await api.publishBody(dailyKeys(14)) });
    const refused = await api.invoke('publish', { headers: caller, body: { ...(await api.publishBody(dailyKeys(14))), healthAuthorityID: 'other' } });
    expect(refused.status).toBe(401);
    expect(ok.text.length).toBe(1024);
    expect(refused.text.length).toBe(1024);
  });

  describe('the order of the checks', () => {
    it('refuses a request without the Front Door ID before anything else', async () => {
      const response = await api.invoke('publish', { method: 'PUT', body: 'not json', noFrontDoor: true });
      expect([response.status, response.json.code]).toEqual([403, 'front_door_required']);
    });

    it('refuses a wrong method before the content type', async () => {
      const response = await api.invoke('publish', { method: 'GET', headers: { 'content-type': 'text/plain' } });
      expect([response.status, response.json.code]).toEqual([405, 'method_not_allowed']);
      expect(response.headers.get('allow')).toBe('POST');
    });

    it('checks the content type before the size, the size before the syntax', async () => {
      const big = `{"padding":"${'a'.repeat(70000)}"}`;
      expect((await api.invoke('publish', { headers: { 'content-type': 'text/plain' }, body: big })).json.code).toBe('unsupported_media_type');
      expect((await api.invoke('publish', { headers: { 'content-type': 'application/json' }, body: `${big.slice(0, 66000)}` })).json.code).toBe('payload_too_large');
    });

    it('checks the body shape before the caller', async () => {
      const response = await api.invoke('publish', { body: { temporaryExposureKeys: [], extra: 1 } });
      expect([response.status, response.json.code]).toEqual([400, 'bad_request']);
    });

    it('checks the caller before the certificate', async () => {
      const response = await api.invoke('publish', { body: { ...(await api.publishBody(dailyKeys(1))), healthAuthorityID: 'unknown' } });
      expect([response.status, response.json.code]).toEqual([401, 'unauthorized']);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('checks the certificate before the keys', async () => {
      const keys = [...dailyKeys(31)];
      const response = await api.invoke('publish', { headers: caller, body: { ...(await api.publishBody(keys)), hmacKey: Buffer.from('other').toString('base64') } });
      expect([response.status, response.json.code]).toEqual([401, 'health_authority_verification_certificate_invalid']);
    });

    it('checks the keys before the revision token', async () => {
      const keys = dailyKeys(31);
      const response = await api.invoke('publish', { headers: caller, body: await api.publishBody(keys, {}, { revisionToken: 'garbage' }) });
      expect([response.status, response.json.code]).toEqual([400, 'too_many_keys']);
    });

    it('refuses a revision token that is not ours', async () => {
      const response = await api.invoke('publish', { headers: caller, body: await api.publishBody(dailyKeys(2), {}, { revisionToken: 'dev1.AAAA' }) });
      expect([response.status, response.json.code]).toEqual([400, 'invalid_revision_token']);
      expect(store.size).toBe(0);
    });
  });

  describe('registration', () => {
    it.each([
      ['no headers', {}],
      ['a wrong secret', { authorization: 'Bearer dev1.AAAA', 'x-user-uuid': '0b0e6a4e-63f2-4c33-9f3f-0f7f1c8a7b11' }],
      ['a secret of another user', 'swap'],
      ['a scheme other than Bearer', 'basic'],
    ])('refuses %s with 401 unauthorized', async (_name, headers) => {
      let sent: Record<string, string>;
      if (headers === 'swap') sent = { ...caller, 'x-user-uuid': (await api.register()).userUuid };
      else if (headers === 'basic') sent = { ...caller, authorization: caller.authorization.replace('Bearer', 'Basic') };
      else sent = headers as Record<string, string>;
      const response = await api.invoke('publish', { headers: sent, body: await api.publishBody(dailyKeys(1)) });
      expect([response.status, response.json.code]).toEqual([401, 'unauthorized']);
    });

    it('is not needed when registration is turned off', async () => {
      const open = createApiFixture({ env: { KEYFRONT_REGISTRATION_REQUIRED: 'false' } });
      const response = await open.invoke('publish', { body: await open.publishBody(dailyKeys(2)) });
      expect(response.status).toBe(200);
    });
  });

  describe('revisions (GAEN transitions)', () => {
    async function upload(keys: ReturnType<typeof dailyKeys>, reportType: 'confirmed' | 'likely' | 'negative', revisionToken?: string) {
      return api.invoke('publish', { headers: caller, body: await api.publishBody(keys, { reportType }, revisionToken ? { revisionToken } : {}) });
    }

    it('revises likely keys to confirmed with the token of their upload, once, published not before the key', async () => {
      const keys = dailyKeys(3);
      const first = await upload(keys, 'likely');
      const revised = await upload(keys, 'confirmed', first.json.revisionToken as string);
      expect(revised.status).toBe(200);
      expect(revised.json.insertedExposures).toBe(0);
      const stored = await all(store);
      for (const exposure of stored) {
        expect(exposure.tek.reportType).toBe(ReportType.CONFIRMED_CLINICAL_DIAGNOSIS);
        expect(exposure.revision?.reportType).toBe(ReportType.CONFIRMED_TEST);
        expect(exposure.revision?.publishAt).toBe(Math.max(NOW.getTime() / 1000, exposure.publishAt));
      }
      // The same revision again is not a change; another one is refused.
      expect((await upload(keys, 'confirmed', first.json.revisionToken as string)).status).toBe(200);
      expect((await upload(keys, 'negative', revised.json.revisionToken as string)).json.code).toBe('invalid_revision_token');
    });

    it('revokes likely keys (negative) with the token', async () => {
      const keys = dailyKeys(2);
      const first = await upload(keys, 'likely');
      expect((await upload(keys, 'negative', first.json.revisionToken as string)).status).toBe(200);
      for (const exposure of await all(store)) expect(exposure.revision?.reportType).toBe(ReportType.REVOKED);
    });

    it('never gives a token for keys somebody else uploaded: knowing a published key and holding a certificate is not enough to revoke it', async () => {
      const victim = dailyKeys(3);
      await upload(victim, 'likely');
      // The attacker re-uploads one published key with a certificate of their own: stored nothing, token names nothing.
      const attempt = await upload([victim[0]], 'likely');
      expect([attempt.status, attempt.json.insertedExposures]).toEqual([200, 0]);
      const revoke = await upload([victim[0]], 'negative', attempt.json.revisionToken as string);
      expect([revoke.status, revoke.json.code]).toEqual([400, 'invalid_revision_token']);
      expect((await all(store)).every((e) => e.revision === undefined)).toBe(true);
    });

    it('gives the uploader a working token again when it retries the same upload (its answer was lost)', async () => {
      const keys = dailyKeys(2);
      const body = await api.publishBody(keys, { reportType: 'likely' });
      await api.invoke('publish', { headers: caller, body });
      const retry = await api.invoke('publish', { headers: caller, body });
      expect([retry.status, retry.json.insertedExposures]).toEqual([200, 0]);
      expect((await upload(keys, 'confirmed', retry.json.revisionToken as string)).status).toBe(200);
      expect((await all(store)).every((e) => e.revision?.reportType === ReportType.CONFIRMED_TEST)).toBe(true);
    });

    it('does not store negative keys never uploaded before', async () => {
      const response = await upload(dailyKeys(3), 'negative');
      expect(response.status).toBe(200);
      expect(response.json.insertedExposures).toBe(0);
      expect(store.size).toBe(0);
    });

    it.each([
      ['confirmed', 'likely'],
      ['confirmed', 'negative'],
    ] as const)('refuses %s -> %s even with the token', async (from, to) => {
      const keys = dailyKeys(2);
      const first = await upload(keys, from);
      const response = await upload(keys, to, first.json.revisionToken as string);
      expect([response.status, response.json.code]).toEqual([400, 'invalid_revision_token']);
      expect((await all(store)).every((e) => e.revision === undefined)).toBe(true);
    });

    it('treats the same report type again as no change, token or not', async () => {
      const keys = dailyKeys(2);
      await upload(keys, 'confirmed');
      expect((await upload(keys, 'confirmed')).status).toBe(200);
      expect((await all(store)).every((e) => e.revision === undefined)).toBe(true);
    });

    it('refuses to change keys uploaded before without a token, or with the token of other keys, storing nothing of the upload', async () => {
      const keys = dailyKeys(2);
      await upload(keys, 'likely');
      const other = await upload(dailyKeys(2), 'likely');
      const sizeBefore = store.size;
      expect((await upload(keys, 'confirmed')).json.code).toBe('invalid_revision_token');
      expect((await upload(keys, 'confirmed', other.json.revisionToken as string)).json.code).toBe('invalid_revision_token');
      expect(store.size).toBe(sizeBefore);
      expect((await all(store)).every((e) => e.revision === undefined)).toBe(true);
    });

    it('refuses a key re-uploaded with other intervals', async () => {
      const keys = dailyKeys(1);
      const first = await upload(keys, 'likely');
      const moved = [{ ...keys[0], rollingPeriod: 100 }];
      const response = await upload(moved, 'confirmed', first.json.revisionToken as string);
      expect([response.status, response.json.code]).toEqual([400, 'invalid_revision_token']);
    });
  });

  it('answers 503 with Retry-After when the store is unavailable, and logs no key data', async () => {
    const { StoreUnavailableError } = await import('../../exposures/exposure-store');
    const down = new MemoryExposureStore();
    down.get = async () => {
      throw new StoreUnavailableError('down', 2500);
    };
    const fixture = createApiFixture({ store: down });
    const keys = dailyKeys(2);
    const response = await fixture.invoke('publish', { headers: await fixture.callerHeaders(), body: await fixture.publishBody(keys) });
    expect([response.status, response.json.code]).toEqual([503, 'store_unavailable']);
    expect(response.headers.get('retry-after')).toBe('3');
    const logs = fixture.logs.join('\n');
    for (const key of keys) {
      expect(logs).not.toContain(key.key);
    }
  });

  it('answers 503 when the store does not answer within its deadline', async () => {
    const slow = new MemoryExposureStore();
    slow.get = (_region, _ids, options) =>
      new Promise((_resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
      });
    const fixture = createApiFixture({ store: slow, env: { KEYFRONT_STORE_TIMEOUT_MS: '100' } });
    const response = await fixture.invoke('publish', { headers: await fixture.callerHeaders(), body: await fixture.publishBody(dailyKeys(1)) });
    expect([response.status, response.json.code]).toEqual([503, 'store_unavailable']);
  });
});
