/**
 * Request collapsing for the local edge cache: while one request fills the cache for a key (a
 * miss on its way to the origin), later requests for that key wait for the fill to finish and are
 * then answered from the cache. undici's `deduplicate` interceptor was measured and set aside here:
 * it lets a request join an in-flight fetch only until the first body byte arrives, so under many
 * clients the late arrivals of a large file went to the origin too (origin requests grew with the
 * client count in `npm run bench:edge`).
 */
export class FillCollapser {
  private readonly fills = new Map<string, Promise<boolean>>();

  /** The fill of `key` under way, if any (checked synchronously, so no request slips in between). */
  fillOf(key: string): Promise<boolean> | undefined {
    return this.fills.get(key);
  }

  /** Records that `key` is being filled until `done` settles (to whether the fill's answer was cacheable). */
  track(key: string, done: Promise<boolean>): void {
    this.fills.set(key, done);
    void done.finally(() => {
      if (this.fills.get(key) === done) this.fills.delete(key);
    });
  }

  get size(): number {
    return this.fills.size;
  }
}
