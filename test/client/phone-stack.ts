/**
 * What the phone's tests run against: Azurite holding export files, the write API on the Cosmos
 * emulator, and the local edge (keyfront's declaration) in front of both, as in production.
 */
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { EXPORT_CACHE_CONTROL, INDEX_CACHE_CONTROL } from '../../publisher/index-file';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { fillExports, type ExportFile } from '../support/exports-fixture';
import { startHttpApi, type HttpApi } from '../support/http-api';

export interface PhoneStack {
  azurite: Azurite;
  api: HttpApi;
  edge: LocalEdge;
  /** Writes blobs of the exports container (as the publisher lays them out). */
  fill(files: Record<string, ExportFile>): Promise<void>;
  stop(): Promise<void>;
}

/** An export zip with the publisher's headers. */
export function zipFile(body: Buffer): ExportFile {
  return { body, contentType: 'application/zip', cacheControl: EXPORT_CACHE_CONTROL };
}

/** An index.txt naming `paths`, with the publisher's headers. */
export function indexFile(paths: string[], contentType = 'text/plain; charset=utf-8'): ExportFile {
  return { body: paths.join('\n'), contentType, cacheControl: INDEX_CACHE_CONTROL };
}

export async function startPhoneStack(files: Record<string, ExportFile>): Promise<PhoneStack> {
  const [azurite, api] = await Promise.all([startAzurite(), startHttpApi()]);
  await fillExports(azurite.connectionString, files);
  const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: api.host.url, blobPrimary: azurite.blobEndpoint })), 'local');
  const edge = await startLocalEdge(declaration, { frontDoorId: api.fixture.material.frontDoorId, probeIntervalInMs: 60_000 });
  return {
    azurite,
    api,
    edge,
    fill: (more) => fillExports(azurite.connectionString, more),
    stop: async () => {
      await edge.stop();
      await Promise.all([azurite.stop(), api.stop()]);
    },
  };
}
