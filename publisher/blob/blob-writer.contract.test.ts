/**
 * The `BlobWriter` contract, run against both implementations: `AzureBlobWriter` on Azurite (the
 * reference: what the Azure SDK and the storage service answer) and `MemoryBlobWriter`, which the
 * publisher's unit tests stand on. A case that passes on one and not the other is a memory writer
 * that lies about Azure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { AzureBlobWriter } from './azure-blob-writer';
import { BlobConditionError, type BlobInfo, type BlobWriter } from './blob-writer';
import { MemoryBlobWriter } from './memory-blob-writer';

let azurite: Azurite;
let fakeNow = Date.UTC(2026, 10, 2);

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite?.stop();
});

interface Backend {
  /** A writer on a container no other test uses (not created yet). */
  writer(): BlobWriter;
  /** Lets `ms` pass for the service's lease clock. */
  advance(ms: number): Promise<void>;
}

let containers = 0;
const containerName = () => `contract-${++containers}`;

const BACKENDS: Array<[string, () => Backend]> = [
  ['MemoryBlobWriter', () => ({ writer: () => new MemoryBlobWriter(containerName(), { clock: () => fakeNow }), advance: async (ms) => void (fakeNow += ms) })],
  ['AzureBlobWriter on Azurite', () => ({ writer: () => AzureBlobWriter.fromConnectionString(azurite.connectionString, containerName()), advance: (ms) => sleep(ms) })],
];

const TEXT = { contentType: 'text/plain; charset=utf-8', cacheControl: 'public, max-age=60' };

async function listed(writer: BlobWriter, prefix: string): Promise<BlobInfo[]> {
  const blobs: BlobInfo[] = [];
  for await (const blob of writer.list(prefix)) blobs.push(blob);
  return blobs;
}

async function ready(backend: Backend): Promise<BlobWriter> {
  const writer = backend.writer();
  await writer.ensureContainer({ publicRead: false });
  return writer;
}

const conditionLost = (code: string) => expect.objectContaining({ name: 'BlobConditionError', code });

