/**
 * The lock between publishers: a blob lease on the region's manifest. Azure (and Azurite) time
 * leases on the server, so a publisher that dies holding one loses it after the lease duration
 * and the next run proceeds; while a run works, it renews every third of the duration. Every
 * manifest write carries the lease id, so a run that lost its lease (paused past the duration,
 * say) cannot record anything: its signal aborts and its writes fail, while the files it already
 * wrote are create-only and change nothing that was published.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../platform/log';
import { BlobConditionError, type BlobWriter } from './blob/blob-writer';

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

export interface RegionLock {
  readonly leaseId: string;
  /** Aborts when the lease is lost. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface LockOptions {
  leaseSeconds: number;
  /** Keep trying this long while another publisher holds the lock; 0: give up at once. */
  waitInMs?: number;
  /** Content of the lock blob when it does not exist yet. */
  initialContent: Buffer;
  logger: Logger;
  abortSignal?: AbortSignal;
}

const RETRY_INTERVAL_IN_MS = 1000;

/** Takes the lock on `name`; `undefined` if another publisher still holds it after `waitInMs`. */
export async function acquireLock(state: BlobWriter, name: string, options: LockOptions): Promise<RegionLock | undefined> {
  // A lease needs an existing blob; a create that finds the name taken leaves it as it is.
  await state.create(name, options.initialContent, { contentType: 'application/json' }, { abortSignal: options.abortSignal });
  const deadline = Date.now() + (options.waitInMs ?? 0);
  for (;;) {
    const lease = await state.acquireLease(name, options.leaseSeconds, { abortSignal: options.abortSignal });
    if (lease) {
      const controller = new AbortController();
      let lastRenewed = Date.now();
      const renewEveryInMs = (options.leaseSeconds * 1000) / 3;
      const timer = setInterval(() => {
        lease.renew().then(
          () => {
            lastRenewed = Date.now();
          },
          (error: unknown) => {
            // A lost condition means someone else has the lease now; anything else is retried on the next tick until the lease would have run out.
            const lost = error instanceof BlobConditionError || Date.now() - lastRenewed > 2 * renewEveryInMs;
            options.logger.warn(lost ? 'publisher lock lost' : 'publisher lock renewal failed; retrying', { lock: name, error });
            if (lost) {
              clearInterval(timer);
              controller.abort(new LockLostError(`the lock ${name} was lost (${(error as Error).message})`));
            }
          },
        );
      }, renewEveryInMs);
      timer.unref();
      return {
        leaseId: lease.leaseId,
        signal: controller.signal,
        release: async () => {
          clearInterval(timer);
          await lease.release();
        },
      };
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(RETRY_INTERVAL_IN_MS, Math.max(0, deadline - Date.now())), undefined, { signal: options.abortSignal });
  }
}
