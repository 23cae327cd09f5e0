/**
 * The exports account's geo-replication, as the publisher needs it: the Last Sync Time, before
 * which every write of the primary is readable on the secondary. The index names a new file only
 * once the Last Sync Time has passed the file's creation: should the primary be lost, the
 * secondary (which the edge then reads) never holds an index naming a file it lacks. Azure does
 * not replicate blobs in order, so without this gate an index can reach the secondary before a
 * file it names (the storage drill showed it with a cached index).
 */
import type { BlobServiceClient } from '@azure/storage-blob';
import { withDeadline } from '../platform/deadline';

export interface GeoReplication {
  /** Epoch seconds; `undefined` when the secondary cannot say (bootstrap, unavailable, no secondary). */
  lastSyncTime(options?: { abortSignal?: AbortSignal }): Promise<number | undefined>;
}

/** Get Blob Service Stats on the account's `-secondary` endpoint (RA-GRS / RA-GZRS only), bounded like any Blob call. */
export class BlobServiceGeoReplication implements GeoReplication {
  private readonly timeoutInMs: number;

  constructor(
    private readonly secondary: BlobServiceClient,
    options: { timeoutInMs?: number } = {},
  ) {
    this.timeoutInMs = options.timeoutInMs ?? 30_000;
  }

  async lastSyncTime(options: { abortSignal?: AbortSignal } = {}): Promise<number | undefined> {
    const bound = { dependency: 'Blob storage (secondary)', operation: 'Get Blob Service Stats', timeoutInMs: this.timeoutInMs, abortSignal: options.abortSignal };
    const stats = await withDeadline(bound, (abortSignal) => this.secondary.getStatistics({ abortSignal }));
    const replication = stats.geoReplication;
    if (!replication || replication.status !== 'live' || !replication.lastSyncOn) return undefined;
    return Math.floor(replication.lastSyncOn.getTime() / 1000);
  }
}

export interface ReplicationGate {
  source: GeoReplication;
  /** A file not yet replicated after this long is listed anyway (the secondary may be down for hours). */
  maxWaitSeconds: number;
}

/**
 * Which of `files` the index may name now: those it names already (an index never takes a file
 * back), those created before the Last Sync Time, those whose creation is unknown (recorded before
 * the gate existed), and those older than the wait limit.
 */
export async function replicatedFiles<F extends { name: string; createdAt?: number }>(
  files: readonly F[],
  gate: ReplicationGate | undefined,
  wallNowSeconds: number,
  options: { abortSignal?: AbortSignal; alreadyListed?: ReadonlySet<string> } = {},
): Promise<{ listable: F[]; waiting: number }> {
  const isNew = (file: F) => file.createdAt !== undefined && !options.alreadyListed?.has(file.name) && wallNowSeconds - file.createdAt < (gate?.maxWaitSeconds ?? 0);
  if (!gate || !files.some(isNew)) return { listable: [...files], waiting: 0 };
  // A secondary that cannot answer holds new files back, within the wait limit.
  const lastSync = await gate.source.lastSyncTime({ abortSignal: options.abortSignal }).catch(() => undefined);
  const listable = files.filter((file) => !isNew(file) || (lastSync !== undefined && file.createdAt! <= lastSync));
  return { listable, waiting: files.length - listable.length };
}
