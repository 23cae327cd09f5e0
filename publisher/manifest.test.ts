/** The manifest on a `MemoryBlobWriter`: read under the lock, written only with the lease and the version last seen; file metadata round trip. */
import { silentLogger } from '../platform/log';
import { MemoryBlobWriter } from './blob/memory-blob-writer';
import { acquireLock } from './lock';
import { emptyManifest, fileMetadata, manifestBlobName, publishedFileFromBlob, readManifest, signaturesOf, writeManifest, type Manifest, type PublishedFile } from './manifest';

const FILE: PublishedFile = { name: 'v1/440/1793577600-1793581200-00001.zip', start: 1793577600, end: 1793581200, n: 1, keys: 1000, revisedKeys: 2, bytes: 17654, sha256: 'a'.repeat(64), binSha256: 'b'.repeat(64), keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }, { keyId: '440', keyVersion: 'v2' }] };

async function lockedState(region: string) {
  const state = new MemoryBlobWriter('publisher-state');
  await state.ensureContainer({ publicRead: false });
  const lock = (await acquireLock(state, manifestBlobName(region), { leaseSeconds: 15, initialContent: Buffer.from(''), logger: silentLogger }))!;
  return { state, lock };
}

describe('readManifest', () => {
  it('reads an empty lock blob as the empty manifest of the region, with the blob ETag', async () => {
    const { state, lock } = await lockedState('440');
    const read = await readManifest(state, '440');
    expect(read).toEqual({ manifest: emptyManifest('440'), etag: (await state.read('440/manifest.json'))!.etag });
    await lock.release();
  });

  it('refuses a missing manifest, another region’s, and one of another version', async () => {
    const state = new MemoryBlobWriter('publisher-state');
    await state.ensureContainer({ publicRead: false });
    await expect(readManifest(state, '440')).rejects.toThrow('the publisher manifest of region 440 is missing although its lock is held');
    await state.create(manifestBlobName('441'), Buffer.from(JSON.stringify(emptyManifest('440'))), { contentType: 'application/json' });
    await expect(readManifest(state, '441')).rejects.toThrow('the publisher manifest of region 441 is not a version 1 manifest of that region');
    await state.create(manifestBlobName('442'), Buffer.from(JSON.stringify({ ...emptyManifest('442'), version: 2 })), { contentType: 'application/json' });
    await expect(readManifest(state, '442')).rejects.toThrow('not a version 1 manifest');
  });
});

describe('writeManifest', () => {
  const manifest: Manifest = {
    ...emptyManifest('440'),
    publishedThrough: FILE.end,
    ranges: [
      { start: FILE.end, end: FILE.end + 3600, files: [], realKeys: 0, realRevisedKeys: 0, paddingKeys: 0, publishedAt: 1, settled: false },
      { start: FILE.start, end: FILE.end, files: [FILE], realKeys: 10, realRevisedKeys: 2, paddingKeys: 990, publishedAt: 1, settled: true },
    ],
  };

  it('writes the ranges in start order with updatedAt, answers what it wrote, and reads back the same', async () => {
    const { state, lock } = await lockedState('440');
    const { etag } = await readManifest(state, '440');
    const written = await writeManifest(state, manifest, { etag, leaseId: lock.leaseId, now: 1234 });
    expect(written.manifest.ranges.map((r) => r.start)).toEqual([FILE.start, FILE.end]);
    expect(written.manifest.updatedAt).toBe(1234);
    expect(manifest.ranges[0].start).toBe(FILE.end); // the manifest given is left as it was
    expect(await readManifest(state, '440')).toEqual(written);
    await lock.release();
  });

  it('fails, changing nothing, after someone else wrote (stale ETag) or without the lease', async () => {
    const { state, lock } = await lockedState('440');
    const { etag } = await readManifest(state, '440');
    const first = await writeManifest(state, manifest, { etag, leaseId: lock.leaseId, now: 1 });
    await expect(writeManifest(state, emptyManifest('440'), { etag, leaseId: lock.leaseId, now: 2 })).rejects.toMatchObject({ name: 'BlobConditionError', code: 'ConditionNotMet' });
    await expect(writeManifest(state, emptyManifest('440'), { etag: first.etag, leaseId: '11111111-1111-1111-1111-111111111111', now: 2 })).rejects.toMatchObject({ name: 'BlobConditionError', code: 'LeaseIdMismatchWithBlobOperation' });
    await lock.release();
    await expect(writeManifest(state, emptyManifest('440'), { etag: first.etag, leaseId: lock.leaseId, now: 2 })).rejects.toMatchObject({ name: 'BlobConditionError', code: 'LeaseNotPresentWithBlobOperation' });
    expect(await readManifest(state, '440')).toEqual(first);
  });
});

describe('file metadata', () => {
  it('rebuilds a PublishedFile from a listed blob with our metadata, every key that signed it included', () => {
    expect(fileMetadata(FILE)).toMatchObject({ keyid: '440', keyversion: 'v1', signatures: '440/v1,440/v2' });
    expect(publishedFileFromBlob({ name: FILE.name, etag: '0x1', contentLength: FILE.bytes, metadata: fileMetadata(FILE) })).toEqual(FILE);
  });

  it('reads a blob written before files had several signatures as signed by its one key', () => {
    const { signatures: _all, ...single } = fileMetadata(FILE);
    const file = publishedFileFromBlob({ name: FILE.name, etag: '0x1', contentLength: FILE.bytes, metadata: single })!;
    expect(file.signatures).toBeUndefined();
    expect(signaturesOf(file)).toEqual([{ keyId: '440', keyVersion: 'v1' }]);
  });

  it.each([
    ['the index', { name: 'v1/440/index.txt', metadata: fileMetadata(FILE) }],
    ['a foreign name', { name: 'v1/440/other.zip', metadata: fileMetadata(FILE) }],
    ['a file without our metadata', { name: FILE.name, metadata: {} }],
    ['a file without its key count', { name: FILE.name, metadata: { sha256: 'a', binsha256: 'b' } }],
  ])('ignores %s', (_what, blob) => {
    expect(publishedFileFromBlob({ ...blob, etag: '0x1', contentLength: 1 })).toBeUndefined();
  });
});
