/**
 * Telemetry setup, once per process: the Azure Monitor OpenTelemetry distro exports traces and
 * metrics to Application Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, and
 * nothing is set up otherwise (handlers then record into `noopMetrics`). Privacy is enforced
 * here, whatever an instrumentation records: the `PrivacySpanProcessor` scrubs every span
 * before export, live metrics (which stream request details) stay off, incoming health probes
 * are not traced, and no SDK statistics go to Microsoft. Every operation is sampled; raw outgoing
 * HTTP and the Azure SDKs are not traced (their URLs would name Cosmos items): the store and blob
 * call histograms stand for the dependencies.
 *
 * In a Function App, `startTelemetryFromEnvironment` runs first of all (platform/telemetry-first.ts)
 * and registers the Azure Functions instrumentation, as "Use OpenTelemetry with Azure Functions"
 * (learn.microsoft.com/azure/azure-functions/opentelemetry-howto) describes for JavaScript.
 */
import { metrics as otelMetrics, trace } from '@opentelemetry/api';
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import type { TokenCredential } from '@azure/core-auth';
import { createMetrics, noopMetrics, type Metrics } from './metrics';
import { SettingsReader } from './settings';
import { PrivacySpanProcessor } from './telemetry-privacy';

export const CONNECTION_STRING_ENV = 'APPLICATIONINSIGHTS_CONNECTION_STRING';
export const AUTHENTICATION_STRING_ENV = 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING';

/** The settings-table rows both apps (and the local stack) carry, in their tables' shape. */
export const TELEMETRY_SETTING = {
  env: CONNECTION_STRING_ENV,
  required: false,
  description: 'Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=https://...). Unset: no telemetry is exported. See README "Telemetry".',
} as const;
export const TELEMETRY_AUTH_SETTING = {
  env: AUTHENTICATION_STRING_ENV,
  required: false,
  description: '"Authorization=AAD" (or "Authorization=AAD;ClientId=<guid>" for a user-assigned identity): telemetry is sent with the managed identity, for a resource with local auth off.',
} as const;

export interface TelemetrySettings {
  /** Unset: telemetry off. */
  connectionString?: string;
  /** Send with a managed identity (Entra ID) instead of the key alone; `clientId` names a user-assigned one. */
  entraId?: { clientId?: string };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why a connection string is unusable, or `undefined`. Never quotes the value: it holds the
 * instrumentation key, which lets anyone send telemetry to the resource.
 */
export function connectionStringProblem(text: string): string | undefined {
  const fields = new Map<string, string>();
  for (const part of text.split(';').map((item) => item.trim()).filter((item) => item !== '')) {
    const equals = part.indexOf('=');
    if (equals <= 0) return 'must be "Name=value" pairs separated by ";"';
    fields.set(part.slice(0, equals).toLowerCase(), part.slice(equals + 1).trim());
  }
  const key = fields.get('instrumentationkey');
  if (key === undefined) return 'must name an InstrumentationKey';
  if (!GUID.test(key)) return 'has an InstrumentationKey that is not a GUID';
  const endpoint = fields.get('ingestionendpoint');
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    // The exporter always speaks HTTPS to the ingestion endpoint, even when the URL says http.
    if (url?.protocol !== 'https:') return 'has an IngestionEndpoint that is not an https URL';
  }
  return undefined;
}

/** The identity an authentication string names, or a problem (the Functions host's format: `Authorization=AAD[;ClientId=<guid>]`). */
export function parseAuthenticationString(text: string): { clientId?: string } | string {
  const fields = new Map(text.split(';').map((part) => part.trim()).filter((part) => part !== '').map((part) => [part.slice(0, Math.max(0, part.indexOf('='))).toLowerCase(), part.slice(part.indexOf('=') + 1).trim()] as const));
  if (fields.get('authorization')?.toUpperCase() !== 'AAD') return 'must be "Authorization=AAD" or "Authorization=AAD;ClientId=<guid>"';
  const clientId = fields.get('clientid');
  if (clientId !== undefined && !GUID.test(clientId)) return 'has a ClientId that is not a GUID';
  return clientId === undefined ? {} : { clientId };
}

