/**
 * Local stack service: the write API on the local host, with the Cosmos store on the emulator
 * started before it and the dev material of the data directory (created on first run).
 */
import { CosmosClient } from '@azure/cosmos';
import { loadApiConfig } from '../../api/config';
import type { Env } from '../../platform/settings';
import { createApiRuntime } from '../../api/runtime';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { currentTelemetry } from '../../platform/telemetry';
import { startApiHost } from './api-host';
import { cosmosEmulatorClientOptions } from './cosmos-emulator';
import { devAttestationEnvironment, loadOrCreateDevAttestation } from './dev-attestation';
import { devApiEnvironment, loadOrCreateDevMaterial } from './dev-material';
import type { RunningService, StackContext } from './service';

export async function startApiService(context: StackContext, env: Env = context.env ?? {}): Promise<RunningService> {
  const cosmosEndpoint = context.stack.cosmosEndpoint;
  if (typeof cosmosEndpoint !== 'string') throw new Error('the api service needs the cosmos service started before it');
  const material = await loadOrCreateDevMaterial(context.config.dataDir);
  const attestation = await loadOrCreateDevAttestation(context.config.dataDir);
  // The dev material first, the environment on top: KEYFRONT_FRONT_DOOR_ID and the others override it.
  const config = loadApiConfig({ ...devApiEnvironment(material, context.config.region), ...devAttestationEnvironment(attestation), ...env, KEYFRONT_STORE: 'cosmos', KEYFRONT_COSMOS_ENDPOINT: cosmosEndpoint });
  const client = new CosmosClient(cosmosEmulatorClientOptions(cosmosEndpoint));
  const container = await ensureExposuresContainer(client, { databaseId: config.store.databaseId, containerId: config.store.containerId });
  const runtime = createApiRuntime(config, { store: new CosmosExposureStore({ container, shards: config.store.shards }), metrics: currentTelemetry().metrics });
  const host = await startApiHost({ runtime, port: context.config.ports.api });
  return {
    name: 'api',
    url: host.url,
    description: `write API: POST /api/v1/register, POST /api/v1/publish, GET /api/health; device attestation ${config.attestation.defaultMode} (KEYFRONT_ATTESTATION)`,
    stack: { apiUrl: host.url, frontDoorId: config.frontDoorIds[0], region: context.config.region, healthAuthorityId: material.healthAuthority.id },
    stop: async () => {
      await host.stop();
      client.dispose();
    },
  };
}
