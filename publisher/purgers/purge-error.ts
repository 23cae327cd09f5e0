/**
 * The one error type of the purgers: says which edge failed and whether trying again can help
 * (throttling, 5xx, network), so the publisher's retry policy needs no knowledge of each edge.
 */
import { checkContentPaths } from '../../platform/purge-paths';

export interface PurgeErrorOptions {
  /** HTTP status of the failed call, when there was one. */
  statusCode?: number;
  /** The remote error code (ARM's `error.code`, the local edge's `code`) or a network code. */
  code?: string;
  retryable: boolean;
  cause?: unknown;
}

export class PurgeError extends Error {
  override readonly name = 'PurgeError';
  readonly statusCode?: number;
  readonly code?: string;
  readonly retryable: boolean;

  constructor(message: string, options: PurgeErrorOptions) {
    super(message, { cause: options.cause });
    this.statusCode = options.statusCode;
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/** The paths as an array once they pass Front Door's rules; a PurgeError naming the purger and the path otherwise. */
export function checkedContentPaths(purger: string, contentPaths: readonly string[]): string[] {
  const paths = [...contentPaths];
  try {
    checkContentPaths(paths);
  } catch (error) {
    throw new PurgeError(`${purger}: ${(error as Error).message}`, { code: 'invalid_content_paths', retryable: false, cause: error });
  }
  return paths;
}

/** Retrying helps for throttling, timeouts and server faults; never for a rejected request. */
export function isRetryableStatus(statusCode: number | undefined): boolean {
  return statusCode === undefined || statusCode === 408 || statusCode === 429 || statusCode >= 500;
}
