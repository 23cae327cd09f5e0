/**
 * Local stack service: telemetry of both apps (one process here, so one setup, role
 * `keyfront-local`), exported when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set: to Application
 * Insights, or to a local ingestion stand-in (`npx tsx test/support/ingestion-stand-in.ts`, whose
 * certificate Node trusts through `NODE_EXTRA_CA_CERTS`). Started first and stopped last, so that
 * the last spans and metrics of the other services are flushed.
 */
import { SettingsReader } from '../../platform/settings';
import { readTelemetrySettings, startTelemetry, TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING } from '../../platform/telemetry';
import type { RunningService, StackContext } from './service';

/** The IngestionEndpoint of a connection string (not a secret, unlike its key), or the default service. */
function ingestionEndpointOf(connectionString: string): string {
  const field = connectionString.split(';').find((part) => part.trim().toLowerCase().startsWith('ingestionendpoint='));
  return field ? field.slice(field.indexOf('=') + 1).trim() : 'https://dc.services.visualstudio.com';
}

export async function startTelemetryService(_context: StackContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const read = new SettingsReader(env, [TELEMETRY_SETTING, TELEMETRY_AUTH_SETTING]);
  const settings = readTelemetrySettings(read);
  if (read.problems.length > 0) throw new Error(read.problems.join('; '));
  if (settings.connectionString === undefined) {
    return { name: 'telemetry', url: 'off', description: 'set APPLICATIONINSIGHTS_CONNECTION_STRING to export traces and metrics (README "Telemetry")', stop: async () => undefined };
  }
  // The distro reads it itself: a role name for the one local process (SDK statistics are off in every process: platform/telemetry.ts).
  env.OTEL_SERVICE_NAME ??= 'keyfront-local';
  const telemetry = startTelemetry(settings, { offlineStorage: false });
  return {
    name: 'telemetry',
    url: ingestionEndpointOf(settings.connectionString),
    description: 'traces and metrics of the api and the publisher (role keyfront-local)',
    stop: () => telemetry.shutdown(),
  };
}
