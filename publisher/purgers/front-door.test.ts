import { FrontDoorPurger } from './front-door';
import { PurgeError } from './purge-error';
import { TcpSwitch } from '../../scripts/drills/local/tcp-switch';
import { seedEndpoint, startArmStandIn, type ArmStandIn } from '../../test/support/arm-stand-in';

describe('FrontDoorPurger against the ARM stand-in', () => {
  let arm: ArmStandIn;
  let endpointId: string;

  beforeAll(async () => {
    arm = await startArmStandIn();
    endpointId = seedEndpoint(arm, 'rg-keyfront', 'fd-keyfront', 'ep-keyfront');
  });
  afterAll(() => arm.stop());
  beforeEach(() => arm.reset());

  const purger = (domains?: string[]) =>
    new FrontDoorPurger(
      { subscriptionId: arm.subscriptionId, resourceGroupName: 'rg-keyfront', profileName: 'fd-keyfront', endpointName: 'ep-keyfront', domains },
      { credential: arm.credential, clientOptions: arm.clientOptions(), pollIntervalInMs: 5 },
    );

  it('POSTs the paths to the endpoint purge action with api-version 2024-02-01 and waits for the operation', async () => {
    await purger(['exports.example.org']).purge(['/v1/440/index.txt', '/v1/440/index.json']);

    expect(arm.violations).toEqual([]);
    expect(arm.purges).toEqual([{ endpointId, contentPaths: ['/v1/440/index.txt', '/v1/440/index.json'], domains: ['exports.example.org'] }]);
    const [post, ...polls] = arm.requests;
    expect(post).toMatchObject({ method: 'POST', path: `${endpointId}/purge`, apiVersion: '2024-02-01' });
    // The purge is done only once a poll of its Azure-AsyncOperation URL says Succeeded.
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((p) => p.method === 'GET' && /\/providers\/Microsoft\.Cdn\/operationresults\//.test(p.path))).toBe(true);
  });

  it('sends no domains when none are configured (all of the endpoint\'s domains)', async () => {
    await purger().purge(['/v1/*']);
    expect(arm.purges).toEqual([{ endpointId, contentPaths: ['/v1/*'] }]);
  });

  it.each([
    [[], 'contentPaths must be a non-empty array'],
    [['v1/440/index.txt'], 'contentPaths[0] must start with "/"'],
    [['/v1/*/index.txt'], 'contentPaths[0] may hold "*" only as a final "/*"'],
    [['/v1/440/index.txt?x=1'], 'without query'],
  ])('rejects bad paths %j before calling Azure', async (paths, message) => {
    const failure = purger().purge(paths);
    await expect(failure).rejects.toThrow(PurgeError);
    await expect(failure).rejects.toThrow(message);
    expect(arm.requests).toEqual([]);
  });

  it.each([
    [403, 'AuthorizationFailed', false],
    [404, 'NotFound', false],
    [429, 'TooManyRequests', true],
    [503, 'ServiceUnavailable', true],
  ])('reports ARM %i %s as a PurgeError (retryable: %s)', async (status, code, retryable) => {
    arm.failNext({ method: 'POST', pathIncludes: '/purge', status, code, message: 'no purge for you' });
    const error = (await purger().purge(['/v1/440/index.txt']).catch((e: unknown) => e)) as PurgeError;
    expect(error).toBeInstanceOf(PurgeError);
    expect(error).toMatchObject({ statusCode: status, code, retryable });
    expect(error.message).toContain('front-door:fd-keyfront/ep-keyfront');
    expect(error.message).toContain(code);
  });

  it('reports a purge operation that ends Failed with ARM\'s error code and message', async () => {
    const failing = await startArmStandIn({ purgeOperationError: { code: 'PurgeFailed', message: 'edge unreachable' } });
    try {
      seedEndpoint(failing, 'rg', 'fd', 'ep');
      const broken = new FrontDoorPurger(
        { subscriptionId: failing.subscriptionId, resourceGroupName: 'rg', profileName: 'fd', endpointName: 'ep' },
        { credential: failing.credential, clientOptions: failing.clientOptions(), pollIntervalInMs: 5 },
      );
      const error = (await broken.purge(['/v1/440/index.txt']).catch((e: unknown) => e)) as PurgeError;
      expect(error).toBeInstanceOf(PurgeError);
      expect(error).toMatchObject({ code: 'operation_failed', retryable: true });
      expect(error.message).toContain('PurgeFailed');
      expect(error.message).toContain('edge unreachable');
    } finally {
      await failing.stop();
    }
  });

  it('does not send its token to an endpoint that is not the one configured (the stand-in rejects unknown tokens)', async () => {
    const stranger = new FrontDoorPurger(
      { subscriptionId: arm.subscriptionId, resourceGroupName: 'rg-keyfront', profileName: 'fd-keyfront', endpointName: 'ep-keyfront' },
      { credential: { getToken: async () => ({ token: 'wrong', expiresOnTimestamp: Date.now() + 60_000 }) }, clientOptions: arm.clientOptions(), pollIntervalInMs: 5 },
    );
    await expect(stranger.purge(['/v1/*'])).rejects.toMatchObject({ statusCode: 401, retryable: false });
    expect(arm.purges).toEqual([]);
  });

  it('an ARM endpoint that stops answering: the attempt fails within its request timeout as a retryable timeout naming Front Door', async () => {
    const armSwitch = new TcpSwitch(Number(new URL(arm.endpoint).port));
    await armSwitch.on();
    try {
      const frozen = new FrontDoorPurger(
        { subscriptionId: arm.subscriptionId, resourceGroupName: 'rg-keyfront', profileName: 'fd-keyfront', endpointName: 'ep-keyfront' },
        { credential: arm.credential, clientOptions: { ...arm.clientOptions(), endpoint: `https://127.0.0.1:${armSwitch.port}`, retryOptions: { maxRetries: 0 } }, pollIntervalInMs: 5, requestTimeoutInMs: 300 },
      );
      await frozen.purge(['/v1/440/index.txt']);
      armSwitch.freeze();
      const started = performance.now();
      const error = (await frozen.purge(['/v1/440/index.txt']).catch((e: unknown) => e)) as PurgeError;
      expect(performance.now() - started).toBeLessThan(1500);
      expect(error).toBeInstanceOf(PurgeError);
      expect(error).toMatchObject({ code: 'timeout', retryable: true, message: "front-door:fd-keyfront/ep-keyfront: Front Door's purge API did not answer in 300 ms" });
    } finally {
      armSwitch.thaw();
      await armSwitch.off();
    }
  });
});
