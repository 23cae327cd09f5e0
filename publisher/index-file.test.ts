import { buildIndex, indexJsonListsFiles } from './index-file';
import type { PublishedFile } from './manifest';

function file(start: number, n: number): PublishedFile {
  return { name: `v1/440/${start}-${start + 3600}-0000${n}.zip`, start, end: start + 3600, n, keys: 1000 + n, revisedKeys: 0, bytes: 20000, sha256: 'ab'.repeat(32), binSha256: 'cd'.repeat(32), keyId: '440', keyVersion: 'v1' };
}

describe('index files', () => {
  const files = [file(7200, 1), file(3600, 2), file(3600, 1)];
  const index = buildIndex('440', files, new Date('2026-11-30T00:00:00Z'));

  it('lists paths oldest first in index.txt, one per line, without a trailing newline', () => {
    expect(index.txt).toBe('v1/440/3600-7200-00001.zip\nv1/440/3600-7200-00002.zip\nv1/440/7200-10800-00001.zip');
    expect(buildIndex('440', [], new Date()).txt).toBe('');
  });

  it('describes the same files in index.json, with the time it was generated', () => {
    expect(JSON.parse(index.json)).toEqual({
      region: '440',
      generatedAt: '2026-11-30T00:00:00.000Z',
      files: [
        { path: 'v1/440/3600-7200-00001.zip', start: 3600, end: 7200, keys: 1001, revisedKeys: 0, bytes: 20000, sha256: 'ab'.repeat(32), keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }] },
        { path: 'v1/440/3600-7200-00002.zip', start: 3600, end: 7200, keys: 1002, revisedKeys: 0, bytes: 20000, sha256: 'ab'.repeat(32), keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }] },
        { path: 'v1/440/7200-10800-00001.zip', start: 7200, end: 10800, keys: 1001, revisedKeys: 0, bytes: 20000, sha256: 'ab'.repeat(32), keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }] },
      ],
    });
  });

  it('names every key that signed a file, in order', () => {
    const rotated: PublishedFile = { ...file(10800, 1), signatures: [{ keyId: '440', keyVersion: 'v1' }, { keyId: '440', keyVersion: 'v2' }] };
    const entry = (JSON.parse(buildIndex('440', [rotated], new Date()).json) as { files: Array<Record<string, unknown>> }).files[0];
    expect(entry).toMatchObject({ keyId: '440', keyVersion: 'v1', signatures: [{ keyId: '440', keyVersion: 'v1' }, { keyId: '440', keyVersion: 'v2' }] });
  });

  it('tells whether a stored index.json lists the same files, whenever it was generated', () => {
    const later = buildIndex('440', files, new Date('2026-12-01T00:00:00Z'));
    expect(indexJsonListsFiles(later.json, index.files)).toBe(true);
    expect(indexJsonListsFiles(buildIndex('440', files.slice(1), new Date()).json, index.files)).toBe(false);
    expect(indexJsonListsFiles(undefined, index.files)).toBe(false);
    expect(indexJsonListsFiles('{not json', index.files)).toBe(false);
  });
});
