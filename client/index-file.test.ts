import { ClientError } from './errors';
import { parseExportPath, parseIndex } from './index-file';

const A = 'v1/440/1700000000-1700003600-00001.zip';
const B = 'v1/440/1700003600-1700007200-00001.zip';

describe('parseIndex', () => {
  it('reads the paths in order, with or without a final newline or CRLF', () => {
    expect(parseIndex(`${A}\n${B}`).map((file) => file.path)).toEqual([A, B]);
    expect(parseIndex(`${A}\r\n${B}\r\n`).map((file) => file.path)).toEqual([A, B]);
    expect(parseIndex(A)[0]).toEqual({ path: A, region: '440', start: 1700000000, end: 1700003600, n: 1 });
  });

  it('reads an empty index as no files', () => {
    expect(parseIndex('')).toEqual([]);
  });

  it.each([
    ['an HTML page', '<!DOCTYPE html>\n<html><body>Service Unavailable</body></html>'],
    ['JSON', '{"files":[]}'],
    ['an absolute URL', `https://evil.example/${A}`],
    ['a path leaving the tree', 'v1/440/../../secrets.zip'],
    ['a blank line in the middle', `${A}\n\n${B}`],
    ['a repeated path', `${A}\n${A}`],
  ])('refuses %s: not_an_index', (_name, text) => {
    expect(() => parseIndex(text)).toThrow(ClientError);
    expect(() => parseIndex(text)).toThrow(expect.objectContaining({ code: 'not_an_index' }));
  });

  it('refuses a file of another region when a region is given', () => {
    expect(() => parseIndex(`${A}\nv1/441/1700003600-1700007200-00001.zip`, { region: '440' })).toThrow(expect.objectContaining({ code: 'not_an_index', message: expect.stringContaining('line 2') }));
  });

  it('parses single paths', () => {
    expect(parseExportPath('v1/440/index.txt')).toBeUndefined();
    expect(parseExportPath(B)?.n).toBe(1);
  });
});
