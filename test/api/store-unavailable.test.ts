/**
 * A store that is down or throttled: the API answers 503 with Retry-After over HTTP (never a 500
 * with internals), health says so, and the API recovers when the store answers again.
 */
import { CosmosClient } from '@azure/cosmos';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { startApiHost } from '../../scripts/local-stack/api-host';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { freePort } from '../../scripts/local-stack/ports';
import { createApiFixture, dailyKeys } from '../support/api-fixture';
import { send } from '../support/http-api';
import { startThrottlingCosmos } from '../support/cosmos-throttle-stand-in';

/** A Cosmos client that fails fast, as the API's own client does (cosmos-client.ts). */
function apiClient(endpoint: string): CosmosClient {
  return new CosmosClient({ ...cosmosEmulatorClientOptions(endpoint), connectionPolicy: { enableEndpointDiscovery: false, requestTimeout: 2000, retryOptions: { maxRetryAttemptCount: 0, maxWaitTimeInSeconds: 1 } } });
}

async function apiOn(endpoint: string) {
  const client = apiClient(endpoint);
  const fixture = createApiFixture({ store: new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }) });
  const host = await startApiHost({ runtime: fixture.runtime });
  return {
    fixture,
    post: async () => send(host.url, fixture.material.frontDoorId, '/api/v1/publish', { headers: await fixture.callerHeaders(), body: await fixture.publishBody(dailyKeys(14)) }),
    health: () => send(host.url, fixture.material.frontDoorId, '/api/health', { method: 'GET' }),
    stop: async () => {
      await host.stop();
      client.dispose();
    },
  };
}

describe('the store down or throttled', () => {
  it('answers 503 store_unavailable with Retry-After when Cosmos DB does not accept connections', async () => {
    const api = await apiOn(`https://127.0.0.1:${await freePort()}`);
    try {
      const answer = await api.post();
      expect([answer.status, answer.json.code]).toEqual([503, 'store_unavailable']);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
      const health = await api.health();
      expect([health.status, health.json.store]).toEqual([200, 'unavailable']);
    } finally {
      await api.stop();
    }
  });

  it("answers 503 with the store's retry-after, in whole seconds, when Cosmos DB throttles (429)", async () => {
    const throttling = await startThrottlingCosmos({ retryAfterInMs: 2345 });
    const api = await apiOn(throttling.endpoint);
    try {
      const answer = await api.post();
      expect([answer.status, answer.json.code]).toEqual([503, 'store_unavailable']);
      expect(answer.headers['retry-after']).toBe('3');
    } finally {
      await api.stop();
      await throttling.stop();
    }
  });
});
