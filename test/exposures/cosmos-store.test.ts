/**
 * What is particular to the Cosmos store, on the emulator with the real `@azure/cosmos` client:
 * the document and partition layout, the container definition, and faults (a stopped emulator,
 * a throttling endpoint) surfacing as `StoreUnavailableError`.
 */
import { randomBytes } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { CosmosExposureStore, DEFAULT_TTL_SECONDS, ensureExposuresContainer, type ExposureDocument } from '../../exposures/cosmos-store';
import { exposureId, StoreUnavailableError, type Exposure } from '../../exposures/exposure-store';
import { cosmosEmulatorClientOptions, startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';
import { freePort } from '../../scripts/local-stack/ports';
import { startThrottlingCosmos, type ThrottlingCosmos } from '../support/cosmos-throttle-stand-in';

const T0 = 1_800_000_000;

function exposure(region = 'DE'): Exposure {
  const keyData = randomBytes(16);
  return { id: exposureId(region, keyData), region, tek: { keyData, rollingStartIntervalNumber: T0 / 600 - 144, rollingPeriod: 144, transmissionRiskLevel: 0 }, uploadedAt: T0, publishAt: T0 + 7200 };
}

/** A client that fails fast: what the API configures (the SDK's default retries 429 for 30 s). */
function fastFailingClient(endpoint: string): CosmosClient {
  return new CosmosClient({ ...cosmosEmulatorClientOptions(endpoint), connectionPolicy: { enableEndpointDiscovery: false, requestTimeout: 2000, retryOptions: { maxRetryAttemptCount: 0, maxWaitTimeInSeconds: 1, fixedRetryIntervalInMilliseconds: 0 } } });
}

describe('CosmosExposureStore on the emulator', () => {
  let emulator: CosmosEmulator;
  let store: CosmosExposureStore;

  beforeAll(async () => {
    emulator = await startCosmosEmulator();
    store = new CosmosExposureStore({ container: await ensureExposuresContainer(emulator.client()), shards: 16 });
  });

  afterAll(async () => {
    await emulator.stop();
  });

  it('creates the container partitioned on /pk with a 15-day default TTL, and is idempotent about it', async () => {
    const again = await ensureExposuresContainer(emulator.client());
    const { resource } = await again.read();
    expect(resource?.partitionKey?.paths).toEqual(['/pk']);
    expect(resource?.defaultTtl).toBe(DEFAULT_TTL_SECONDS);
    expect(DEFAULT_TTL_SECONDS).toBe(15 * 86400);
  });

  it('stores one document per key with id = exposureId and pk = region|shard, key data in base64', async () => {
    const a = exposure();
    await store.insert([a]);
    await store.insert([{ ...a, uploadedAt: T0 + 9 * 3600, publishAt: T0 + 9 * 3600 }]);
    const { resources } = await store.container.items.query<ExposureDocument>({ query: 'SELECT * FROM c WHERE c.key = @key', parameters: [{ name: '@key', value: Buffer.from(a.tek.keyData).toString('base64') }] }, { forceQueryPlan: false }).fetchAll();
    expect(resources).toHaveLength(1);
    const [document] = resources;
    expect(document.id).toBe(a.id);
    expect(document.pk).toBe(store.partitionKeyOf('DE', a.id));
    expect(document.pk).toMatch(/^DE\|([0-9]|1[0-5])$/);
    expect(document.key).toBe(Buffer.from(a.tek.keyData).toString('base64'));
    expect(document.uploadedAt).toBe(T0);
  });

  it('spreads the writes of one moment over the shards', async () => {
    const batch = Array.from({ length: 64 }, () => exposure('AT'));
    await store.insert(batch);
    const shards = new Set(batch.map((e) => store.partitionKeyOf('AT', e.id)));
    // 64 uniform hashes over 16 shards: all 16 hit with overwhelming probability; at least 10 always.
    expect(shards.size).toBeGreaterThanOrEqual(10);
    const listed: Exposure[] = [];
    for await (const page of store.listForPublication('AT', T0, T0 + 7201, { pageSize: 7 })) listed.push(...page);
    expect(listed.map((e) => e.id).sort()).toEqual(batch.map((e) => e.id).sort());
  });

  it('the partition of a key does not depend on when it is uploaded', () => {
    const a = exposure();
    expect(store.partitionKeyOf('DE', a.id)).toBe(store.partitionKeyOf('DE', exposureId('DE', a.tek.keyData)));
    expect(() => new CosmosExposureStore({ container: store.container, shards: 0 })).toThrow(/shards/);
  });

  it('reports a stopped Cosmos endpoint as StoreUnavailableError on every operation', async () => {
    const port = await freePort();
    const closed = fastFailingClient(`https://127.0.0.1:${port}`);
    const down = new CosmosExposureStore({ container: closed.database('keyfront').container('exposures') });
    try {
      await expect(down.insert([exposure()])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.get('DE', [exposure().id])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.revise([{ ...exposure(), revision: { reportType: 1, revisedAt: T0, publishAt: T0 } }])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(down.deleteUploadedBefore('DE', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
      const listing = (async () => {
        for await (const _page of down.listForPublication('DE', 0, T0)) return;
      })();
      await expect(listing).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      closed.dispose();
    }
  });

  describe('throttled (429)', () => {
    let throttling: ThrottlingCosmos;
    let client: CosmosClient;

    beforeAll(async () => {
      throttling = await startThrottlingCosmos({ retryAfterInMs: 2345 });
      client = fastFailingClient(throttling.endpoint);
    });

    afterAll(async () => {
      client.dispose();
      await throttling.stop();
    });

    it("becomes StoreUnavailableError carrying the service's retry-after", async () => {
      const throttled = new CosmosExposureStore({ container: client.database('keyfront').container('exposures') });
      const failure = await throttled.insert([exposure()]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as StoreUnavailableError).retryAfterInMs).toBe(2345);
      expect((failure as Error).message).toMatch(/throttled/);
      const pinged = await throttled.ping().catch((error: unknown) => error);
      expect((pinged as StoreUnavailableError).retryAfterInMs).toBe(2345);
      expect(throttling.requests()).toBeGreaterThanOrEqual(2);
    });
  });
});
