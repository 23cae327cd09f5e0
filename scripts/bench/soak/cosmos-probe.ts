/**
 * What the Cosmos DB emulator costs as it fills, measured apart from keyfront: once a minute the
 * soak counts the stored keys (a query, which the emulator answers by copying and scanning every
 * document of the container) and reads one missing id (a point read, which waits behind whatever
 * the emulator is busy with). Cosmos DB answers both from its indexes; the emulator's growing cost
 * is a stand-in's limit, which a soak must tell apart from keyfront's own.
 */
import { CosmosClient, type Container } from '@azure/cosmos';
import { DEFAULT_CONTAINER_ID, DEFAULT_DATABASE_ID } from '../../../exposures/cosmos-store';
import { cosmosEmulatorClientOptions } from '../../local-stack/cosmos-emulator';

export interface CosmosProbe {
  /** Seconds since the soak began. */
  at: number;
  documents: number;
  queryMs: number;
  pointReadMs: number;
}

export class CosmosProber {
  readonly probes: CosmosProbe[] = [];
  private readonly client: CosmosClient;
  private readonly container: Container;

  constructor(endpoint: string) {
    this.client = new CosmosClient(cosmosEmulatorClientOptions(endpoint));
    this.container = this.client.database(DEFAULT_DATABASE_ID).container(DEFAULT_CONTAINER_ID);
  }

  /** One probe; a failure is recorded as a probe of -1 ms (the emulator did not answer). */
  async probe(at: number): Promise<void> {
    const timed = async <T>(call: () => Promise<T>): Promise<{ ms: number; value?: T }> => {
      const started = performance.now();
      try {
        const value = await call();
        return { ms: Math.round(performance.now() - started), value };
      } catch {
        return { ms: -1 };
      }
    };
    const query = await timed(async () => (await this.container.items.query<number>('SELECT VALUE COUNT(1) FROM c', { abortSignal: AbortSignal.timeout(60_000) }).fetchAll()).resources[0] ?? 0);
    const read = await timed(() => this.container.item('soak-probe', 'soak-probe').read({ abortSignal: AbortSignal.timeout(60_000) }));
    this.probes.push({ at: Math.round(at), documents: query.value ?? -1, queryMs: query.ms, pointReadMs: read.ms });
  }

  close(): void {
    this.client.dispose();
  }
}
