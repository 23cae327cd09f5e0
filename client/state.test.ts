import { emptyState, parseState } from './state';

describe('phone state', () => {
  it('round-trips through JSON', () => {
    const state = { ...emptyState('440'), index: { etag: '"0x1"' }, files: ['v1/440/1700000000-1700003600-00001.zip'], lastSyncAt: 5 };
    expect(parseState(JSON.stringify(state))).toEqual(state);
  });

  it('round-trips pending files and uploads, and reads a state saved before they existed', () => {
    const upload = { id: 'a1', request: { temporaryExposureKeys: [{ key: 'AAAAAAAAAAAAAAAAAAAAAA==', rollingStartNumber: 1, rollingPeriod: 144 }], healthAuthorityID: 'ha', verificationPayload: 'a.b.c', hmacKey: 'aA==' }, register: true, registration: { userUuid: 'u', secret: 's' }, queuedAt: 1, attempts: 2, lastFailure: { code: 'network_error', message: 'no answer', at: 3 } };
    const state = { ...emptyState('440'), files: [], pending: ['v1/440/1700000000-1700003600-00001.zip'], uploads: [upload] };
    expect(parseState(JSON.stringify(state))).toEqual(state);
    expect(parseState('{"version":1,"region":"440","index":{},"files":[]}')).toEqual(emptyState('440'));
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', '{"version":2,"region":"440","index":{},"files":[]}'],
    ['no region', '{"version":1,"index":{},"files":[]}'],
    ['a file that is no export path', '{"version":1,"region":"440","index":{},"files":["../x"]}'],
    ['a non-string etag', '{"version":1,"region":"440","index":{"etag":1},"files":[]}'],
    ['a pending file that is no export path', '{"version":1,"region":"440","index":{},"files":[],"pending":["x"]}'],
    ['an upload without its request', '{"version":1,"region":"440","index":{},"files":[],"uploads":[{"id":"a","register":false,"queuedAt":1,"attempts":0}]}'],
  ])('refuses %s: state_invalid', (_name, text) => {
    expect(() => parseState(text)).toThrow(expect.objectContaining({ code: 'state_invalid' }));
  });
});
