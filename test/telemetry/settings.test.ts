/**
 * The telemetry settings as each deployable reads them: the API and the publisher refuse a bad
 * connection or authentication string at start-up, naming the variable and never quoting the
 * instrumentation key; the local stack's telemetry service refuses it too, and is off without one.
 */
import { ConfigError as ApiConfigError, loadApiConfig } from '../../api/config';
import { loadPublisherConfig } from '../../publisher/config';
import { startTelemetryService } from '../../scripts/local-stack/telemetry-service';
import { loadLocalStackConfig } from '../../scripts/local-stack/config';
import { devApiEnvironment } from '../../scripts/local-stack/dev-material';
import { createDevMaterial, REGION } from '../support/api-fixture';

const KEY = '6c1f2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const api = (extra: Record<string, string>) => loadApiConfig({ ...devApiEnvironment(createDevMaterial(), REGION), KEYFRONT_STORE: 'memory', ...extra });
const publisher = (extra: Record<string, string>) => loadPublisherConfig({ KEYFRONT_COSMOS_ENDPOINT: 'https://localhost:8081', KEYFRONT_BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true', ...extra });

describe('telemetry settings', () => {
  it('are read by both apps: off without a connection string, on with one, with the managed identity when asked', () => {
    expect(api({}).telemetry).toEqual({});
    expect(publisher({}).telemetry).toEqual({});
    const settings = { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${KEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/`, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' };
    const expected = { connectionString: settings.APPLICATIONINSIGHTS_CONNECTION_STRING, entraId: {} };
    expect(api(settings).telemetry).toEqual(expected);
    expect(publisher(settings).telemetry).toEqual(expected);
  });

  it.each([
    ['APPLICATIONINSIGHTS_CONNECTION_STRING', `InstrumentationKey=${KEY};IngestionEndpoint=http://insecure.example/`],
    ['APPLICATIONINSIGHTS_CONNECTION_STRING', `IngestionEndpoint=https://x/;Key=${KEY}`],
    ['APPLICATIONINSIGHTS_AUTHENTICATION_STRING', `Authorization=AAD;ClientId=${KEY}x`],
  ])('are refused at start-up when %s is bad, named, the key never quoted', (name, value) => {
    for (const load of [() => api({ [name]: value }), () => publisher({ [name]: value })]) {
      let error: Error | undefined;
      try {
        load();
      } catch (caught) {
        error = caught as Error;
      }
      expect(error?.message).toContain(name);
      if (name === 'APPLICATIONINSIGHTS_CONNECTION_STRING') expect(error?.message).not.toContain(KEY);
    }
    expect(() => api({ [name]: value })).toThrow(ApiConfigError);
  });

  it('are refused by the local stack before anything starts, and it runs without telemetry when unset', async () => {
    const context = { config: loadLocalStackConfig({}, '/tmp'), stack: {} };
    await expect(startTelemetryService(context, { APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=nope' })).rejects.toThrow('APPLICATIONINSIGHTS_CONNECTION_STRING has an InstrumentationKey that is not a GUID');
    const off = await startTelemetryService(context, {});
    expect([off.name, off.url]).toEqual(['telemetry', 'off']);
    await off.stop();
  });
});
