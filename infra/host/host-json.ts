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

export function hostJson(app: AppName): Record<string, unknown> {
  return {
    version: '2.0',
    functionTimeout: FUNCTION_TIMEOUT[app],
    logging: {
      // Our own structured logs carry what matters; the host's request telemetry is sampled.
      applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: 'Exception' } },
      logLevel: { default: 'Warning', Function: 'Information', 'Host.Results': 'Information' },
    },
    ...(app === 'api' ? { extensions: { http: { routePrefix: 'api' } } } : {}),
  };
}
