/**
 * `npm start`: the local stack. Each service is a module of `scripts/local-stack/` whose start
 * function resolves to `{ name, url, stop() }`; they start in this order and stop in reverse.
 */
import { loadLocalStackConfig, LocalStackConfigError } from './local-stack/config';
import { runLocalStack, StackError } from './local-stack/stack';
import type { StartService } from './local-stack/service';
// --- API engineer ---
import { startCosmosService } from './local-stack/cosmos-service';
import { startApiService } from './local-stack/api-service';
// --- publisher engineer ---
import { startPublisherService } from './local-stack/publisher-service';
// --- edge engineer ---
import { startEdgeService } from './local-stack/edge-service';
// --- telemetry engineer ---
import { startTelemetryService } from './local-stack/telemetry-service';

const SERVICES: StartService[] = [
  // --- telemetry engineer: first, so that it is stopped last and flushes the others' telemetry ---
  startTelemetryService,
  // --- API engineer ---
  startCosmosService,
  startApiService,
  // --- publisher engineer ---
  startPublisherService,
  // --- edge engineer ---
  startEdgeService,
];

async function main(): Promise<number> {
  try {
    const stack = await runLocalStack(SERVICES, loadLocalStackConfig());
    await stack.stopped;
    return 0;
  } catch (error) {
    // A service's own failure (bad settings, missing material, port in use) arrives as a StackError naming it.
    if (error instanceof StackError || error instanceof LocalStackConfigError) {
      process.stderr.write(`keyfront start: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`keyfront start: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
