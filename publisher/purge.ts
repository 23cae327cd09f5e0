/**
 * How the publisher uses a `Purger`: after the index (or the page) changed, purge its paths, retrying with
 * exponential backoff. A purge that keeps failing is logged and reported, never thrown: the files
 * and the index are already published and stay so. The run records that the purge is still
 * pending, and the next run purges again before anything else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../platform/log';
import type { Purger } from './purgers/purger';

export interface PurgeRetryOptions {
  attempts: number;
  /** Delay before the second attempt; doubled for each later one. */
  backoffInMs: number;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Waits between attempts (tests pass a recorder). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal });

/** Resolves `true` once the purge succeeded, `false` when every attempt failed or the run was aborted. */
export async function purgeWithRetry(purger: Purger, contentPaths: readonly string[], options: PurgeRetryOptions): Promise<boolean> {
  const wait = options.sleep ?? defaultSleep;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      options.abortSignal?.throwIfAborted();
      await purger.purge(contentPaths, { abortSignal: options.abortSignal });
      options.logger.info('edge paths purged', { purger: purger.name, contentPaths, attempt });
      return true;
    } catch (error) {
      // A purger's `retryable: false` (a rejected request) will not succeed on a second try in this run.
      const last = attempt === options.attempts || options.abortSignal?.aborted === true || (error as { retryable?: unknown }).retryable === false;
      options.logger[last ? 'error' : 'warn'](last ? 'purge failed; the next run purges again' : 'purge failed; retrying', { purger: purger.name, contentPaths, attempt, attempts: options.attempts, error });
      if (last) return false;
      // Jitter (0.5x..1x) keeps several publishers' retries from hitting the edge API together.
      const delay = options.backoffInMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      try {
        await wait(Math.round(delay), options.abortSignal);
      } catch {
        return false;
      }
    }
  }
  return false;
}
