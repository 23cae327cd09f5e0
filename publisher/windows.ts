/**
 * Publication windows: fixed-length ranges of `Exposure.publishAt`, aligned to multiples of the
 * window length since the epoch. A key belongs to the one window that contains its `publishAt`
 * (which already includes the 2-hour embargo), so which file carries it never depends on when
 * the publisher ran. A window is closed once its end is a safety margin in the past: by then no
 * upload still in flight can be stamped inside it.
 */

export interface TimeRange {
  /** UTC seconds, inclusive. */
  start: number;
  /** UTC seconds, exclusive. */
  end: number;
}

export interface WindowSettings {
  windowSeconds: number;
  safetyMarginSeconds: number;
}

/** Start of the window that contains `seconds`. */
export function windowStartOf(seconds: number, windowSeconds: number): number {
  return Math.floor(seconds / windowSeconds) * windowSeconds;
}

/** The first window boundary after `seconds` (a range that starts off-boundary ends here). */
export function nextBoundaryAfter(seconds: number, windowSeconds: number): number {
  return windowStartOf(seconds, windowSeconds) + windowSeconds;
}

/** Whether a range ending at `end` is closed at `now`. */
export function isClosed(end: number, now: number, settings: WindowSettings): boolean {
  return end + settings.safetyMarginSeconds <= now;
}

/** The end of the last closed window at `now`: every `publishAt` below it is final. */
export function closedThrough(now: number, settings: WindowSettings): number {
  return windowStartOf(now - settings.safetyMarginSeconds, settings.windowSeconds);
}

/** The closed windows from `from` (a boundary, or any instant: the first window then ends at the next boundary) up to `now`. */
export function* closedWindows(from: number, now: number, settings: WindowSettings): Generator<TimeRange> {
  const through = closedThrough(now, settings);
  let start = from;
  while (start < through) {
    const end = nextBoundaryAfter(start, settings.windowSeconds);
    yield { start, end };
    start = end;
  }
}
