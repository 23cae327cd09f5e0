/**
 * The store deadline of uploads, shared by the requests that start within one slot: one
 * AbortController and one timer per slot instead of one per request. Creating them per request
 * was about a third of the upload handler's own CPU in the profile (`bench:api`, `--cpu-prof`).
 * A request's deadline falls between `timeoutInMs` and `timeoutInMs + slotInMs` after it started.
 */
import { setMaxListeners } from 'node:events';
import { StoreUnavailableError } from '../../exposures/exposure-store';

/** Slot length: small beside the store timeout (100 ms at least, 5 s by default). */
export const DEADLINE_SLOT_IN_MS = 50;

export class StoreDeadlines {
  private controller: AbortController | undefined;
  private slotEndsAt = 0;

  constructor(
    private readonly timeoutInMs: number,
    private readonly slotInMs = DEADLINE_SLOT_IN_MS,
  ) {}

  /** The signal of the slot `nowInMs` (a monotonic clock) falls in; aborted with a `StoreUnavailableError` at its deadline. */
  signal(nowInMs: number = performance.now()): AbortSignal {
    if (this.controller === undefined || nowInMs >= this.slotEndsAt) {
      const controller = new AbortController();
      // Every request of the slot listens on this one signal.
      setMaxListeners(0, controller.signal);
      // Unref'd: a pending deadline must not keep a stopping host alive.
      setTimeout(() => controller.abort(new StoreUnavailableError('the store did not answer in time')), this.timeoutInMs + this.slotInMs).unref();
      this.controller = controller;
      this.slotEndsAt = nowInMs + this.slotInMs;
    }
    return this.controller.signal;
  }
}
