/**
 * Local stack service: the local edge (the Front Door stand-in) on the edge port, serving
 * keyfront's edge declaration in front of the services started before it: `/api/*` to the local
 * API host, `/v1/*` to the exports in Azurite. It sets the stack's dev Front Door ID on every
 * request to the API, so phones and the CLI need nothing but the edge URL. Its admin port takes
 * the publisher's purges (`stack.json` names it as `edgeAdminUrl`).
 *
 * The exports' RA-GRS secondary is Azurite's `{account}-secondary` view of the same data: the
 * publisher writes only to the primary, and reads through the secondary see the same files, as in
 * Azure. (Both live in one Azurite process here; the failover itself is tested with two.)
 */
import { createLogger } from '../../platform/log';
import type { Env } from '../../platform/settings';
import { loadLocalEdgeConfig } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import type { RunningService, StackContext } from './service';

export async function startEdgeService(context: StackContext, env: Env = context.env ?? {}): Promise<RunningService> {
  const { apiUrl, blobEndpoint, frontDoorId } = context.stack;
  if (typeof apiUrl !== 'string' || typeof blobEndpoint !== 'string' || typeof frontDoorId !== 'string') {
    throw new Error('the edge service needs the api and publisher services started before it');
  }
  // The running stack decides origins, ports and the Front Door ID; the other edge settings come from the environment.
  const config = loadLocalEdgeConfig({
    ...env,
    KEYFRONT_EDGE_API_ORIGIN: apiUrl,
    KEYFRONT_EDGE_BLOB_ORIGIN: blobEndpoint,
    KEYFRONT_EDGE_FRONT_DOOR_ID: frontDoorId,
    KEYFRONT_EDGE_PORT: String(context.config.ports.edge),
    KEYFRONT_EDGE_ADMIN_PORT: String(context.config.ports.edgeAdmin),
    KEYFRONT_EDGE_PROBE_REGION: context.config.region,
  });
  const declaration = validateEdgeDeclaration(keyfrontEdge(config.environment), 'local');
  const edge = await startLocalEdge(declaration, {
    host: config.host,
    port: config.port,
    adminPort: config.adminPort,
    frontDoorId,
    probeIntervalInMs: config.probeIntervalInMs,
    cacheMaxBytes: config.cacheMaxBytes,
    logger: createLogger('edge', { level: config.logLevel }),
  });
  return {
    name: 'edge',
    url: edge.url,
    description: `local Front Door: /api/* -> API, /v1/* -> exports (cached); purge and metrics on ${edge.adminUrl}`,
    stack: { edgeUrl: edge.url, edgeAdminUrl: edge.adminUrl },
    stop: () => edge.stop(),
  };
}
