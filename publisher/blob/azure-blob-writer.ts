/** `BlobWriter` on Azure Blob storage (`@azure/storage-blob`), used as is against Azurite. */
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';
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

export class AzureBlobWriter implements BlobWriter {
  constructor(private readonly container: ContainerClient) {}

  static fromConnectionString(connectionString: string, containerName: string): AzureBlobWriter {
    return new AzureBlobWriter(BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName));
  }

  static fromAccountUrl(accountUrl: string, credential: TokenCredential, containerName: string): AzureBlobWriter {
    return new AzureBlobWriter(new BlobServiceClient(accountUrl, credential).getContainerClient(containerName));
  }

  get containerName(): string {
    return this.container.containerName;
  }

  /** The container's URL (`.../devstoreaccount1/exports` on Azurite). */
  get url(): string {
    return this.container.url;
  }

  async ensureContainer(options: { publicRead: boolean } & BlobRequestOptions): Promise<void> {
    await this.container.createIfNotExists({ access: options.publicRead ? 'blob' : undefined, abortSignal: options.abortSignal });
  }

  async create(name: string, data: Buffer, content: BlobContent, options: BlobRequestOptions = {}): Promise<CreateResult> {
    const blob = this.container.getBlockBlobClient(name);
    try {
      // One Put Blob request: the blob appears complete, with its metadata, or not at all.
      const response = await blob.upload(data, data.length, {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: headers(content),
        metadata: content.metadata,
        abortSignal: options.abortSignal,
      });
      return { created: true, etag: response.etag ?? '' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const properties = await blob.getProperties({ abortSignal: options.abortSignal });
      return { created: false, existing: { name, etag: properties.etag ?? '', contentLength: properties.contentLength ?? 0, metadata: properties.metadata ?? {} } };
    }
  }

  async replace(name: string, data: Buffer, content: BlobContent, options: ReplaceOptions): Promise<{ etag: string }> {
    const blob = this.container.getBlockBlobClient(name);
    try {
      const response = await blob.upload(data, data.length, {
        conditions: { ...(options.ifMatch === null ? { ifNoneMatch: '*' } : { ifMatch: options.ifMatch }), leaseId: options.leaseId },
        blobHTTPHeaders: headers(content),
        metadata: content.metadata,
        abortSignal: options.abortSignal,
      });
      return { etag: response.etag ?? '' };
    } catch (error) {
      if (isConditionFailure(error)) throw conditionError(name, 'conditional write lost on', error);
      throw error;
    }
  }

  async read(name: string, options: BlobRequestOptions = {}): Promise<StoredBlob | undefined> {
    try {
      const response = await this.container.getBlockBlobClient(name).download(0, undefined, { abortSignal: options.abortSignal });
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
      const data = Buffer.concat(chunks);
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
    for await (const item of this.container.listBlobsFlat({ prefix, includeMetadata: true, abortSignal: options.abortSignal })) {
      yield { name: item.name, etag: item.properties.etag ?? '', contentLength: item.properties.contentLength ?? 0, metadata: item.metadata ?? {} };
    }
  }

  async delete(name: string, options: BlobRequestOptions = {}): Promise<boolean> {
    try {
      const response = await this.container.getBlockBlobClient(name).deleteIfExists({ abortSignal: options.abortSignal });
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
      await client.acquireLease(durationSeconds, { abortSignal: options.abortSignal });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return undefined;
      throw error;
    }
    return {
      leaseId: client.leaseId,
      renew: async (renewOptions: BlobRequestOptions = {}) => {
        try {
          await client.renewLease({ abortSignal: renewOptions.abortSignal });
        } catch (error) {
          if (isConditionFailure(error)) throw conditionError(name, 'lease lost on', error);
          throw error;
        }
      },
      release: async (releaseOptions: BlobRequestOptions = {}) => {
        try {
          await client.releaseLease({ abortSignal: releaseOptions.abortSignal });
        } catch (error) {
          // A lease that is already gone needs no release.
          if (!isConditionFailure(error)) throw error;
        }
      },
    };
  }
}
