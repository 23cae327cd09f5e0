import { StoreUnavailableError } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { createApiFixture } from '../../test/support/api-fixture';

describe('GET /api/health', () => {
  it('answers the version and that the store answers', async () => {
    const api = createApiFixture();
    const response = await api.invoke('health', { method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'ok', version: api.runtime.version, store: 'ok' });
    expect(Object.keys(response.json).sort()).toEqual(['padding', 'status', 'store', 'version']);
  });

  it('still answers 200 when the store does not, saying so', async () => {
    const store = new MemoryExposureStore();
    store.ping = async () => {
      throw new StoreUnavailableError('down');
    };
    const response = await createApiFixture({ store }).invoke('health', { method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'degraded', store: 'unavailable' });
  });

  it('reveals no configuration', async () => {
    const api = createApiFixture();
    // The random padding aside, nothing of the settings appears.
    const { padding: _padding, ...fields } = (await api.invoke('health', { method: 'GET' })).json;
    const text = JSON.stringify(fields);
    for (const secret of [api.material.frontDoorId, api.material.healthAuthority.kid, api.material.healthAuthority.issuer, api.material.healthAuthority.audience, 'dev1']) expect(text).not.toContain(secret);
    // Exactly the status, the version and whether the store answers: nothing else to leak.
    expect(fields).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), store: 'ok' });
  });

  it('asks the store at most once while its answer is fresh', async () => {
    const store = new MemoryExposureStore();
    let pings = 0;
    store.ping = async () => {
      pings++;
    };
    const api = createApiFixture({ store });
    const { createApiRuntime } = await import('../runtime');
    const runtime = createApiRuntime(api.config, { store, healthCacheInMs: 60000 });
    await Promise.all([runtime.storeAnswers(), runtime.storeAnswers(), runtime.storeAnswers()]);
    expect(pings).toBe(1);
  });
});
