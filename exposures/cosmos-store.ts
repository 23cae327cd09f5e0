/**
 * `ExposureStore` on Cosmos DB (`@azure/cosmos`), container `exposures`.
 *
 * Partitioning: `/pk` = `{region}|{shard}`, the shard taken from the exposure id (itself a hash of
 * region and key bytes), so a key always lands in the same logical partition whenever it is
 * uploaded: the document id is unique per partition, which makes a re-upload a 409, never a second
 * document. Writes of one moment spread over the shards; a window read of one region is one
 * single-partition query per shard on the indexed `publishAt`, paged with continuation tokens.
 * The number of shards is fixed for the life of a container (it decides where a key lives).
 */
import { setMaxListeners } from 'node:events';
import type { Container, CosmosClient, FeedResponse, IndexingPolicy, SqlQuerySpec } from '@azure/cosmos';
import { DependencyTimeoutError, withDeadline, withPageDeadline } from '../platform/deadline';
import { tekFromJson, tekToJson, type TekJson } from '../proto/tek';
import { StoreUnavailableError, type Exposure, type ExposureRevision, type ExposureSource, type ExposureStore, type ListOptions, type StoreOptions } from './exposure-store';

export const DEFAULT_DATABASE_ID = 'keyfront';
export const DEFAULT_CONTAINER_ID = 'exposures';
export const DEFAULT_SHARDS = 16;
/** Keys are useless after 14 days; Cosmos removes documents 15 days after their last write. */
export const DEFAULT_TTL_SECONDS = 15 * 86400;
const DEFAULT_PAGE_SIZE = 1000;
/** Parallel point operations per call: an upload has at most 30 keys per region. */
const CONCURRENCY = 16;
/** The document fields a listing returns (no system properties). */
const FIELDS = 'c.id, c.region, c.key, c.rollingStartNumber, c.rollingPeriod, c.transmissionRisk, c.reportType, c.daysSinceOnsetOfSymptoms, c.uploadedAt, c.publishAt, c.healthAuthorityId, c.traveler, c.revision, c.source';

/**
 * Only what queries filter on is indexed: writes cost fewer RUs and key data never enters an index.
 */
export const EXPOSURES_INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [{ path: '/pk/?' }, { path: '/publishAt/?' }, { path: '/uploadedAt/?' }, { path: '/revision/publishAt/?' }],
  excludedPaths: [{ path: '/*' }],
};

/** The stored document: the key in the upload JSON shape (`key` in base64) and what the store adds. */
export interface ExposureDocument extends TekJson {
  id: string;
  pk: string;
  region: string;
  uploadedAt: number;
  publishAt: number;
  healthAuthorityId?: string;
  traveler?: boolean;
  revision?: ExposureRevision;
  uploadId?: string;
  source?: ExposureSource;
}

export interface ExposuresContainerOptions {
  databaseId?: string;
  containerId?: string;
  defaultTtlInSeconds?: number;
  abortSignal?: AbortSignal;
}

/**
 * Creates the database and container when missing (local stack, tests; in Azure the deployment
 * creates them with the same definition) and returns the container.
 */
export async function ensureExposuresContainer(client: CosmosClient, options: ExposuresContainerOptions = {}): Promise<Container> {
  try {
    const { database } = await client.databases.createIfNotExists({ id: options.databaseId ?? DEFAULT_DATABASE_ID }, { abortSignal: options.abortSignal });
    const { container } = await database.containers.createIfNotExists(
      {
        id: options.containerId ?? DEFAULT_CONTAINER_ID,
        partitionKey: { paths: ['/pk'] },
        defaultTtl: options.defaultTtlInSeconds ?? DEFAULT_TTL_SECONDS,
        indexingPolicy: EXPOSURES_INDEXING_POLICY,
      },
      { abortSignal: options.abortSignal },
    );
    return container;
  } catch (error) {
    throw toStoreError(error, 'create the exposures container');
  }
}

const TRANSIENT_STATUS = new Set([408, 410, 449, 500, 502, 503, 504]);

/**
 * Maps a Cosmos SDK failure to what the callers act on: throttling (429, with the service's
 * retry-after) and unreachable or failing service become `StoreUnavailableError`; aborts and
 * anything else (bad credentials, missing container: configuration faults) pass through.
 */