describe.each(BACKENDS)('%s', (_name, makeBackend) => {
  const backend = makeBackend();

  it('has no container until ensureContainer: reads find nothing, writes fail with ContainerNotFound; creating twice is fine', async () => {
    const writer = backend.writer();
    expect(await writer.read('a')).toBeUndefined();
    await expect(writer.create('a', Buffer.from('x'), TEXT)).rejects.toMatchObject({ statusCode: 404, code: 'ContainerNotFound' });
    await writer.ensureContainer({ publicRead: true });
    await writer.ensureContainer({ publicRead: true });
    expect(await writer.create('a', Buffer.from('x'), TEXT)).toMatchObject({ created: true });
  });

  it('creates once (If-None-Match: *): a taken name keeps its blob and answers with it', async () => {
    const writer = await ready(backend);
    const first = await writer.create('v1/f.zip', Buffer.from('first'), { contentType: 'application/zip', cacheControl: 'public, max-age=31536000, immutable', metadata: { sha256: 'ab', keys: '3' } });
    expect(first).toEqual({ created: true, etag: expect.stringMatching(/^"0x[0-9A-F]+"$/) });
    const second = await writer.create('v1/f.zip', Buffer.from('second, longer'), { contentType: 'text/plain', metadata: { sha256: 'cd' } });
    expect(second).toEqual({ created: false, existing: { name: 'v1/f.zip', etag: (first as { etag: string }).etag, contentLength: 5, metadata: { sha256: 'ab', keys: '3' } } });
    expect(await writer.read('v1/f.zip')).toEqual({
      name: 'v1/f.zip',
      data: Buffer.from('first'),
      etag: (first as { etag: string }).etag,
      contentLength: 5,
      metadata: { sha256: 'ab', keys: '3' },
      contentType: 'application/zip',
      cacheControl: 'public, max-age=31536000, immutable',
    });
  });

  it('stores an empty blob, and a blob without Cache-Control reads back without one', async () => {
    const writer = await ready(backend);
    await writer.create('empty', Buffer.alloc(0), { contentType: 'application/json' });
    expect(await writer.read('empty')).toMatchObject({ data: Buffer.alloc(0), contentLength: 0, contentType: 'application/json', cacheControl: undefined, metadata: {} });
  });

  it('replaces only the version named (If-Match), or only an absent blob (ifMatch null); content, headers and metadata go together', async () => {
    const writer = await ready(backend);
    await expect(writer.replace('m', Buffer.from('x'), TEXT, { ifMatch: '"0x1"' })).rejects.toEqual(conditionLost('ConditionNotMet'));
    const { etag } = await writer.replace('m', Buffer.from('one'), { ...TEXT, metadata: { a: '1' } }, { ifMatch: null });
    await expect(writer.replace('m', Buffer.from('x'), TEXT, { ifMatch: null })).rejects.toEqual(conditionLost('BlobAlreadyExists'));
    await expect(writer.replace('m', Buffer.from('x'), TEXT, { ifMatch: '"0x1"' })).rejects.toBeInstanceOf(BlobConditionError);
    const replaced = await writer.replace('m', Buffer.from('two'), { contentType: 'application/json' }, { ifMatch: etag });
    expect(replaced.etag).not.toBe(etag);
    expect(await writer.read('m')).toEqual({ name: 'm', data: Buffer.from('two'), etag: replaced.etag, contentLength: 3, metadata: {}, contentType: 'application/json', cacheControl: undefined });
    // The old version is gone: writing against it loses.
    await expect(writer.replace('m', Buffer.from('three'), TEXT, { ifMatch: etag })).rejects.toEqual(conditionLost('ConditionNotMet'));
  });

  it('lists by prefix in name order, with sizes, metadata and the unquoted ETag of List Blobs', async () => {
    const writer = await ready(backend);
    for (const name of ['v1/440/b.zip', 'v1/441/a.zip', 'v1/440/a.zip', 'v1/440/index.txt', 'v1/4400/c.zip', 'other']) {
      await writer.create(name, Buffer.from(name), { ...TEXT, metadata: { n: String(name.length) } });
    }
    const blobs = await listed(writer, 'v1/440/');
    expect(blobs.map((b) => b.name)).toEqual(['v1/440/a.zip', 'v1/440/b.zip', 'v1/440/index.txt']);
    for (const blob of blobs) {
      const read = (await writer.read(blob.name))!;
      expect(blob).toEqual({ name: blob.name, etag: read.etag.slice(1, -1), contentLength: blob.name.length, metadata: { n: String(blob.name.length) } });
    }
    expect((await listed(writer, '')).map((b) => b.name)).toEqual(['other', 'v1/440/a.zip', 'v1/440/b.zip', 'v1/440/index.txt', 'v1/4400/c.zip', 'v1/441/a.zip']);
  });

  it('deletes idempotently: true once, then false', async () => {
    const writer = await ready(backend);
    await writer.create('gone', Buffer.from('x'), TEXT);
    expect(await writer.delete('gone')).toBe(true);
    expect(await writer.delete('gone')).toBe(false);
    expect(await writer.read('gone')).toBeUndefined();
    expect(await listed(writer, '')).toEqual([]);
  });

  it('leases: one holder at a time; writes need its id, a wrong or stale id loses; a leased blob cannot be deleted', async () => {
    const writer = await ready(backend);
    await expect(writer.acquireLease('missing', 15)).rejects.toMatchObject({ statusCode: 404, code: 'BlobNotFound' });
    await writer.create('lock', Buffer.from('{}'), TEXT);
    await writer.create('free', Buffer.from('{}'), TEXT);
    await expect(writer.acquireLease('lock', 14)).rejects.toMatchObject({ statusCode: 400, code: 'InvalidHeaderValue' });
    await expect(writer.acquireLease('lock', 61)).rejects.toMatchObject({ statusCode: 400, code: 'InvalidHeaderValue' });
    const lease = (await writer.acquireLease('lock', 15))!;
    expect(lease.leaseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await writer.acquireLease('lock', 15)).toBeUndefined();
    const { etag } = (await writer.read('lock'))!;
    await expect(writer.replace('lock', Buffer.from('x'), TEXT, { ifMatch: etag })).rejects.toEqual(conditionLost('LeaseIdMissing'));
    await expect(writer.replace('lock', Buffer.from('x'), TEXT, { ifMatch: etag, leaseId: '11111111-1111-1111-1111-111111111111' })).rejects.toEqual(conditionLost('LeaseIdMismatchWithBlobOperation'));
    await expect(writer.replace('lock', Buffer.from('x'), TEXT, { ifMatch: '"0x1"', leaseId: lease.leaseId })).rejects.toEqual(conditionLost('ConditionNotMet'));
    await expect(writer.replace('free', Buffer.from('x'), TEXT, { ifMatch: (await writer.read('free'))!.etag, leaseId: lease.leaseId })).rejects.toEqual(conditionLost('LeaseNotPresentWithBlobOperation'));
    await expect(writer.delete('lock')).rejects.toEqual(conditionLost('LeaseIdMissing'));
    const written = await writer.replace('lock', Buffer.from('{"a":1}'), TEXT, { ifMatch: etag, leaseId: lease.leaseId });
    expect((await writer.read('lock'))!.etag).toBe(written.etag);
    await lease.renew();
    await lease.release();
    await lease.release();
    await expect(lease.renew()).rejects.toEqual(conditionLost('LeaseIdMismatchWithLeaseOperation'));
    const next = await writer.acquireLease('lock', 60);
    expect(next).toBeDefined();
    await next!.release();
    expect(await writer.delete('lock')).toBe(true);
  });

  it('lets a lease run out on the service clock: then others may lease, the old id writes nothing, and it renews only if untouched', async () => {
    const writer = await ready(backend);
    for (const name of ['taken', 'untouched', 'written']) await writer.create(name, Buffer.from('{}'), TEXT);
    const taken = (await writer.acquireLease('taken', 15))!;
    const untouched = (await writer.acquireLease('untouched', 15))!;
    const written = (await writer.acquireLease('written', 15))!;
    await backend.advance(16_000);
    const { etag } = (await writer.read('taken'))!;
    await expect(writer.replace('taken', Buffer.from('x'), TEXT, { ifMatch: etag, leaseId: taken.leaseId })).rejects.toEqual(conditionLost('LeaseNotPresentWithBlobOperation'));
    const rival = await writer.acquireLease('taken', 15);
    expect(rival).toBeDefined();
    await expect(taken.renew()).rejects.toEqual(conditionLost('LeaseIdMismatchWithLeaseOperation'));
    await taken.release(); // the rival's lease stays
    expect(await writer.acquireLease('taken', 15)).toBeUndefined();
    // Nobody wrote or leased it since: Azure renews an expired lease.
    await untouched.renew();
    expect(await writer.acquireLease('untouched', 15)).toBeUndefined();
    // Written without a lease once it ran out: the old lease is gone for good.
    await writer.replace('written', Buffer.from('x'), TEXT, { ifMatch: (await writer.read('written'))!.etag });
    await expect(written.renew()).rejects.toEqual(conditionLost('LeaseIdMismatchWithLeaseOperation'));
    expect(await writer.delete('written')).toBe(true);
    await Promise.all([rival!.release(), untouched.release()]);
  }, 40_000);

  it('fails every request at once when its abort signal has fired', async () => {
    const writer = await ready(backend);
    const aborted = { abortSignal: AbortSignal.abort() };
    await expect(writer.create('a', Buffer.from('x'), TEXT, aborted)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(writer.read('a', aborted)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await writer.read('a')).toBeUndefined();
  });
});
