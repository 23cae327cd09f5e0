import { compareExportFiles, exportFileName, indexPurgePaths, parseExportFileName } from './export-names';

describe('export blob names', () => {
  it('names a file v1/{region}/{start}-{end}-{n:05}.zip and reads the name back', () => {
    const file = { region: '440', start: 1_796_000_000, end: 1_796_003_600, n: 7 };
    expect(exportFileName(file)).toBe('v1/440/1796000000-1796003600-00007.zip');
    expect(parseExportFileName(exportFileName(file))).toEqual(file);
  });

  it.each(['v1/440/index.txt', 'v1/440/index.json', 'v2/440/1-2-00001.zip', 'v1/440/1-2-1.zip', 'v1/44 0/1-2-00001.zip', 'v1/440/sub/1-2-00001.zip'])('does not take %s for an export file', (name) => {
    expect(parseExportFileName(name)).toBeUndefined();
  });

  it('numbers files 1 to 99999', () => {
    expect(() => exportFileName({ region: '440', start: 0, end: 1, n: 0 })).toThrow(RangeError);
    expect(() => exportFileName({ region: '440', start: 0, end: 1, n: 100000 })).toThrow(RangeError);
  });

  it('orders files oldest first, then by number', () => {
    const names = ['v1/JP/200-300-00001.zip', 'v1/JP/100-200-00002.zip', 'v1/JP/100-200-00001.zip'].map((n) => parseExportFileName(n)!);
    expect(names.sort(compareExportFiles).map(exportFileName)).toEqual(['v1/JP/100-200-00001.zip', 'v1/JP/100-200-00002.zip', 'v1/JP/200-300-00001.zip']);
  });

  it('purges only the two index paths of a region', () => {
    expect(indexPurgePaths('440')).toEqual(['/v1/440/index.txt', '/v1/440/index.json']);
  });
});
