import { emptyState, parseState } from './state';

describe('phone state', () => {
  it('round-trips through JSON', () => {
    const state = { ...emptyState('440'), index: { etag: '"0x1"' }, files: ['v1/440/1700000000-1700003600-00001.zip'], lastSyncAt: 5 };
    expect(parseState(JSON.stringify(state))).toEqual(state);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', '{"version":2,"region":"440","index":{},"files":[]}'],
    ['no region', '{"version":1,"index":{},"files":[]}'],
    ['a file that is no export path', '{"version":1,"region":"440","index":{},"files":["../x"]}'],
    ['a non-string etag', '{"version":1,"region":"440","index":{"etag":1},"files":[]}'],
  ])('refuses %s: state_invalid', (_name, text) => {
    expect(() => parseState(text)).toThrow(expect.objectContaining({ code: 'state_invalid' }));
  });
});
