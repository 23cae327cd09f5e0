import { HttpRequest, InvocationContext } from '@azure/functions';
import { ALL_METHODS, bindRoute, pathOf, ROUTES, type ApiRoute } from './routes';
import { createApiFixture } from '../test/support/api-fixture';

describe('the route table', () => {
  it('lists register, publish, health and the swap warm-up under /api', () => {
    expect(ROUTES.map((r) => [r.name, pathOf(r), [...r.methods]])).toEqual([
      ['register', '/api/v1/register', ['POST']],
      ['publish', '/api/v1/publish', ['POST']],
      ['health', '/api/health', ['GET']],
      ['warmup', '/api/warmup', ['GET']],
    ]);
  });

  it('has one handler per route and unique names and paths', () => {
    expect(new Set(ROUTES.map((r) => r.name)).size).toBe(ROUTES.length);
    expect(new Set(ROUTES.map(pathOf)).size).toBe(ROUTES.length);
    for (const route of ROUTES) expect(typeof route.handler).toBe('function');
  });
});

describe('bindRoute', () => {
  const api = createApiFixture();
  const failing: ApiRoute = {
    name: 'failing',
    route: 'failing',
    methods: ['GET'],
    handler: async () => {
      throw new Error('boom: Cosmos key AccountKey=abc');
    },
  };

  function call(route: ApiRoute, method: string, headers: Record<string, string>) {
    return bindRoute(route, api.runtime)(new HttpRequest({ method, url: 'http://127.0.0.1/api/failing', headers }), new InvocationContext({ invocationId: 'inv-1', functionName: route.name, logHandler: () => undefined }));
  }

  it('refuses every method of every route without the Front Door ID, before the method check', async () => {
    for (const route of ROUTES.filter((r) => !r.withoutFrontDoor)) {
      for (const method of ALL_METHODS) {
        const response = await call(route, method, {});
        expect(response.status).toBe(403);
      }
    }
  });

  it('answers the swap warm-up without the Front Door ID (App Service pings it from inside), and nothing else there', async () => {
    expect(ROUTES.filter((r) => r.withoutFrontDoor).map((r) => r.name)).toEqual(['warmup']);
    const warmup = ROUTES.find((r) => r.name === 'warmup')!;
    const response = await call(warmup, 'GET', { 'user-agent': 'SiteWarmup' });
    expect(response.status).toBe(200);
    expect(JSON.parse(String(response.body))).toMatchObject({ status: 'ready' });
    expect(Object.keys(JSON.parse(String(response.body))).sort()).toEqual(['padding', 'status']);
    expect((await call(warmup, 'POST', {})).status).toBe(405);
  });

  it('answers a wrong method 405 with Allow', async () => {
    const response = await call(ROUTES[0], 'DELETE', { 'x-azure-fdid': api.material.frontDoorId });
    expect(response.status).toBe(405);
    expect((response.headers as Record<string, string>).Allow).toBe('POST');
  });

  it('answers an unexpected failure with a generic 500 and logs it with the invocation id, without the client address', async () => {
    const response = await call(failing, 'GET', { 'x-azure-fdid': api.material.frontDoorId, 'x-forwarded-for': '203.0.113.9' });
    expect(response.status).toBe(500);
    expect(JSON.parse(String(response.body))).toMatchObject({ error: 'internal error', code: 'internal_error' });
    const logs = api.logs.join('\n');
    expect(logs).toContain('"invocationId":"inv-1"');
    expect(logs).toContain('unexpected failure');
    expect(logs).not.toContain('203.0.113.9');
    // The failure is logged with its message, the secret it quotes redacted.
    expect(logs).toContain('boom: Cosmos key AccountKey=[redacted]');
    expect(logs).not.toContain('AccountKey=abc');
  });

  it('logs one line per request with the status and code', async () => {
    api.logs.length = 0;
    await call(ROUTES[2], 'GET', {});
    const line = JSON.parse(api.logs.at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ message: 'request', function: 'health', status: 403, code: 'front_door_required' });
  });
});
