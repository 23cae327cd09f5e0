import { acceptedWindowEnds, checkWindowTime, CLOCK_TOLERANCE_SECONDS, MAX_WINDOW_AGE_SECONDS, MAX_WINDOW_AHEAD_SECONDS, serverSecondsOf } from './clock';

const NOW = Date.UTC(2026, 11, 1, 12) / 1000;
const HOUR = 3600;

describe('judging a window against the time', () => {
  it.each([
    ['the server time, when the phone agrees', { phoneSeconds: NOW, serverSeconds: NOW }, NOW],
    ['the server time, when the phone is 2 hours behind', { phoneSeconds: NOW - 2 * HOUR, serverSeconds: NOW }, NOW],
    ['the server time, when the phone is 2 hours ahead', { phoneSeconds: NOW + 2 * HOUR, serverSeconds: NOW }, NOW],
    ['the server time alone', { serverSeconds: NOW }, NOW],
    ["a server time 3 days ahead, held to the phone's clock + 24 h", { phoneSeconds: NOW, serverSeconds: NOW + 3 * 86400 }, NOW + CLOCK_TOLERANCE_SECONDS],
    ["a server time 3 days behind, held to the phone's clock - 24 h", { phoneSeconds: NOW, serverSeconds: NOW - 3 * 86400 }, NOW - CLOCK_TOLERANCE_SECONDS],
  ])('is around %s', (_name, evidence, reference) => {
    expect(acceptedWindowEnds(evidence)).toEqual({ earliest: reference - MAX_WINDOW_AGE_SECONDS, latest: reference + MAX_WINDOW_AHEAD_SECONDS });
  });

  it("is the phone's clock ± 24 h when the server gave no time, and nothing without any", () => {
    expect(acceptedWindowEnds({ phoneSeconds: NOW })).toEqual({ earliest: NOW - CLOCK_TOLERANCE_SECONDS - MAX_WINDOW_AGE_SECONDS, latest: NOW + CLOCK_TOLERANCE_SECONDS + MAX_WINDOW_AHEAD_SECONDS });
    expect(acceptedWindowEnds({})).toBeUndefined();
    expect(() => checkWindowTime(1, {})).not.toThrow();
  });

  it.each([
    ['a window ending now, the phone 2 hours behind', NOW, { phoneSeconds: NOW - 2 * HOUR, serverSeconds: NOW }, undefined],
    ['a window ending now, the phone 2 hours behind and no server time', NOW, { phoneSeconds: NOW - 2 * HOUR }, undefined],
    ['a window ending 2 hours after the server time', NOW + 2 * HOUR, { phoneSeconds: NOW, serverSeconds: NOW }, /in the future/],
    ['a window ending 2 days after the phone clock, no server time', NOW + 2 * 86400, { phoneSeconds: NOW }, /in the future/],
    ['a window that ended 16 days before the server time (a replayed file)', NOW - 16 * 86400, { phoneSeconds: NOW, serverSeconds: NOW }, /no current index names a file that old/],
    ['a window that ended 17 days ago, though a forged Date says it is 17 days ago (held to the phone clock - 24 h)', NOW - 17 * 86400, { phoneSeconds: NOW, serverSeconds: NOW - 17 * 86400 }, /no current index names a file that old/],
  ])('judges %s', (_name, end, evidence, refused) => {
    if (refused) expect(() => checkWindowTime(end, evidence)).toThrow(expect.objectContaining({ code: 'window_invalid', message: expect.stringMatching(refused) }));
    else expect(() => checkWindowTime(end, evidence)).not.toThrow();
  });

  it('reads the server time from Date plus Age, else Last-Modified', () => {
    expect(serverSecondsOf(new Headers({ date: 'Tue, 01 Dec 2026 12:00:00 GMT', age: '120' }))).toBe(NOW + 120);
    expect(serverSecondsOf(new Headers({ date: 'Tue, 01 Dec 2026 12:00:00 GMT', age: 'soon' }))).toBe(NOW);
    expect(serverSecondsOf(new Headers({ 'last-modified': 'Tue, 01 Dec 2026 11:00:00 GMT' }))).toBe(NOW - HOUR);
    expect(serverSecondsOf(new Headers({ date: 'yesterday' }))).toBeUndefined();
  });
});
