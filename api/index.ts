/**
 * Entry of the `api` Function App: reads the settings once, builds the runtime and registers every
 * route of the table with `app.http` (anonymous: the checks are ours, starting with Front Door's).
 */
import { app } from '@azure/functions';
import { loadApiConfig } from './config';
import { ALL_METHODS, bindRoute, ROUTES } from './routes';
import { createApiRuntime } from './runtime';
import { startTelemetry } from '../platform/telemetry';

const config = loadApiConfig(process.env);
// Telemetry is set up (or not: no connection string) before the first request.
const api = createApiRuntime(config, { metrics: startTelemetry(config.telemetry).metrics });

for (const route of ROUTES) {
  app.http(route.name, { route: route.route, methods: ALL_METHODS, authLevel: 'anonymous', handler: bindRoute(route, api) });
}
