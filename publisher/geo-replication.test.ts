import { replicatedFiles, type GeoReplication } from './geo-replication';

const files = [
  { name: 'v1/440/a.zip', createdAt: 1000 },
  { name: 'v1/440/b.zip', createdAt: 1100 },
  { name: 'v1/440/c.zip' }, // recorded before creation times were kept
];
const at = (lastSync: number | undefined): GeoReplication => ({ lastSyncTime: async () => lastSync });
const failing: GeoReplication = { lastSyncTime: async () => Promise.reject(new Error('secondary unreachable')) };
const names = (result: { listable: Array<{ name: string }> }) => result.listable.map((file) => file.name);

describe('replicatedFiles: the index names a new file once the secondary holds it', () => {
  it('lists every file when there is no geo-replication to wait for', async () => {
    expect(await replicatedFiles(files, undefined, 1200)).toEqual({ listable: files, waiting: 0 });
  });

  it('holds back files created after the last sync time, and lists those before it', async () => {
    const result = await replicatedFiles(files, { source: at(1050), maxWaitSeconds: 900 }, 1200);
    expect(names(result)).toEqual(['v1/440/a.zip', 'v1/440/c.zip']);
    expect(result.waiting).toBe(1);
  });

  it('lists a file created in the very second of the last sync (the sync time covers writes before it, to the second)', async () => {
    expect(names(await replicatedFiles(files, { source: at(1100), maxWaitSeconds: 900 }, 1200))).toEqual(files.map((file) => file.name));
  });

  it('holds new files while the secondary cannot say, and never a file the index names already', async () => {
    const result = await replicatedFiles(files, { source: failing, maxWaitSeconds: 900 }, 1200, { alreadyListed: new Set(['v1/440/a.zip']) });
    expect(names(result)).toEqual(['v1/440/a.zip', 'v1/440/c.zip']);
    expect(names(await replicatedFiles(files, { source: at(undefined), maxWaitSeconds: 900 }, 1200))).toEqual(['v1/440/c.zip']);
  });

  it('lists a file anyway once it waited longer than the limit', async () => {
    expect(names(await replicatedFiles(files, { source: at(undefined), maxWaitSeconds: 150 }, 1200))).toEqual(['v1/440/a.zip', 'v1/440/c.zip']);
  });

  it('does not ask the secondary when no file is new', async () => {
    const source = { lastSyncTime: jest.fn(async () => 0) };
    await replicatedFiles(files, { source, maxWaitSeconds: 900 }, 1200, { alreadyListed: new Set(['v1/440/a.zip', 'v1/440/b.zip']) });
    expect(source.lastSyncTime).not.toHaveBeenCalled();
  });
});
