/**
 * The fleet simulation's clock. The edge code (EdgeCacheStore and undici's cache interceptor)
 * reads freshness from `Date.now()`, so the simulation sets `Date.now` to its virtual time while it
 * runs: three simulated days take minutes, and the real cache code sees every second of them.
 * Only the benchmark process does this; `restore()` puts the platform clock back.
 */
export class VirtualClock {
  private nowInMs: number;
  private readonly platformNow = Date.now;

  constructor(startInMs: number) {
    this.nowInMs = startInMs;
  }

  /** Makes `Date.now()` answer the virtual time. */
  install(): void {
    Date.now = () => this.nowInMs;
  }

  restore(): void {
    Date.now = this.platformNow;
  }

  set(ms: number): void {
    this.nowInMs = ms;
  }

  now(): number {
    return this.nowInMs;
  }
}
