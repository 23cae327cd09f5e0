import { ALL_METHODS, ROUTES } from './routes';
import { createDevMaterial, REGION } from '../test/support/api-fixture';
import { devApiEnvironment } from '../scripts/local-stack/dev-material';

describe('the Function App entry', () => {
  it('registers every route of the table with app.http: anonymous, every method, the bound handler', async () => {
    const registered: { name: string; options: Record<string, unknown> }[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, devApiEnvironment(createDevMaterial(), REGION), { KEYFRONT_STORE: 'memory', KEYFRONT_LOG_LEVEL: 'error' });
    try {
      await jest.isolateModulesAsync(async () => {
        jest.doMock('@azure/functions', () => ({
          ...jest.requireActual('@azure/functions'),
          app: { http: (name: string, options: Record<string, unknown>) => registered.push({ name, options }) },
        }));
        await import('./index');
      });
    } finally {
      process.env = saved;
      jest.dontMock('@azure/functions');
    }
    expect(registered.map((r) => [r.name, r.options.route, r.options.authLevel, r.options.methods])).toEqual(ROUTES.map((r) => [r.name, r.route, 'anonymous', ALL_METHODS]));
    for (const r of registered) expect(typeof r.options.handler).toBe('function');
  });

  it('fails at start-up with the names of missing settings', async () => {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('KEYFRONT_')) delete process.env[name];
    try {
      await expect(jest.isolateModulesAsync(async () => {
        await import('./index');
      })).rejects.toThrow(/KEYFRONT_FRONT_DOOR_ID is required/);
    } finally {
      process.env = saved;
    }
  });
});