export function toStoreError(error: unknown, operation: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof DependencyTimeoutError) return new StoreUnavailableError(error.message, 1000, { cause: error });
  const failure = error as { name?: string; code?: unknown; retryAfterInMs?: number; message?: string } | undefined;
  if (!failure || typeof failure !== 'object' || failure.name === 'AbortError') return error;
  const { code } = failure;
  if (code === 429) {
    const retryAfterInMs = typeof failure.retryAfterInMs === 'number' && failure.retryAfterInMs > 0 ? failure.retryAfterInMs : 1000;
    return new StoreUnavailableError(`Cosmos DB throttled ${operation}`, retryAfterInMs, { cause: error });
  }
  // The SDK's own request timeout (`connectionPolicy.requestTimeout`).
  if (failure.name === 'TimeoutError' || code === 'TimeoutError') return new StoreUnavailableError(`Cosmos DB did not answer in time (${operation})`, 1000, { cause: error });
  const network = typeof code === 'string' && /^E[A-Z_]+$/.test(code);
  if ((typeof code === 'number' && TRANSIENT_STATUS.has(code)) || network) {
    return new StoreUnavailableError(`Cosmos DB could not ${operation}: ${network ? code : `status ${String(code ?? failure.name)}`}`, 1000, { cause: error });
  }
  return error;
}

