/** Fills an Azurite account with export files the way the publisher lays them out (container `exports`, public blobs). */
import { BlobServiceClient } from '@azure/storage-blob';

export interface ExportFile {
  body: string | Buffer;
  contentType?: string;
  cacheControl?: string;
}

export async function fillExports(connectionString: string, files: Record<string, ExportFile>): Promise<void> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient('exports');
  await container.createIfNotExists({ access: 'blob' });
  for (const [name, file] of Object.entries(files)) {
    const body = typeof file.body === 'string' ? Buffer.from(file.body) : file.body;
    await container.getBlockBlobClient(name).uploadData(body, { blobHTTPHeaders: { blobContentType: file.contentType ?? 'application/octet-stream', blobCacheControl: file.cacheControl } });
  }
}

/** Polls `check` until it returns true; fails after `attempts` tries (a bounded wait, not a timing assertion). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, options: { attempts?: number; intervalInMs?: number } = {}): Promise<void> {
  const attempts = options.attempts ?? 200;
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalInMs ?? 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
