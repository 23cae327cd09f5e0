/**
 * The local stack, as one typed description: its services in start order, the ports each listens on
 * (settings in `config.ts`), the `stack.json` entries each needs from the services before it and
 * those it adds. `npm start` starts this list; a new service (telemetry, drills) is one more entry,
 * and `services.test.ts` checks that the order satisfies every need and that each port has one owner.
 */
import { startApiService } from './api-service';
import type { PortName } from './config';
import { startCosmosService } from './cosmos-service';
import { startEdgeService } from './edge-service';
import { startPublisherService } from './publisher-service';
import type { StartService } from './service';
import { startTelemetryService } from './telemetry-service';

export interface StackService {
  name: string;
  ports: readonly PortName[];
  /** `stack.json` entries that services started before it must provide. */
  needs: readonly string[];
  /** `stack.json` entries it adds. */
  provides: readonly string[];
  start: StartService;
}

export const STACK_SERVICES: readonly StackService[] = [
  // First, so that it stops last and flushes the other services' telemetry.
  { name: 'telemetry', ports: [], needs: [], provides: [], start: startTelemetryService },
  { name: 'cosmos', ports: ['cosmos'], needs: [], provides: ['cosmosEndpoint'], start: startCosmosService },
  { name: 'api', ports: ['api'], needs: ['cosmosEndpoint'], provides: ['apiUrl', 'frontDoorId', 'region', 'healthAuthorityId'], start: startApiService },
  {
    name: 'publisher',
    ports: ['blob'],
    needs: ['cosmosEndpoint'],
    provides: ['blobEndpoint', 'blobConnectionString', 'exportsUrl', 'indexUrls', 'publisherSettings'],
    start: startPublisherService,
  },
  { name: 'edge', ports: ['edge', 'edgeAdmin'], needs: ['apiUrl', 'blobEndpoint', 'frontDoorId'], provides: ['edgeUrl', 'edgeAdminUrl'], start: startEdgeService },
];
