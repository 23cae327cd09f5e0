import { checkContentPaths, purgeCovers } from './purge-paths';

describe('Front Door purge paths', () => {
  it.each([
    ['/v1/440/index.txt', '/v1/440/index.txt', true],
    ['/v1/440/index.txt', '/V1/440/INDEX.TXT', true], // case-insensitive
    ['/v1/440/index.txt', '/v1/440/index.txt?v=2', true], // query strings ignored
    ['/v1/440/index.txt', '/v1/440/index.json', false],
    ['/v1/440/index.txt', '/v1/440/index.txt.bak', false], // a single path is not a prefix
    ['/v1/440/*', '/v1/440/1-2-00001.zip', true],
    ['/v1/440/*', '/v1/440/sub/dir/file', true],
    ['/v1/440/*', '/v1/4400/index.txt', false], // a prefix ends at a "/"
    ['/v1/440/*', '/v1/440', false],
    ['/*', '/anything/at/all', true],
    ['/', '/', true],
    ['/', '/index.txt', false],
  ])('%s covers %s: %s', (contentPath, urlPath, covered) => {
    expect(purgeCovers(contentPath, urlPath)).toBe(covered);
  });

  it.each([
    [undefined, 'contentPaths must be a non-empty array'],
    [[], 'contentPaths must be a non-empty array'],
    [[42], 'contentPaths[0] must be a string'],
    [['/ok', 'relative'], 'contentPaths[1] must start with "/"'],
    [['/v1/*.zip'], 'contentPaths[0] may hold "*" only as a final "/*"'],
    [['/v1*'], 'contentPaths[0] may hold "*" only as a final "/*"'],
    [['/v1/a b'], 'without query, fragment or spaces'],
  ])('rejects %j', (paths, message) => {
    expect(() => checkContentPaths(paths)).toThrow(message);
  });

  it('accepts single paths and /* prefixes', () => {
    expect(() => checkContentPaths(['/', '/*', '/v1/440/index.txt', '/v1/440/*'])).not.toThrow();
  });
});
