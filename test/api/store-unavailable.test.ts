/**
 * A store that is down, silent or throttled: the API answers 503 with Retry-After over HTTP (never
 * a 500 with internals, never a request left hanging), health says so, and the API recovers when
 * the store answers again.
 */
import { CosmosClient } from '@azure/cosmos';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { TcpSwitch } from '../../scripts/drills/local/tcp-switch';
import { startApiHost } from '../../scripts/local-stack/api-host';
import { cosmosEmulatorClientOptions, startCosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';
import { freePort } from '../../scripts/local-stack/ports';
import { createApiFixture, dailyKeys } from '../support/api-fixture';
import { send } from '../support/http-api';
import { startThrottlingCosmos } from '../support/cosmos-throttle-stand-in';

/** A Cosmos client that fails fast, as the API's own client does (cosmos-client.ts). */
function apiClient(endpoint: string): CosmosClient {
  return new CosmosClient({ ...cosmosEmulatorClientOptions(endpoint), connectionPolicy: { enableEndpointDiscovery: false, requestTimeout: 2000, retryOptions: { maxRetryAttemptCount: 0, maxWaitTimeInSeconds: 1 } } });
}

async function apiOn(endpoint: string, client = apiClient(endpoint), env: Record<string, string> = {}) {
  const fixture = createApiFixture({ store: new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }), env });
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

  it('answers 503 with Retry-After within its store deadline when Cosmos DB stops answering mid-traffic (connections open, nothing comes back), and recovers when it answers', async () => {
    const emulator = await startCosmosEmulator();
    await ensureExposuresContainer(emulator.client());
    const cosmos = new TcpSwitch(emulator.port);
    await cosmos.on();
    // The local stack's client: no request timeout of its own below the SDK's 60 s, so only the API's deadline bounds a request.
    const endpoint = `https://127.0.0.1:${cosmos.port}`;
    const api = await apiOn(endpoint, new CosmosClient(cosmosEmulatorClientOptions(endpoint)), { KEYFRONT_STORE_TIMEOUT_MS: '500' });
    // Until the store answers within the deadline (a first TLS connection on a loaded machine may not), as a phone retries.
    const postUntilAccepted = async () => {
      let status = 0;
      for (let attempt = 0; attempt < 10 && status !== 200; attempt++) status = (await api.post()).status;
      return status;
    };
    try {
      expect(await postUntilAccepted()).toBe(200);
      cosmos.freeze();
      const started = performance.now();
      const answer = await api.post();
      const tookInMs = performance.now() - started;
      expect([answer.status, answer.json.code, answer.headers['retry-after']]).toEqual([503, 'store_unavailable', '1']);
      // The deadline falls 500..550 ms after the request reached the store (requests share a 50-ms slot).
      expect(tookInMs).toBeGreaterThanOrEqual(450);
      expect(tookInMs).toBeLessThan(2000);
      const health = await api.health();
      expect([health.status, health.json.store]).toEqual([200, 'unavailable']);
      cosmos.thaw();
      expect(await postUntilAccepted()).toBe(200);
    } finally {
      cosmos.thaw();
      await api.stop();
      await cosmos.off();
      await emulator.stop();
    }
  });
});
