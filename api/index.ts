/**
 * Entry of the `api` Function App: telemetry first (platform/telemetry-first.ts), then the settings
 * read once, the runtime built and every route of the table registered with `app.http`
 * (anonymous: the checks are ours, starting with Front Door's).
 */
import '../platform/telemetry-first';
import { app } from '@azure/functions';
import { loadApiConfig } from './config';
import { ALL_METHODS, bindRoute, ROUTES } from './routes';
import { createApiRuntime } from './runtime';
import { currentTelemetry } from '../platform/telemetry';

const config = loadApiConfig(process.env);
const api = createApiRuntime(config, { metrics: currentTelemetry().metrics });

for (const route of ROUTES) {
  app.http(route.name, { route: route.route, methods: ALL_METHODS, authLevel: 'anonymous', handler: bindRoute(route, api) });
}
