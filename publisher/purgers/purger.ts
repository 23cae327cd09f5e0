/**
 * The seam between the publisher and the edge cache: after an index changes, its paths are purged
 * so that phones see the new index within the browser max-age, while the immutable export files
 * stay cached. Implementations: Front Door Standard/Premium (ARM), the local edge, log-only.
 */

export interface PurgeOptions {
  abortSignal?: AbortSignal;
}

export interface Purger {
  /** For logs: which edge this purges. */
  readonly name: string;
  /**
   * Purges these URL paths from the edge cache: exact paths such as `/v1/440/index.txt`, or
   * prefixes written `/v1/440/*` (Front Door's semantics). Resolves when the purge is done.
   */
  purge(contentPaths: readonly string[], options?: PurgeOptions): Promise<void>;
}