/** Reads the two settings through a component's settings reader (problems join its list). */
export function readTelemetrySettings(read: SettingsReader): TelemetrySettings {
  const connectionString = read.string(CONNECTION_STRING_ENV);
  const authentication = read.string(AUTHENTICATION_STRING_ENV);
  const settings: TelemetrySettings = {};
  if (connectionString !== undefined) {
    const problem = connectionStringProblem(connectionString);
    if (problem) read.problems.push(`${CONNECTION_STRING_ENV} ${problem}`);
    settings.connectionString = connectionString;
  }
  if (authentication !== undefined) {
    const entraId = parseAuthenticationString(authentication);
    if (typeof entraId === 'string') read.problems.push(`${AUTHENTICATION_STRING_ENV} ${entraId}`);
    else settings.entraId = entraId;
  }
  return settings;
}

export interface TelemetryOptions {
  /** Certificates to trust for the ingestion endpoint besides the system's (a local stand-in). */
  ca?: Buffer;
  /**
   * Keep what could not be sent on disk and retry it later (the exporter's default). Off for
   * the local stack and tests: nothing is left in the temp directory.
   */
  offlineStorage?: boolean;
}

export interface Telemetry {
  enabled: boolean;
  metrics: Metrics;
  /** Exports what is buffered now (spans and metrics). */
  flush(): Promise<void>;
  /** Flushes and stops exporting; later records go nowhere. */
  shutdown(): Promise<void>;
}

const DISABLED: Telemetry = { enabled: false, metrics: noopMetrics, flush: async () => undefined, shutdown: async () => undefined };

let current: Telemetry = DISABLED;

/** The process's telemetry: the one `startTelemetry` set up, or the disabled one. */
export function currentTelemetry(): Telemetry {
  return current;
}

/** Whether spans are recorded: the span helpers skip all work when not. */
export function tracingEnabled(): boolean {
  return current.enabled;
}

/** A managed identity credential, loaded only when telemetry uses one. */
function managedIdentity(entraId: { clientId?: string }): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- @azure/identity is loaded only where telemetry sends with an identity
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return entraId.clientId ? new ManagedIdentityCredential({ clientId: entraId.clientId }) : new ManagedIdentityCredential();
}

/**
 * SDK statistics ("statsbeat") the exporter would send to a Microsoft endpoint, off: the documented
 * switch (`APPLICATIONINSIGHTS_STATSBEAT_DISABLED`, "Statsbeat in Application Insights") turns off
 * the non-essential part, and the exporter reads the older `APPLICATION_INSIGHTS_NO_STATSBEAT`
 * (@azure/monitor-opentelemetry-exporter, `LEGACY_ENV_DISABLE_STATSBEAT`) to send none at all.
 * Both are read from the environment when the exporter is made, so they are set before.
 */
export const STATSBEAT_OFF: Readonly<Record<string, string>> = { APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true', APPLICATION_INSIGHTS_NO_STATSBEAT: 'true' };

/** The distro's options: our processor, no live metrics, no trace of health probes, raw HTTP or the Azure SDKs. */
export function distroOptions(settings: Required<Pick<TelemetrySettings, 'connectionString'>> & TelemetrySettings, options: TelemetryOptions = {}): AzureMonitorOpenTelemetryOptions {
  return {
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      // With local auth off on the resource (the deployment's choice), only an Entra ID token is accepted.
      ...(settings.entraId ? { credential: managedIdentity(settings.entraId) } : {}),
      disableOfflineStorage: options.offlineStorage === false,
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    } as AzureMonitorOpenTelemetryOptions['azureMonitorExporterOptions'],
    enableLiveMetrics: false,
    // Every operation is kept: uploads are few and each one matters; the default would keep 5 traces a second.
    samplingRatio: 1,
    tracesPerSecond: 0,
    spanProcessors: [new PrivacySpanProcessor()],
    instrumentationOptions: {
      // The apps are bundled, so the SDK instrumentation could not hook them anyway; off everywhere, the same locally.
      azureSdk: { enabled: false },
      http: {
        enabled: true,
        // Probes arrive every 30 s from every edge location: counted by the edge, not traced here.
        ignoreIncomingRequestHook: (request: { url?: string }) => (request.url ?? '').startsWith('/api/health'),
        // Raw outgoing requests would be one span per Cosmos point read (30 per upload), URLs naming items.
        ignoreOutgoingRequestHook: () => true,
      } as NonNullable<AzureMonitorOpenTelemetryOptions['instrumentationOptions']>['http'],
    },
  };
}

