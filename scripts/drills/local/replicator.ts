/**
 * The RA-GRS secondary of the local storage drill: copies the primary account's containers to a
 * second Azurite, behind by a configurable lag. Like Azure's geo-replication it is asynchronous and
 * one-way, and it keeps a Last Sync Time: every write (and delete) on the primary older than that
 * instant is on the secondary. Writes are copied in the order the primary made them, which is what
 * the Last Sync Time guarantees for everything before it; nothing newer is promised.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

export interface ReplicatorOptions {
  primary: string;
  secondary: string;
  containers: readonly string[];
  /** How far the secondary stays behind the primary. */
  lagInMs: number;
  /** How often a pass runs. */
  intervalInMs?: number;
  now?: () => number;
}

export interface ReplicatorStatus {
  /** Every primary change before this instant (epoch ms) is on the secondary; 0 before the first pass. */
  lastSyncTime: number;
  blobsCopied: number;
  blobsDeleted: number;
  passesFailed: number;
}

interface Seen {
  etag: string;
  lastModified: number;
}

/** A primary blob not yet on the secondary at a cut: what a failover would lose. */
export interface UnreplicatedBlob {
  container: string;
  name: string;
  lastModified: number;
}

export class Replicator {
  private readonly primary: BlobServiceClient;
  private readonly secondary: BlobServiceClient;
  private readonly copied = new Map<string, Seen>();
  private readonly missingSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly aborter = new AbortController();
  readonly status: ReplicatorStatus = { lastSyncTime: 0, blobsCopied: 0, blobsDeleted: 0, passesFailed: 0 };

  constructor(private readonly options: ReplicatorOptions) {
    this.primary = BlobServiceClient.fromConnectionString(options.primary);
    this.secondary = BlobServiceClient.fromConnectionString(options.secondary);
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  async start(): Promise<void> {
    for (const name of this.options.containers) await this.secondary.getContainerClient(name).createIfNotExists();
    const tick = (): void => {
      if (this.stopped) return;
      this.pass = this.runPass()
        .catch(() => {
          this.status.passesFailed++;
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalInMs ?? 500);
        });
    };
    tick();
  }

  /** Stops copying (the primary is gone, or the secondary was promoted); waits for a pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A pass may hang on a dead primary (the SDK retries refused connections): cut it short.
    this.aborter.abort();
    await this.pass;
  }

  /** One pass: everything the primary changed up to `now - lag`, oldest first; deletes as old. */
  async runPass(): Promise<void> {
    const syncPoint = this.now - this.options.lagInMs;
    const changes: Array<{ container: string; name: string; seen: Seen }> = [];
    const present = new Set<string>();
    for (const container of this.options.containers) {
      for await (const item of this.primary.getContainerClient(container).listBlobsFlat({ abortSignal: this.aborter.signal })) {
        const key = `${container}/${item.name}`;
        present.add(key);
        const seen = { etag: item.properties.etag ?? '', lastModified: item.properties.lastModified?.getTime() ?? 0 };
        if (this.copied.get(key)?.etag !== seen.etag && seen.lastModified <= syncPoint) changes.push({ container, name: item.name, seen });
      }
    }
    changes.sort((a, b) => a.seen.lastModified - b.seen.lastModified);
    for (const change of changes) {
      if (this.stopped) return;
      // Only the version listed is copied: a newer one (the index rewritten since) waits for its own turn.
      if (!(await this.copy(this.primary.getContainerClient(change.container), this.secondary.getContainerClient(change.container), change.name, change.seen.etag))) continue;
      this.copied.set(`${change.container}/${change.name}`, change.seen);
      this.status.blobsCopied++;
    }
    for (const key of [...this.copied.keys()]) {
      if (present.has(key)) {
        this.missingSince.delete(key);
        continue;
      }
      const since = this.missingSince.get(key) ?? this.now;
      this.missingSince.set(key, since);
      if (since > syncPoint) continue;
      const slash = key.indexOf('/');
      await this.secondary.getContainerClient(key.slice(0, slash)).deleteBlob(key.slice(slash + 1), { deleteSnapshots: 'include', abortSignal: this.aborter.signal }).catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
      this.copied.delete(key);
      this.missingSince.delete(key);
      this.status.blobsDeleted++;
    }
    this.status.lastSyncTime = syncPoint;
  }

  /** Copies the blob if it is still the version `etag`; resolves `false` when the primary has changed it since. */
  private async copy(from: ContainerClient, to: ContainerClient, name: string, etag: string): Promise<boolean> {
    const source = from.getBlockBlobClient(name);
    const abortSignal = this.aborter.signal;
    const conditions = { ifMatch: etag };
    try {
      const properties = await source.getProperties({ abortSignal, conditions });
      const data = await source.downloadToBuffer(undefined, undefined, { abortSignal, conditions });
      await to.getBlockBlobClient(name).uploadData(data, {
        abortSignal,
        blobHTTPHeaders: { blobContentType: properties.contentType, blobCacheControl: properties.cacheControl, blobContentMD5: properties.contentMD5 },
        metadata: properties.metadata,
      });
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // 412: rewritten since the listing; 404: deleted since (the delete replicates in its turn).
      if (status === 412 || status === 404) return false;
      throw error;
    }
  }

  /** The primary's blobs that the secondary does not hold as they are on the primary. */
  async unreplicated(): Promise<UnreplicatedBlob[]> {
    const missing: UnreplicatedBlob[] = [];
    for (const container of this.options.containers) {
      for await (const item of this.primary.getContainerClient(container).listBlobsFlat()) {
        if (this.copied.get(`${container}/${item.name}`)?.etag !== item.properties.etag) {
          missing.push({ container, name: item.name, lastModified: item.properties.lastModified?.getTime() ?? 0 });
        }
      }
    }
    return missing;
  }
}
