import { closedThrough, closedWindows, isClosed, nextBoundaryAfter, windowStartOf } from './windows';

const HOUR = { windowSeconds: 3600, safetyMarginSeconds: 300 };
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

describe('windows', () => {
  it('aligns windows to multiples of their length since the epoch', () => {
    expect(windowStartOf(T0 + 3599, 3600)).toBe(T0);
    expect(windowStartOf(T0 + 3600, 3600)).toBe(T0 + 3600);
    expect(nextBoundaryAfter(T0, 3600)).toBe(T0 + 3600);
    expect(nextBoundaryAfter(T0 + 10, 3600)).toBe(T0 + 3600);
  });

  it.each([
    ['one second before the margin has passed', T0 + 3600 + 299, false],
    ['exactly when the margin has passed', T0 + 3600 + 300, true],
    ['later', T0 + 7200, true],
  ])('closes a window %s', (_name, now, closed) => {
    expect(isClosed(T0 + 3600, now, HOUR)).toBe(closed);
  });

  it('lists the closed windows from a cursor, never the open one', () => {
    const now = T0 + 3 * 3600 + 299; // the third window ended 299 s ago: still open
    expect([...closedWindows(T0, now, HOUR)]).toEqual([
      { start: T0, end: T0 + 3600 },
      { start: T0 + 3600, end: T0 + 7200 },
    ]);
    expect(closedThrough(now, HOUR)).toBe(T0 + 7200);
    expect([...closedWindows(T0, now + 1, HOUR)]).toHaveLength(3);
  });

  it('ends a range that starts off a boundary at the next boundary', () => {
    expect([...closedWindows(T0 + 1800, T0 + 7200 + 300, HOUR)]).toEqual([
      { start: T0 + 1800, end: T0 + 3600 },
      { start: T0 + 3600, end: T0 + 7200 },
    ]);
  });

  it('yields nothing when the cursor is at or past the closed boundary', () => {
    expect([...closedWindows(T0 + 7200, T0 + 7200 + 300, HOUR)]).toEqual([]);
    expect([...closedWindows(T0 + 9000, T0 + 7200 + 300, HOUR)]).toEqual([]);
  });
});
