/**
 * The first import of each Function App's entry (api/index.ts, publisher/index.ts): "useAzureMonitor
 * must be called before you import anything else" (Azure Monitor OpenTelemetry for JavaScript,
 * learn.microsoft.com/javascript/api/overview/azure/monitor-opentelemetry-readme), and the Azure
 * Functions instrumentation is registered before any function is. It reads only the two telemetry
 * settings; the app's configuration, loaded next, reads and checks all of them.
 */
import { startTelemetryFromEnvironment } from './telemetry';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- required only after the distro is set up
startTelemetryFromEnvironment(process.env, () => require('@azure/functions') as typeof import('@azure/functions'));
