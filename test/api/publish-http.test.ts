/**
 * The write API through real HTTP on the local host, keys stored in Cosmos DB (emulator): what a
 * phone sees, and what the publisher will find in the container.
 */
import type { ExposureDocument } from '../../exposures/cosmos-store';
import { ReportType } from '../../proto/tek';
import { dailyKeys, NOW, REGION } from '../support/api-fixture';
import { startHttpApi, type HttpApi } from '../support/http-api';

let api: HttpApi;
let caller: Record<string, string>;

beforeAll(async () => {
  api = await startHttpApi();
  caller = await api.fixture.callerHeaders();
});

afterAll(async () => {
  await api.stop();
});

async function documents(): Promise<ExposureDocument[]> {
  const { resources } = await api.container.items.readAll<ExposureDocument>().fetchAll();
  return resources;
}

describe('the write API over HTTP with Cosmos DB', () => {
  it('registers over HTTP with real Functions request objects', async () => {
    const answer = await api.send('/api/v1/register');
    expect(answer.status).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.json.userUuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('stores a 14-key upload as 14 documents, and a re-upload (even with a new certificate) stores nothing twice', async () => {
    const keys = dailyKeys(14);
    const before = (await documents()).length;
    const first = await api.send('/api/v1/publish', { headers: caller, body: await api.fixture.publishBody(keys) });
    expect([first.status, first.json.insertedExposures]).toEqual([200, 14]);
    const stored = await api.snapshot();
    const again = await api.send('/api/v1/publish', { headers: caller, body: await api.fixture.publishBody(keys) });
    expect([again.status, again.json.insertedExposures]).toEqual([200, 0]);
    expect(await api.snapshot()).toEqual(stored);
    const mine = (await documents()).filter((d) => keys.some((k) => k.key === d.key));
    expect(mine).toHaveLength(14);
    expect((await documents()).length).toBe(before + 14);
    for (const document of mine) {
      expect(document).toMatchObject({ region: REGION, reportType: ReportType.CONFIRMED_TEST, uploadedAt: NOW.getTime() / 1000, healthAuthorityId: 'dev' });
      expect(document.pk).toMatch(new RegExp(`^${REGION}\\|\\d+$`));
    }
  });

  it('answers chaff like an upload and stores nothing', async () => {
    const before = await api.snapshot();
    const chaff = await api.send('/api/v1/publish', { headers: { 'x-chaff': '1' }, body: await api.fixture.publishBody(dailyKeys(14)) });
    expect(chaff.status).toBe(200);
    expect(chaff.text.length).toBe(1024);
    expect(await api.snapshot()).toEqual(before);
  });

  it('revises likely keys to confirmed with the revision token, recording the revision in the documents', async () => {
    const keys = dailyKeys(4);
    const first = await api.send('/api/v1/publish', { headers: caller, body: await api.fixture.publishBody(keys, { reportType: 'likely' }) });
    expect(first.status).toBe(200);
    const refused = await api.send('/api/v1/publish', { headers: caller, body: await api.fixture.publishBody(keys, { reportType: 'confirmed' }) });
    expect([refused.status, refused.json.code]).toEqual([400, 'invalid_revision_token']);
    const revised = await api.send('/api/v1/publish', { headers: caller, body: await api.fixture.publishBody(keys, { reportType: 'confirmed' }, { revisionToken: first.json.revisionToken }) });
    expect([revised.status, revised.json.insertedExposures]).toEqual([200, 0]);
    const mine = (await documents()).filter((d) => keys.some((k) => k.key === d.key));
    expect(mine).toHaveLength(4);
    for (const document of mine) {
      expect(document.reportType).toBe(ReportType.CONFIRMED_CLINICAL_DIAGNOSIS);
      expect(document.revision).toMatchObject({ reportType: ReportType.CONFIRMED_TEST, revisedAt: NOW.getTime() / 1000 });
      expect(document.revision!.publishAt).toBe(Math.max(NOW.getTime() / 1000, document.publishAt));
    }
    // The publisher finds them among the revisions of the window.
    const listed = [];
    for await (const page of api.fixture.store.listRevisionsForPublication(REGION, 0, 2 ** 31)) listed.push(...page);
    expect(listed.filter((e) => keys.some((k) => k.key === Buffer.from(e.tek.keyData).toString('base64')))).toHaveLength(4);
  });

  it('answers health with the store up', async () => {
    const answer = await api.send('/api/health', { method: 'GET' });
    expect([answer.status, answer.json.store]).toEqual([200, 'ok']);
  });

  it('answers an unknown path 404 not_found', async () => {
    const answer = await api.send('/api/v1/nothing', { method: 'GET' });
    expect([answer.status, answer.json.code]).toEqual([404, 'not_found']);
  });
});