function statusOf(error: unknown): unknown {
  return (error as { code?: unknown } | undefined)?.code;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. The first failure aborts the operations
 * still in flight (through the signal `fn` receives) and is thrown once all have settled, so no
 * request outlives the call.
 */
async function forEachLimited<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const inner = new AbortController();
  setMaxListeners(limit * 4, inner.signal);
  const combined = signal ? AbortSignal.any([signal, inner.signal]) : inner.signal;
  setMaxListeners(limit * 4, combined);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      try {
        await fn(items[next++], combined);
      } catch (error) {
        failure ??= { error };
        inner.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

export interface CosmosExposureStoreOptions {
  container: Container;
  /** Logical partitions per region; fixed for the life of the container. */
  shards?: number;
  /**
   * Bound of each request (a point operation, a page of a query), the SDK's retries included: with
   * endpoint discovery on, as in Azure, the SDK retries a read that timed out on every region up to
   * 120 times. Past it: `StoreUnavailableError` naming Cosmos DB. Unset: only the caller's signal
   * bounds a call (the API's request deadline, shared by the requests of one moment).
   */
  timeoutInMs?: number;
}

/** The dependency's name in errors and logs. */
export const COSMOS_DB = 'Cosmos DB';

/** A Cosmos query's pages as an iterator (`fetchNext` until `hasMoreResults` says no). */
function pagesOf<T>(query: { hasMoreResults(): boolean; fetchNext(): Promise<FeedResponse<T>> }): AsyncIterator<FeedResponse<T>> {
  return { next: async () => (query.hasMoreResults() ? { done: false, value: await query.fetchNext() } : { done: true, value: undefined }) };
}

export class CosmosExposureStore implements ExposureStore {
  readonly container: Container;
  readonly shards: number;
  readonly timeoutInMs: number | undefined;

  constructor(options: CosmosExposureStoreOptions) {
    const shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new RangeError(`shards must be an integer from 1 to 1024, got ${String(shards)}`);
    this.container = options.container;
    this.shards = shards;
    this.timeoutInMs = options.timeoutInMs;
  }

  /** One request within the store's bound (when it has one). */
  private bounded<T>(operation: string, abortSignal: AbortSignal | undefined, call: (abortSignal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    if (this.timeoutInMs === undefined) return call(abortSignal);
    return withDeadline({ dependency: COSMOS_DB, operation, timeoutInMs: this.timeoutInMs, abortSignal }, call);
  }

  /** The pages of a query, each within the store's bound (when it has one). */
  private pages<T>(operation: string, abortSignal: AbortSignal | undefined, open: (abortSignal: AbortSignal | undefined) => { hasMoreResults(): boolean; fetchNext(): Promise<FeedResponse<T>> }): AsyncIterable<FeedResponse<T>> {
    if (this.timeoutInMs === undefined) return { [Symbol.asyncIterator]: () => pagesOf(open(abortSignal)) };
    return withPageDeadline({ dependency: COSMOS_DB, operation, timeoutInMs: this.timeoutInMs, abortSignal }, (signal) => pagesOf(open(signal)));
  }

  /** The partition key of an exposure: its region and the shard its id hashes to. */
  partitionKeyOf(region: string, id: string): string {
    const hash = Buffer.from(id, 'base64url');
    const shard = hash.length >= 4 ? hash.readUInt32BE(0) % this.shards : 0;
    return `${region}|${shard}`;
  }

  private partitionKeysOf(region: string): string[] {
    return Array.from({ length: this.shards }, (_, shard) => `${region}|${shard}`);
  }

  toDocument(exposure: Exposure): ExposureDocument {
    const tek = tekToJson(exposure.tek);
    const document: ExposureDocument = {
      id: exposure.id,
      pk: this.partitionKeyOf(exposure.region, exposure.id),
      region: exposure.region,
      key: tek.key,
      rollingStartNumber: tek.rollingStartNumber,
      rollingPeriod: tek.rollingPeriod,
      transmissionRisk: tek.transmissionRisk,
      uploadedAt: exposure.uploadedAt,
      publishAt: exposure.publishAt,
    };
    if (tek.reportType !== undefined) document.reportType = tek.reportType;
    if (tek.daysSinceOnsetOfSymptoms !== undefined) document.daysSinceOnsetOfSymptoms = tek.daysSinceOnsetOfSymptoms;
    if (exposure.healthAuthorityId !== undefined) document.healthAuthorityId = exposure.healthAuthorityId;
    if (exposure.traveler !== undefined) document.traveler = exposure.traveler;
    if (exposure.revision !== undefined) document.revision = { ...exposure.revision };
    if (exposure.uploadId !== undefined) document.uploadId = exposure.uploadId;
    if (exposure.source !== undefined) document.source = { ...exposure.source };
    return document;
  }

  /** A stored document back to the model; a document that does not hold a valid key is an error naming its id only. */
  fromDocument(document: Omit<ExposureDocument, 'pk'>): Exposure {
    const read = tekFromJson({
      key: document.key,
      rollingStartNumber: document.rollingStartNumber,
      rollingPeriod: document.rollingPeriod,
      transmissionRisk: document.transmissionRisk,
      reportType: document.reportType,
      daysSinceOnsetOfSymptoms: document.daysSinceOnsetOfSymptoms,
    });
    if (!read.ok) throw new Error(`stored exposure ${document.id} is malformed (${read.code})`);
    const exposure: Exposure = { id: document.id, region: document.region, tek: read.tek, uploadedAt: document.uploadedAt, publishAt: document.publishAt };
    if (document.healthAuthorityId !== undefined) exposure.healthAuthorityId = document.healthAuthorityId;
    if (document.traveler !== undefined) exposure.traveler = document.traveler;
    if (document.revision !== undefined) exposure.revision = { ...document.revision };
    if (document.uploadId !== undefined) exposure.uploadId = document.uploadId;
    if (document.source !== undefined) exposure.source = { ...document.source };
    return exposure;
  }

  /** `create` per key, 409 counted as already stored: an existing document keeps its times. */
  async insert(exposures: readonly Exposure[], options: StoreOptions = {}): Promise<{ inserted: number; insertedIds: string[] }> {
    const insertedIds: string[] = [];
    await forEachLimited(exposures, CONCURRENCY, options.abortSignal, async (exposure, abortSignal) => {
      try {
        await this.bounded('create an exposure', abortSignal, (signal) => this.container.items.create(this.toDocument(exposure), { abortSignal: signal }));
        insertedIds.push(exposure.id);
      } catch (error) {
        if (statusOf(error) !== 409) throw toStoreError(error, 'store an exposure');
      }
    });
    return { inserted: insertedIds.length, insertedIds };
  }

  async get(region: string, ids: readonly string[], options: StoreOptions = {}): Promise<Exposure[]> {
    const found: (Exposure | undefined)[] = new Array(ids.length);
    const positions = ids.map((_, i) => i);
    await forEachLimited(positions, CONCURRENCY, options.abortSignal, async (i, abortSignal) => {
      try {
        const { resource } = await this.bounded('read an exposure', abortSignal, (signal) => this.container.item(ids[i], this.partitionKeyOf(region, ids[i])).read<ExposureDocument>({ abortSignal: signal }));
        if (resource && resource.region === region) found[i] = this.fromDocument(resource);
      } catch (error) {
        if (statusOf(error) !== 404) throw toStoreError(error, 'read an exposure');
      }
    });
    return found.filter((exposure): exposure is Exposure => exposure !== undefined);
  }

  /**
   * Sets `revision` on stored keys not yet revised: a conditional patch, so two concurrent
   * revisions of one key cannot both win (a key is revised at most once, as in the GAEN servers).
   */
  async revise(exposures: readonly Exposure[], options: StoreOptions = {}): Promise<{ revised: number }> {
    let revised = 0;
    const withRevision = exposures.filter((exposure) => exposure.revision !== undefined);
    await forEachLimited(withRevision, CONCURRENCY, options.abortSignal, async (exposure, abortSignal) => {
      try {
        await this.bounded('revise an exposure', abortSignal, (signal) =>
          this.container.item(exposure.id, this.partitionKeyOf(exposure.region, exposure.id)).patch(
            { operations: [{ op: 'set', path: '/revision', value: { ...exposure.revision } }], condition: 'FROM c WHERE NOT IS_DEFINED(c.revision)' },
            { abortSignal: signal },
          ),
        );
        revised++;
      } catch (error) {
        const status = statusOf(error);
        // 404: not stored; 412: already revised. Both leave the document as it is.
        if (status !== 404 && status !== 412) throw toStoreError(error, 'revise an exposure');
      }
    });
    return { revised };
  }

  /** One single-partition query per shard of `region`, each paged with continuation tokens. */
  private async *query(region: string, where: string, parameters: SqlQuerySpec['parameters'], options: ListOptions): AsyncIterable<Exposure[]> {
    for (const pk of this.partitionKeysOf(region)) {
      const spec: SqlQuerySpec = { query: `SELECT ${FIELDS} FROM c WHERE c.pk = @pk AND ${where}`, parameters: [{ name: '@pk', value: pk }, ...(parameters ?? [])] };
      const pages = this.pages(`a page of exposures of ${pk}`, options.abortSignal, (abortSignal) =>
        this.container.items.query<Omit<ExposureDocument, 'pk'>>(spec, { partitionKey: pk, maxItemCount: options.pageSize ?? DEFAULT_PAGE_SIZE, abortSignal }),
      );
      const iterator = pages[Symbol.asyncIterator]();
      for (;;) {
        let page: IteratorResult<FeedResponse<Omit<ExposureDocument, 'pk'>>>;
        try {
          page = await iterator.next();
        } catch (error) {
          throw toStoreError(error, 'list exposures');
        }
        if (page.done) break;
        if (page.value.resources.length > 0) yield page.value.resources.map((document) => this.fromDocument(document));
      }
    }
  }

  listForPublication(region: string, fromSeconds: number, toSeconds: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    return this.query(region, 'c.publishAt >= @from AND c.publishAt < @to', [{ name: '@from', value: fromSeconds }, { name: '@to', value: toSeconds }], options);
  }

  listRevisionsForPublication(region: string, fromSeconds: number, toSeconds: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    return this.query(region, 'c.revision.publishAt >= @from AND c.revision.publishAt < @to', [{ name: '@from', value: fromSeconds }, { name: '@to', value: toSeconds }], options);
  }

  /**
   * Deletes, shard by shard, a page of matching ids at a time and asks again, instead of following
   * a continuation over rows it is deleting. TTL does the same in Azure (15 days after the last
   * write, and a revision is a write); this makes it explicit.
   */
  async deleteUploadedBefore(region: string, beforeSeconds: number, options: StoreOptions = {}): Promise<{ deleted: number }> {
    let deleted = 0;
    for (const pk of this.partitionKeysOf(region)) {
      for (;;) {
        options.abortSignal?.throwIfAborted();
        const spec: SqlQuerySpec = {
          // Only indexed paths: a key whose revision is not yet as old stays (it may still have to be published).
          query: 'SELECT c.id FROM c WHERE c.pk = @pk AND c.uploadedAt < @before AND (NOT IS_DEFINED(c.revision.publishAt) OR c.revision.publishAt < @before)',
          parameters: [
            { name: '@pk', value: pk },
            { name: '@before', value: beforeSeconds },
          ],
        };
        let ids: { id: string }[];
        try {
          ({ resources: ids } = await this.bounded(`a page of old exposures of ${pk}`, options.abortSignal, (abortSignal) => this.container.items.query<{ id: string }>(spec, { partitionKey: pk, maxItemCount: DEFAULT_PAGE_SIZE, abortSignal }).fetchNext()));
        } catch (error) {
          throw toStoreError(error, 'list old exposures');
        }
        if (ids.length === 0) break;
        await forEachLimited(ids, CONCURRENCY, options.abortSignal, async ({ id }, abortSignal) => {
          try {
            await this.bounded('delete an exposure', abortSignal, (signal) => this.container.item(id, pk).delete({ abortSignal: signal }));
            deleted++;
          } catch (error) {
            if (statusOf(error) !== 404) throw toStoreError(error, 'delete an exposure');
          }
        });
      }
    }
    return { deleted };
  }

  /** A point read of an id that is never stored: a 404 proves the container answers, for 1 RU. */
  async ping(options: StoreOptions = {}): Promise<void> {
    try {
      await this.bounded('a ping (point read)', options.abortSignal, (abortSignal) => this.container.item('ping', 'ping').read({ abortSignal }));
    } catch (error) {
      if (statusOf(error) === 404) return;
      const mapped = toStoreError(error, 'answer a ping');
      throw mapped instanceof StoreUnavailableError ? mapped : new StoreUnavailableError('Cosmos DB did not answer a ping', 1000, { cause: error });
    }
  }
}