interface Flushable {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => Flushable;
}

async function flushProviders(): Promise<void> {
  const tracerProvider = trace.getTracerProvider() as Flushable;
  const delegate = tracerProvider.getDelegate?.() ?? tracerProvider;
  await delegate.forceFlush?.();
  await (otelMetrics.getMeterProvider() as Flushable).forceFlush?.();
}

/**
 * Sets up export when a connection string is configured, once per process (a second call
 * answers the first setup). The distro is loaded only then: an app without telemetry does not
 * pay for its instrumentations.
 */
export function startTelemetry(settings: TelemetrySettings, options: TelemetryOptions = {}): Telemetry {
  if (current.enabled || settings.connectionString === undefined) return current;
  Object.assign(process.env, STATSBEAT_OFF);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when telemetry is on
  const distro = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  distro.useAzureMonitor(distroOptions({ ...settings, connectionString: settings.connectionString }, options));
  let stopped: Promise<void> | undefined;
  current = {
    enabled: true,
    metrics: createMetrics(otelMetrics.getMeter('keyfront')),
    flush: flushProviders,
    shutdown: () => {
      stopped ??= (async () => {
        await flushProviders();
        await distro.shutdownAzureMonitor();
        current = DISABLED;
      })();
      return stopped;
    },
  };
  return current;
}

/** `@azure/functions`, as the instrumentation and the hooks below use it. */
type AzureFunctions = typeof import('@azure/functions');

/**
 * In the Functions Node.js worker (it provides `@azure/functions-core`), registers the Azure Functions
 * instrumentation on `azFunc` ("Use OpenTelemetry with Azure Functions": `@azure/functions-opentelemetry-instrumentation`).
 * It tells the host that this worker exports its own telemetry (the `WorkerOpenTelemetryEnabled`
 * capability) and makes the host's trace context active around every invocation, so each span of
 * ours joins the host's operation. The apps are bundled, so the module is handed over with
 * `registerAzFunc` (the package's README: patching cannot see a module it does not load). An
 * `appTerminate` hook flushes what is buffered when the host stops the worker. Answers whether it
 * registered anything.
 */
export function instrumentAzureFunctions(azFunc: AzureFunctions, telemetry: Telemetry = current): boolean {
  if (!telemetry.enabled) return false;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- provided by the Functions worker only
    require('@azure/functions-core');
  } catch {
    return false;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when telemetry is on, inside the worker
  const { AzureFunctionsInstrumentationESM } = require('@azure/functions-opentelemetry-instrumentation') as typeof import('@azure/functions-opentelemetry-instrumentation');
  // Made after the distro set up the global providers, which an instrumentation takes when it is constructed.
  new AzureFunctionsInstrumentationESM().registerAzFunc(azFunc);
  azFunc.app.hook.appTerminate(() => telemetry.shutdown());
  return true;
}

/**
 * What a Function App runs before anything else: its two telemetry settings read from `env`,
 * telemetry started, and the Functions instrumentation registered. A bad value starts nothing
 * here: the app's own configuration load, next, refuses it and names the variable.
 */
export function startTelemetryFromEnvironment(env: NodeJS.ProcessEnv, azFunc: () => AzureFunctions): Telemetry {
  const read = new SettingsReader(env, [TELEMETRY_SETTING, TELEMETRY_AUTH_SETTING]);
  const settings = readTelemetrySettings(read);
  if (read.problems.length > 0) return current;
  const telemetry = startTelemetry(settings);
  if (telemetry.enabled) instrumentAzureFunctions(azFunc(), telemetry);
  return telemetry;
}
