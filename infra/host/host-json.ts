/**
 * The host.json of each Function App. Both run HTTP or timer triggers only, which the Functions
 * host carries itself: no extension bundle to download at start. The publisher's timeout covers
 * its run deadline plus the abort margin (publisher/timer.ts: deadline + 30 s) and stays within
 * the Consumption plan's 10-minute ceiling, so the dev profile runs the same package.
 */
export type AppName = 'api' | 'publisher';
export const APPS: readonly AppName[] = ['api', 'publisher'];

export const FUNCTION_TIMEOUT: Record<AppName, string> = {
  api: '00:00:30',
  publisher: '00:10:00',
};

/**
 * The host hands its telemetry to OpenTelemetry ("Use OpenTelemetry with Azure Functions": `telemetryMode`
 * in host.json): it exports its logs and traces itself, and its Application Insights SDK pipeline,
 * which records each caller's address from X-Forwarded-For (App Insights "Geolocation and IP address
 * handling"), does not run. `logging.applicationInsights` no longer applies in this mode (the same page).
 */
export const TELEMETRY_MODE = 'OpenTelemetry';

/**
 * Which host log categories reach the workspace (host.json `logging.logLevel`; a category takes the
 * level of its longest matching prefix). The app writes one JSON line per event to stdout, which the
 * host logs as `Host.Function.Console` at Information (its `FunctionConsoleLogCategoryName`), so that
 * category is let through at Information; everything else of the host only from Warning up: its
 * per-request Information lines (ASP.NET Core's "Request starting ... URL", "Executing 'Functions.x'")
 * would carry URLs and query strings.
 */
export const HOST_LOG_LEVELS: Readonly<Record<string, string>> = { default: 'Warning', 'Host.Function.Console': 'Information' };

export function hostJson(app: AppName): Record<string, unknown> {
  return {
    version: '2.0',
    functionTimeout: FUNCTION_TIMEOUT[app],
    telemetryMode: TELEMETRY_MODE,
    logging: { logLevel: HOST_LOG_LEVELS },
    ...(app === 'api' ? { extensions: { http: { routePrefix: 'api' } } } : {}),
  };
}
