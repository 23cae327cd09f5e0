/**
 * The phones of a local drill: real client `Phone`s (conditional index read, verified downloads,
 * retries with backoff) syncing through the local edge, each on its own jittered schedule, a few
 * at a time. It counts what phones experience: syncs that ended well and syncs that failed after
 * all their retries, with the time of each, so a drill can say when phones read again.
 */
import { ClientError, Phone, type RetryPolicy } from '../../../client';

export interface FleetOptions {
  baseUrl: string;
  region: string;
  publicKeyPem: string;
  phones: number;
  syncIntervalInMs: number;
  /** Syncs in flight at once. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  /** Probability that a sync also sends a chaff upload (the client `Phone`'s `chaffRate`; 0 by default). */
  chaffRate?: number;
  /** The fetch of phone `i` (default: the global one). */
  fetchFor?: (phone: number) => (input: string, init?: RequestInit) => Promise<Response>;
}

export interface SyncEvent {
  phone: number;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  code?: string;
  message?: string;
}

export class PhoneFleet {
  readonly events: SyncEvent[] = [];
  private readonly phones: Phone[];
  private readonly nextSyncAt: Float64Array;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: FleetOptions) {
    const retry = options.retry ?? { attempts: 6, baseDelayInMs: 200, maxDelayInMs: 3000 };
    this.phones = Array.from(
      { length: options.phones },
      (_, i) => new Phone({ baseUrl: options.baseUrl, region: options.region, key: { publicKey: options.publicKeyPem }, retry, chaffRate: options.chaffRate, ...(options.fetchFor ? { env: { fetch: options.fetchFor(i) } } : {}) }),
    );
    this.nextSyncAt = new Float64Array(options.phones);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Starts the schedules: each phone's first sync at a random point of the first interval. */
  start(): void {
    const start = this.now();
    for (let i = 0; i < this.phones.length; i++) this.nextSyncAt[i] = start + Math.random() * this.options.syncIntervalInMs;
    this.running = true;
    this.loop = this.drive();
  }

  private async drive(): Promise<void> {
    const concurrency = this.options.concurrency ?? 8;
    while (this.running) {
      const now = this.now();
      for (let i = 0; i < this.phones.length && this.inFlight.size < concurrency; i++) {
        if (this.nextSyncAt[i] > now) continue;
        // Not due again until this sync ends and an interval (with jitter) has passed.
        this.nextSyncAt[i] = Number.POSITIVE_INFINITY;
        const sync = this.syncOne(i).finally(() => {
          this.inFlight.delete(sync);
          this.nextSyncAt[i] = this.now() + this.options.syncIntervalInMs * (0.5 + Math.random());
        });
        this.inFlight.add(sync);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(this.inFlight);
  }

  /** One sync; it failed when it threw or when a file of the index did not download or verify (the phone tries it again next time). */
  private async syncOne(i: number): Promise<void> {
    const startedAt = this.now();
    try {
      const { failed } = await this.phones[i].sync();
      const first = failed[0];
      this.events.push({ phone: i, startedAt, endedAt: this.now(), ok: first === undefined, ...(first ? { code: first.code, message: `${failed.length} files failed; first: ${first.message}` } : {}) });
    } catch (error) {
      this.events.push({ phone: i, startedAt, endedAt: this.now(), ok: false, code: error instanceof ClientError ? error.code : 'unexpected', message: (error as Error).message });
    }
  }

  /** Stops scheduling and waits for the syncs in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Every phone syncs once more, a few at a time (after the fleet stopped): the end state. */
  async syncAll(): Promise<void> {
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < this.phones.length) await this.syncOne(next++);
      }),
    );
  }

  /** Files each phone holds (verified), for the end check. */
  filesOf(i: number): string[] {
    return this.phones[i].state.files;
  }

  get size(): number {
    return this.phones.length;
  }
}
