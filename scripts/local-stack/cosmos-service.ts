/** Local stack service: the Cosmos DB emulator on its configured port (in memory: keys last until the stack stops). */
import { startCosmosEmulator } from './cosmos-emulator';
import type { RunningService, StackContext } from './service';

export async function startCosmosService(context: StackContext): Promise<RunningService> {
  const emulator = await startCosmosEmulator({ port: context.config.ports.cosmos });
  return {
    name: 'cosmos',
    url: emulator.endpoint,
    description: 'Cosmos DB emulator (in memory, self-signed TLS)',
    stack: { cosmosEndpoint: emulator.endpoint },
    stop: () => emulator.stop(),
  };
}
