import { noopMetrics } from './metrics';
import { SettingsReader } from './settings';
import { AUTHENTICATION_STRING_ENV, connectionStringProblem, CONNECTION_STRING_ENV, currentTelemetry, distroOptions, instrumentAzureFunctions, parseAuthenticationString, readTelemetrySettings, startTelemetry, startTelemetryFromEnvironment, TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING } from './telemetry';
import { PrivacySpanProcessor } from './telemetry-privacy';

const KEY = '2f6a3b0c-1d2e-4f50-8a9b-0c1d2e3f4a5b';

describe('the connection string', () => {
  it.each([
    [`InstrumentationKey=${KEY}`, undefined],
    [`InstrumentationKey=${KEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/`, undefined],
    ['IngestionEndpoint=https://x/', 'must name an InstrumentationKey'],
    ['InstrumentationKey=not-a-guid', 'has an InstrumentationKey that is not a GUID'],
    [`InstrumentationKey=${KEY};IngestionEndpoint=http://127.0.0.1:4318/`, 'has an IngestionEndpoint that is not an https URL'],
    [`InstrumentationKey=${KEY};IngestionEndpoint=nope`, 'has an IngestionEndpoint that is not an https URL'],
    ['just text', 'must be "Name=value" pairs separated by ";"'],
  ])('%s: %s', (text, problem) => {
    expect(connectionStringProblem(text)).toBe(problem);
  });

  it('is refused naming the variable, never quoting the key', () => {
    const read = new SettingsReader({ [CONNECTION_STRING_ENV]: `InstrumentationKey=${KEY};IngestionEndpoint=ftp://x` }, [TELEMETRY_SETTING, TELEMETRY_AUTH_SETTING]);
    readTelemetrySettings(read);
    expect(read.problems).toEqual([`${CONNECTION_STRING_ENV} has an IngestionEndpoint that is not an https URL`]);
    expect(read.problems.join()).not.toContain(KEY);
  });
});

describe('the authentication string', () => {
  it.each([
    ['Authorization=AAD', {}],
    [`Authorization=AAD;ClientId=${KEY}`, { clientId: KEY }],
    ['Authorization=AAD;ClientId=x', 'has a ClientId that is not a GUID'],
    ['Authorization=Key', 'must be "Authorization=AAD" or "Authorization=AAD;ClientId=<guid>"'],
  ])('%s', (text, expected) => {
    expect(parseAuthenticationString(text)).toEqual(expected);
  });

  it('is read beside the connection string', () => {
    const read = new SettingsReader({ [CONNECTION_STRING_ENV]: `InstrumentationKey=${KEY}`, [AUTHENTICATION_STRING_ENV]: 'Authorization=AAD' }, [TELEMETRY_SETTING, TELEMETRY_AUTH_SETTING]);
    expect(readTelemetrySettings(read)).toEqual({ connectionString: `InstrumentationKey=${KEY}`, entraId: {} });
    expect(read.problems).toEqual([]);
  });
});

describe('startTelemetry', () => {
  it('sets nothing up without a connection string: handlers record into the no-op metrics', () => {
    const telemetry = startTelemetry({});
    expect([telemetry.enabled, telemetry.metrics]).toEqual([false, noopMetrics]);
    expect(currentTelemetry()).toBe(telemetry);
  });

  it("from the environment, starts nothing on a bad value (the app's configuration refuses it next, naming it) and asks for @azure/functions only when it started", () => {
    const azFunc = jest.fn();
    expect(startTelemetryFromEnvironment({ [CONNECTION_STRING_ENV]: 'InstrumentationKey=nope' }, azFunc).enabled).toBe(false);
    expect(startTelemetryFromEnvironment({}, azFunc).enabled).toBe(false);
    expect(azFunc).not.toHaveBeenCalled();
  });

  it('registers the Azure Functions instrumentation only with telemetry on, inside the Functions worker', () => {
    const azFunc = { app: { setup: jest.fn(), hook: { appTerminate: jest.fn() } } } as unknown as typeof import('@azure/functions');
    expect(instrumentAzureFunctions(azFunc)).toBe(false);
    const on = { enabled: true, metrics: noopMetrics, flush: async () => undefined, shutdown: async () => undefined };
    // Here there is no @azure/functions-core: not the worker.
    expect(instrumentAzureFunctions(azFunc, on)).toBe(false);
    expect(azFunc.app.hook.appTerminate).not.toHaveBeenCalled();
  });
});

describe("the distro's options", () => {
  const options = distroOptions({ connectionString: `InstrumentationKey=${KEY}` });

  it('scrub spans, keep live metrics off and sample every operation', () => {
    expect(options.spanProcessors).toEqual([expect.any(PrivacySpanProcessor)]);
    expect(options).toMatchObject({ enableLiveMetrics: false, samplingRatio: 1, tracesPerSecond: 0 });
    expect(options.azureMonitorExporterOptions).toMatchObject({ connectionString: `InstrumentationKey=${KEY}`, disableOfflineStorage: false });
    expect(options.azureMonitorExporterOptions).not.toHaveProperty('credential');
  });

  it('trace no Azure SDK call (their URLs name Cosmos items)', () => {
    expect(options.instrumentationOptions!.azureSdk).toEqual({ enabled: false });
  });

  it('trace no health probe and no raw outgoing HTTP', () => {
    const http = options.instrumentationOptions!.http as { ignoreIncomingRequestHook(request: { url?: string }): boolean; ignoreOutgoingRequestHook(): boolean };
    expect([http.ignoreIncomingRequestHook({ url: '/api/health' }), http.ignoreIncomingRequestHook({ url: '/api/v1/publish' }), http.ignoreOutgoingRequestHook()]).toEqual([true, false, true]);
  });

  it('send with the managed identity when the authentication string says so, and trust a given certificate', () => {
    const withIdentity = distroOptions({ connectionString: `InstrumentationKey=${KEY}`, entraId: { clientId: KEY } }, { ca: Buffer.from('pem'), offlineStorage: false });
    expect(withIdentity.azureMonitorExporterOptions).toMatchObject({ credential: expect.objectContaining({ getToken: expect.any(Function) }), tlsOptions: { ca: Buffer.from('pem') }, disableOfflineStorage: true });
  });
});
