/**
 * The lock between publishers: a blob lease on the region's manifest. Azure (and Azurite) time
 * leases on the server, so a publisher that dies holding one loses it after the lease duration
 * and the next run proceeds; while a run works, its own timer renews every third of the duration,
 * each renewal bounded by a sixth of it. Every manifest write carries the lease id, so a run that
 * lost its lease (paused past the duration, say) cannot record anything: its signal aborts and its
 * writes fail, while the files it already wrote are create-only and change nothing that was
 * published. Storage that stops answering is a lost lock too, before the lease can run out on the
 * service: the run aborts, its lease is released if storage answers or left to expire.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline, type CallBound } from '../platform/deadline';
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

/** The bound of a renewal or release, as errors name it. */
function leaseCall(what: string, name: string, timeoutInMs: number): CallBound {
  return { dependency: 'Blob storage', operation: `${what} the lease on ${name}`, timeoutInMs };
}

/** Takes the lock on `name`; `undefined` if another publisher still holds it after `waitInMs`. */
export async function acquireLock(state: BlobWriter, name: string, options: LockOptions): Promise<RegionLock | undefined> {
  // A lease needs an existing blob; a create that finds the name taken leaves it as it is.
  await state.create(name, options.initialContent, { contentType: 'application/json' }, { abortSignal: options.abortSignal });
  const deadline = Date.now() + (options.waitInMs ?? 0);
  const leaseInMs = options.leaseSeconds * 1000;
  const renewEveryInMs = leaseInMs / 3;
  // A renewal that timed out leaves time for one more before the lease could run out.
  const callTimeoutInMs = leaseInMs / 6;
  for (;;) {
    // The service starts the lease after it got the request: counting from here is on the safe side.
    const asked = Date.now();
    const lease = await state.acquireLease(name, options.leaseSeconds, { abortSignal: options.abortSignal });
    if (lease) {
      const controller = new AbortController();
      let renewedFrom = asked;
      const timer = setInterval(() => {
        const sent = Date.now();
        withDeadline(leaseCall('renew', `${state.containerName}/${name}`, callTimeoutInMs), (abortSignal) => lease.renew({ abortSignal })).then(
          () => {
            renewedFrom = sent;
          },
          (error: unknown) => {
            // A lost condition means someone else has the lease now. Any other failure (storage not
            // answering, a dropped connection) is retried on the next tick, unless that renewal
            // could end after the lease may have run out on the service's clock.
            const tooLate = sent + renewEveryInMs + callTimeoutInMs - renewedFrom >= leaseInMs;
            const lost = error instanceof BlobConditionError || tooLate;
            options.logger.warn(lost ? 'publisher lock lost' : 'publisher lock renewal failed; retrying', { lock: name, error });
            if (lost) {
              clearInterval(timer);
              controller.abort(new LockLostError(`the lock ${name} was lost: ${(error as Error).message}`));
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
          await withDeadline(leaseCall('release', `${state.containerName}/${name}`, callTimeoutInMs), (abortSignal) => lease.release({ abortSignal }));
        },
      };
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(RETRY_INTERVAL_IN_MS, Math.max(0, deadline - Date.now())), undefined, { signal: options.abortSignal });
  }
}
