/**
 * The Functions host's own telemetry for a load of functions-host-stand-in.ts, as the host sends
 * it to Application Insights: what its host.json lets through and in which shape. From the docs and
 * the host's source (Azure/azure-functions-host):
 *
 * - The worker's stdout is logged under `Host.Function.Console` at Information
 *   (`FunctionConsoleLogCategoryName`); each request adds ASP.NET Core's "Request starting/finished"
 *   lines (`Microsoft.AspNetCore.Hosting.Diagnostics`, Information, with the URL) and the host's
 *   "Executing/Executed 'Functions.x'" lines (`Function.<name>`, Information; Error when it failed).
 *   `logging.logLevel` decides which reach Application Insights: a category takes the level of its
 *   longest matching prefix, else `default` (host.json reference; "Configure monitoring for Azure
 *   Functions", categories).
 * - `telemetryMode: OpenTelemetry` ("Use OpenTelemetry with Azure Functions"): the host exports
 *   through OpenTelemetry (`OpenTelemetryConfigurationExtensions`): `Function.*` logs are dropped when
 *   the worker reports `WorkerOpenTelemetryEnabled`, `Azure.*`, `Host.Results` and `Host.Aggregator`
 *   always; requests are ASP.NET Core instrumentation spans (`HttpInListener`: method, scheme, path,
 *   query with its values redacted, user agent, route, status; no client address), which the Azure
 *   Monitor exporter turns into requests with `ai.user.userAgent` and no `ai.location.ip`.
 * - Otherwise the host's Application Insights SDK sends each invocation as a request whose client
 *   address comes from `X-Forwarded-For` (its last entry: "Geolocation and IP address handling"),
 *   which App Insights geolocates.
 *
 * Either way the host passes its request's W3C trace context to the worker (`traceContext`), so
 * the app's spans join the host's operation.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Envelope } from '../support/ingestion-stand-in';
import type { HostLoad, Invocation, Invoke } from './functions-host-stand-in';

const LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical', 'None'];

/** The level host.json gives `category`: its longest matching prefix (on dotted segments), else `default`, else Information. */
export function levelOf(category: string, logLevel: Record<string, string>): string {
  let best: string | undefined;
  for (const key of Object.keys(logLevel)) {
    if (key === 'default') continue;
    if ((category === key || category.startsWith(`${key}.`)) && (best === undefined || key.length > best.length)) best = key;
  }
  return logLevel[best ?? 'default'] ?? 'Information';
}

function passes(level: string, category: string, logLevel: Record<string, string>): boolean {
  const threshold = levelOf(category, logLevel);
  return threshold !== 'None' && LEVELS.indexOf(level) >= LEVELS.indexOf(threshold);
}

export interface HostTelemetryOptions {
  hostJson: { telemetryMode?: string; logging?: { logLevel?: Record<string, string> } };
  /** The app's settings: the host exports only with a connection string. */
  env: Record<string, string>;
}

/** The trace context the host gives one invocation: its own request span. */
export interface HostSpan {
  traceId: string;
  spanId: string;
  traceParent: string;
}

export function hostSpan(): HostSpan {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceParent: `00-${traceId}-${spanId}-01` };
}

/** `invoke`, each with a fresh host span passed on as its trace context. */
export function withHostSpans(invoke: Invoke[]): Invoke[] {
  return invoke.map((call) => ({ ...call, traceParent: hostSpan().traceParent }));
}

function openTelemetryMode(options: HostTelemetryOptions): boolean {
  return options.hostJson.telemetryMode?.toLowerCase() === 'opentelemetry';
}

