/**
 * Telemetry setup, once per process: the Azure Monitor OpenTelemetry distro exports traces and
 * metrics to Application Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, and
 * nothing is set up otherwise (handlers then record into `noopMetrics`). Privacy is enforced
 * here, whatever an instrumentation records: the `PrivacySpanProcessor` scrubs every span
 * before export, live metrics (which stream request details) stay off, and incoming health
 * probes are not traced. Every operation is sampled; Azure SDK calls (Cosmos, Blob, Key Vault,
 * Front Door purges) are the dependencies, raw outgoing HTTP is not recorded twice.
 */
import { metrics as otelMetrics, trace } from '@opentelemetry/api';
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import { createMetrics, noopMetrics, type Metrics } from './metrics';
import type { SettingsReader } from './settings';
import { PrivacySpanProcessor } from './telemetry-privacy';

export const CONNECTION_STRING_ENV = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

/** The settings-table row both apps (and the local stack) carry, in their tables' shape. */
export const TELEMETRY_SETTING = {
  env: CONNECTION_STRING_ENV,
  required: false,
  description: 'Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=https://...). Unset: no telemetry is exported. See README "Telemetry".',
} as const;

export interface TelemetrySettings {
  /** Unset: telemetry off. */
  connectionString?: string;
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

/** Reads the connection string through a component's settings reader (problems join its list). */
export function readTelemetrySettings(read: SettingsReader): TelemetrySettings {
  const connectionString = read.string(CONNECTION_STRING_ENV);
  if (connectionString === undefined) return {};
  const problem = connectionStringProblem(connectionString);
  if (problem) read.problems.push(`${CONNECTION_STRING_ENV} ${problem}`);
  return { connectionString };
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

/** The distro's options: our processor, no live metrics, no trace of health probes. */
export function distroOptions(connectionString: string, options: TelemetryOptions = {}): AzureMonitorOpenTelemetryOptions {
  return {
    azureMonitorExporterOptions: {
      connectionString,
      disableOfflineStorage: options.offlineStorage === false,
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    } as AzureMonitorOpenTelemetryOptions['azureMonitorExporterOptions'],
    enableLiveMetrics: false,
    // Every operation is kept: uploads are few and each one matters; the default would keep 5 traces a second.
    samplingRatio: 1,
    tracesPerSecond: 0,
    spanProcessors: [new PrivacySpanProcessor()],
    instrumentationOptions: {
      http: {
        enabled: true,
        // Probes arrive every 30 s from every edge location: counted by the edge, not traced here.
        ignoreIncomingRequestHook: (request: { url?: string }) => (request.url ?? '').startsWith('/api/health'),
        // The Azure SDK instrumentation already records each Cosmos and Blob call once, by operation.
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when telemetry is on
  const distro = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  distro.useAzureMonitor(distroOptions(settings.connectionString, options));
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
