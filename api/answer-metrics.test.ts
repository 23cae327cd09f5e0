import { MemoryExposureStore } from '../exposures/memory-store';
import { noopMetrics, type Metrics } from '../platform/metrics';
import { StoreUnavailableError } from '../exposures/exposure-store';
import { createApiFixture, dailyKeys, NOW } from '../test/support/api-fixture';

/** A fixture whose runtime records into a list (the runtime is read at each request). */
function recorded() {
  const calls: string[] = [];
  const metrics: Metrics = {
    ...noopMetrics,
    upload: (result, code) => void calls.push(`upload ${result} ${code}`),
    uploadKeys: (inserted, revised) => void calls.push(`keys ${inserted} ${revised}`),
    register: (result, code) => void calls.push(`register ${result} ${code}`),
    certificateFailure: (reason) => void calls.push(`certificate ${reason}`),
  };
  const api = createApiFixture({ store: new MemoryExposureStore() });
  api.runtime.metrics = metrics;
  return { api, calls };
}

describe('what each answer adds to the figures', () => {
  it('counts a register call, a stored upload with its keys, and chaff apart', async () => {
    const { api, calls } = recorded();
    const caller = await api.callerHeaders();
    await api.invoke('publish', { headers: caller, body: await api.publishBody(dailyKeys(14)) });
    await api.invoke('publish', { headers: { 'x-chaff': '1' }, body: await api.publishBody(dailyKeys(3)) });
    expect(calls).toEqual(['register issued ok', 'keys 14 0', 'upload stored ok', 'upload chaff ok']);
  });

  it.each([
    ['a refused body', { body: { temporaryExposureKeys: [], extra: 1 } }, ['upload refused bad_request']],
    ['no Front Door ID', { body: {}, noFrontDoor: true }, ['upload refused front_door_required']],
    ['a wrong method', { method: 'GET' }, ['upload refused method_not_allowed']],
  ])('counts %s as a refusal with its code', async (_name, request, expected) => {
    const { api, calls } = recorded();
    await api.invoke('publish', request);
    expect(calls).toEqual(expected);
  });

  it.each([
    ['an unknown health authority', async (api: ReturnType<typeof recorded>['api']) => ({ ...(await api.publishBody(dailyKeys(2))), healthAuthorityID: 'nobody' }), 'unknown_health_authority_id', 'unknown_authority'],
    ['keys the certificate was not issued for', async (api: ReturnType<typeof recorded>['api']) => ({ ...(await api.publishBody(dailyKeys(2))), hmacKey: Buffer.from('other').toString('base64') }), 'health_authority_verification_certificate_invalid', 'tekmac'],
    ['an expired certificate', async (api: ReturnType<typeof recorded>['api']) => api.publishBody(dailyKeys(2), { claims: { exp: Math.floor(NOW.getTime() / 1000) - 3600 } }), 'health_authority_verification_certificate_invalid', 'expired'],
    ['a certificate that is not a JWT', async (api: ReturnType<typeof recorded>['api']) => ({ ...(await api.publishBody(dailyKeys(2))), verificationPayload: 'not-a-jwt' }), 'health_authority_verification_certificate_invalid', 'malformed'],
  ])('counts a refused certificate by reason: %s', async (_name, body, code, reason) => {
    const { api, calls } = recorded();
    const caller = await api.callerHeaders();
    calls.length = 0;
    const response = await api.invoke('publish', { headers: caller, body: await body(api) });
    expect(response.json.code).toBe(code);
    expect(calls).toEqual([`upload refused ${code}`, `certificate ${reason}`]);
  });

  it('counts a store that fails as a failed upload, and logs the health probe at debug without a figure', async () => {
    const { api, calls } = recorded();
    const caller = await api.callerHeaders();
    calls.length = 0;
    (api.store as MemoryExposureStore).insert = async () => {
      throw new StoreUnavailableError('down');
    };
    await api.invoke('health', { method: 'GET' });
    const failed = await api.invoke('publish', { headers: caller, body: await api.publishBody(dailyKeys(2)) });
    expect(failed.status).toBe(503);
    expect(calls).toEqual(['upload failed store_unavailable']);
    const probe = api.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.function === 'health')!;
    expect(probe.level).toBe('debug');
  });
});