function header(call: Invocation, name: string): string | undefined {
  return Object.entries(call.headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** ASP.NET Core's instrumentation redacts query values by default (`RedactionHelper`): `a=Redacted&b=Redacted`. */
function redactedQuery(path: string): string {
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  return query === '' ? '' : `?${query.split('&').map((pair) => `${pair.split('=')[0]}=Redacted`).join('&')}`;
}

function duration(ms: number): string {
  const seconds = ms / 1000;
  return `00:00:${seconds.toFixed(7).padStart(10, '0')}`;
}

const severity = (level: string) => (level === 'Information' ? 'Information' : level === 'Warning' ? 'Warning' : level === 'Error' ? 'Error' : 'Verbose');

/** The envelopes the host sends for `load` (none without a connection string). */
export function hostEnvelopes(load: HostLoad, options: HostTelemetryOptions): Envelope[] {
  if (!options.env.APPLICATIONINSIGHTS_CONNECTION_STRING) return [];
  const otel = openTelemetryMode(options);
  const logLevel = options.hostJson.logging?.logLevel ?? {};
  const site = options.env.WEBSITE_SITE_NAME ?? 'stand-in';
  const host = options.env.WEBSITE_HOSTNAME ?? `${site}.azurewebsites.net`;
  const time = new Date().toISOString();
  const tags = (extra: Record<string, string> = {}) => ({ 'ai.cloud.role': site, ...extra });
  const envelopes: Envelope[] = [];
  const log = (category: string, level: string, message: string, operation?: HostSpan) => {
    if (!passes(level, category, logLevel)) return;
    if (otel && (category === 'Host.Results' || category === 'Host.Aggregator' || category.startsWith('Azure.'))) return;
    if (otel && category.startsWith('Function.') && load.capabilities.WorkerOpenTelemetryEnabled === 'true') return;
    if (category === 'Host.Function.Console' && load.capabilities.WorkerApplicationInsightsLoggingEnabled === 'true') return;
    envelopes.push({ name: 'Microsoft.ApplicationInsights.Message', time, tags: tags(operation ? { 'ai.operation.id': operation.traceId, 'ai.operation.parentId': operation.spanId } : {}), data: { baseType: 'MessageData', baseData: { message, severityLevel: severity(level), properties: { CategoryName: category } } } });
  };
  for (const call of load.invocations) {
    const [, traceId, spanId] = (call.traceParent ?? hostSpan().traceParent).split('-');
    const span: HostSpan = { traceId, spanId, traceParent: call.traceParent ?? '' };
    const url = `https://${host}${call.path.split('?')[0]}`;
    log('Microsoft.AspNetCore.Hosting.Diagnostics', 'Information', `Request starting HTTP/1.1 ${call.method} https://${host}${call.path} - ${header(call, 'content-type') ?? '-'} ${call.body?.length ?? 0}`, span);
    log(`Function.${call.name}`, 'Information', `Executing 'Functions.${call.name}' (Reason='This function was programmatically called via the host APIs.', Id=${call.invocationId})`, span);
    const failed = call.status >= 500;
    log(`Function.${call.name}`, failed ? 'Error' : 'Information', `Executed 'Functions.${call.name}' (${failed ? 'Failed' : 'Succeeded'}, Id=${call.invocationId}, Duration=${call.durationMs}ms)`, span);
    log('Microsoft.AspNetCore.Hosting.Diagnostics', 'Information', `Request finished HTTP/1.1 ${call.method} https://${host}${call.path} - ${call.status}`, span);
    const userAgent = header(call, 'user-agent');
    if (otel) {
      envelopes.push({
        name: 'Microsoft.ApplicationInsights.Request',
        time,
        tags: tags({ 'ai.operation.id': span.traceId, 'ai.operation.name': `${call.method} /api/${call.name}`, ...(userAgent ? { 'ai.user.userAgent': userAgent } : {}) }),
        data: { baseType: 'RequestData', baseData: { id: span.spanId, name: `${call.method} /api/${call.name}`, duration: duration(call.durationMs), success: !failed, responseCode: String(call.status), url: `${url}${redactedQuery(call.path)}`, properties: {} } },
      });
    } else {
      // The Application Insights SDK's request, with the caller's address for geolocation.
      const forwarded = header(call, 'x-forwarded-for')?.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      envelopes.push({
        name: 'Microsoft.ApplicationInsights.Request',
        time,
        tags: tags({ 'ai.operation.id': span.traceId, 'ai.operation.name': call.name, ...(forwarded?.length ? { 'ai.location.ip': forwarded[forwarded.length - 1] } : {}) }),
        data: { baseType: 'RequestData', baseData: { id: span.spanId, name: call.name, duration: duration(call.durationMs), success: !failed, responseCode: String(call.status), url: `https://${host}${call.path}`, properties: {} } },
      });
      log('Host.Results', 'Information', `${call.name} ${failed ? 'failed' : 'succeeded'}`, span);
    }
  }
  for (const line of load.consoleLines) log('Host.Function.Console', 'Information', line);
  return envelopes;
}

/** Sends `envelopes` to the ingestion endpoint of the app's connection string (trusting `ca`), as the host's exporter does. */
export async function sendHostTelemetry(envelopes: Envelope[], options: HostTelemetryOptions, ca: Buffer): Promise<void> {
  if (envelopes.length === 0) return;
  const endpoint = /IngestionEndpoint=([^;]+)/i.exec(options.env.APPLICATIONINSIGHTS_CONNECTION_STRING ?? '')?.[1];
  if (!endpoint) throw new Error('the connection string names no IngestionEndpoint');
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const response = await request(new URL('v2.1/track', endpoint.endsWith('/') ? endpoint : `${endpoint}/`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelopes), dispatcher });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`the ingestion endpoint answered ${response.statusCode}`);
  } finally {
    await dispatcher.close();
  }
}
