/**
 * `BlobWriter` on Azure Blob storage (`@azure/storage-blob`), used as is against Azurite. Every
 * operation is bounded (`timeoutInMs`, KEYFRONT_BLOB_TIMEOUT_MS): the SDK has no timeout by default,
 * and a storage account that stops answering would hold a publisher run, and its lock, for as long
 * as the outage lasts. Past the bound the operation is aborted and fails with a
 * `DependencyTimeoutError` naming Blob storage. Each try asks the service to give up after half of
 * it (`tryTimeoutInMs`, sent as the operation's `timeout` parameter), so a slow service answers
 * 500 OperationTimedOut in time for the SDK to retry within the bound.
 */
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, RestError, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { withDeadline, withPageDeadline } from '../../platform/deadline';
import { BlobConditionError, type BlobContent, type BlobInfo, type BlobLease, type BlobRequestOptions, type BlobWriter, type CreateResult, type ReplaceOptions, type StoredBlob } from './blob-writer';

/** Status codes of a lost condition: 409 (name taken, lease held) and 412 (etag or lease mismatch). */
function isConditionFailure(error: unknown): error is RestError {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

function errorCode(error: RestError): string {
  return String(error.code ?? (error.details as { errorCode?: string } | undefined)?.errorCode ?? error.statusCode);
}

function conditionError(name: string, what: string, error: RestError): BlobConditionError {
  return new BlobConditionError(`${what} ${name}: ${errorCode(error)}`, name, errorCode(error), { cause: error });
}

function headers(content: BlobContent) {
  return { blobContentType: content.contentType, blobCacheControl: content.cacheControl };
}

/** The default bound of one Blob operation: a file of up to 16 MB, a listing page, a lease call. */
export const DEFAULT_BLOB_TIMEOUT_IN_MS = 30_000;

/** The dependency's name in errors and logs. */
export const BLOB_STORAGE = 'Blob storage';

export interface AzureBlobWriterOptions {
  /** Bound of one operation, its retries included (default 30 s). */
  timeoutInMs?: number;
}

/**
 * Pipeline options of a Blob client whose operations are bounded by `timeoutInMs`: the service
 * gives up on a try after half of it (whole seconds, at least one: the `timeout` parameter of Blob
 * operations), and retry delays are short, so that a retry fits in the bound
 * (learn.microsoft.com/javascript/api/@azure/storage-blob/storageretryoptions).
 */
export function blobPipelineOptions(timeoutInMs: number): StoragePipelineOptions {
  const retryDelayInMs = Math.max(1, Math.min(1000, Math.round(timeoutInMs / 10)));
  return { retryOptions: { tryTimeoutInMs: Math.max(1000, Math.ceil(timeoutInMs / 2)), maxTries: 3, retryDelayInMs, maxRetryDelayInMs: Math.max(retryDelayInMs, Math.min(4000, Math.round(timeoutInMs / 4))) } };
}

export class AzureBlobWriter implements BlobWriter {
  readonly timeoutInMs: number;

  /** `container` should come from a client built with `blobPipelineOptions` (the factories do). */
  constructor(
    private readonly container: ContainerClient,
    options: AzureBlobWriterOptions = {},
  ) {
    this.timeoutInMs = options.timeoutInMs ?? DEFAULT_BLOB_TIMEOUT_IN_MS;
  }

  static fromConnectionString(connectionString: string, containerName: string, options: AzureBlobWriterOptions = {}): AzureBlobWriter {
    const client = BlobServiceClient.fromConnectionString(connectionString, blobPipelineOptions(options.timeoutInMs ?? DEFAULT_BLOB_TIMEOUT_IN_MS));
    return new AzureBlobWriter(client.getContainerClient(containerName), options);
  }

  static fromAccountUrl(accountUrl: string, credential: TokenCredential, containerName: string, options: AzureBlobWriterOptions = {}): AzureBlobWriter {
    const client = new BlobServiceClient(accountUrl, credential, blobPipelineOptions(options.timeoutInMs ?? DEFAULT_BLOB_TIMEOUT_IN_MS));
    return new AzureBlobWriter(client.getContainerClient(containerName), options);
  }

  /** Runs one operation (REST name, e.g. `Put Blob`) on `name` within the bound. */
  private bounded<T>(operation: string, name: string | undefined, options: BlobRequestOptions, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline({ dependency: BLOB_STORAGE, operation: `${operation} ${this.containerName}${name === undefined ? '' : `/${name}`}`, timeoutInMs: this.timeoutInMs, abortSignal: options.abortSignal }, call);
  }

  get containerName(): string {
    return this.container.containerName;
  }

  /** The container's URL (`.../devstoreaccount1/exports` on Azurite). */
  get url(): string {
    return this.container.url;
  }

  async ensureContainer(options: { publicRead: boolean } & BlobRequestOptions): Promise<void> {
    await this.bounded('Create Container', undefined, options, (abortSignal) => this.container.createIfNotExists({ access: options.publicRead ? 'blob' : undefined, abortSignal }));
  }

  async create(name: string, data: Buffer, content: BlobContent, options: BlobRequestOptions = {}): Promise<CreateResult> {
    const blob = this.container.getBlockBlobClient(name);
    try {
      // One Put Blob request: the blob appears complete, with its metadata, or not at all.
      const response = await this.bounded('Put Blob', name, options, (abortSignal) =>
        blob.upload(data, data.length, {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: headers(content),
          metadata: content.metadata,
          abortSignal,
        }),
      );
      return { created: true, etag: response.etag ?? '' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const properties = await this.bounded('Get Blob Properties', name, options, (abortSignal) => blob.getProperties({ abortSignal }));
      return { created: false, existing: { name, etag: properties.etag ?? '', contentLength: properties.contentLength ?? 0, metadata: properties.metadata ?? {} } };
    }
  }

  async replace(name: string, data: Buffer, content: BlobContent, options: ReplaceOptions): Promise<{ etag: string }> {
    const blob = this.container.getBlockBlobClient(name);
    try {
      const response = await this.bounded('Put Blob', name, options, (abortSignal) =>
        blob.upload(data, data.length, {
          conditions: { ...(options.ifMatch === null ? { ifNoneMatch: '*' } : { ifMatch: options.ifMatch }), leaseId: options.leaseId },
          blobHTTPHeaders: headers(content),
          metadata: content.metadata,
          abortSignal,
        }),
      );
      return { etag: response.etag ?? '' };
    } catch (error) {
      if (isConditionFailure(error)) throw conditionError(name, 'conditional write lost on', error);
      throw error;
    }
  }

  async read(name: string, options: BlobRequestOptions = {}): Promise<StoredBlob | undefined> {
    try {
      // The bound covers the body too: a download can stall after its headers.
      const { response, data } = await this.bounded('Get Blob', name, options, async (abortSignal) => {
        const response = await this.container.getBlockBlobClient(name).download(0, undefined, { abortSignal });
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
        return { response, data: Buffer.concat(chunks) };
      });
      return {
        name,
        data,
        etag: response.etag ?? '',
        contentLength: data.length,
        metadata: response.metadata ?? {},
        contentType: response.contentType,
        cacheControl: response.cacheControl,
      };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async *list(prefix: string, options: BlobRequestOptions = {}): AsyncIterable<BlobInfo> {
    // Each page within the bound; a listing of many pages may take longer.
    const bound = { dependency: BLOB_STORAGE, operation: `List Blobs ${this.containerName}/${prefix}*`, timeoutInMs: this.timeoutInMs, abortSignal: options.abortSignal };
    const pages = withPageDeadline(bound, (abortSignal) => this.container.listBlobsFlat({ prefix, includeMetadata: true, abortSignal }).byPage());
    for await (const page of pages) {
      for (const item of page.segment.blobItems) {
        yield { name: item.name, etag: item.properties.etag ?? '', contentLength: item.properties.contentLength ?? 0, metadata: item.metadata ?? {} };
      }
    }
  }

  async delete(name: string, options: BlobRequestOptions = {}): Promise<boolean> {
    try {
      const response = await this.bounded('Delete Blob', name, options, (abortSignal) => this.container.getBlockBlobClient(name).deleteIfExists({ abortSignal }));
      return response.succeeded;
    } catch (error) {
      // A leased blob (412 LeaseIdMissing) is a lost condition like any other.
      if (isConditionFailure(error)) throw conditionError(name, 'delete refused on', error);
      throw error;
    }
  }

  async acquireLease(name: string, durationSeconds: number, options: BlobRequestOptions = {}): Promise<BlobLease | undefined> {
    const client = this.container.getBlockBlobClient(name).getBlobLeaseClient();
    try {
      await this.bounded('Lease Blob (acquire)', name, options, (abortSignal) => client.acquireLease(durationSeconds, { abortSignal }));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return undefined;
      throw error;
    }
    return {
      leaseId: client.leaseId,
      renew: async (renewOptions: BlobRequestOptions = {}) => {
        try {
          await this.bounded('Lease Blob (renew)', name, renewOptions, (abortSignal) => client.renewLease({ abortSignal }));
        } catch (error) {
          if (isConditionFailure(error)) throw conditionError(name, 'lease lost on', error);
          throw error;
        }
      },
      release: async (releaseOptions: BlobRequestOptions = {}) => {
        try {
          await this.bounded('Lease Blob (release)', name, releaseOptions, (abortSignal) => client.releaseLease({ abortSignal }));
        } catch (error) {
          // A lease that is already gone needs no release.
          if (!isConditionFailure(error)) throw error;
        }
      },
    };
  }
}
