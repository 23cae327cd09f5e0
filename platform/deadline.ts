/**
 * Time bounds on calls to the services keyfront depends on (Blob storage, Cosmos DB, Key Vault, the
 * purge API, peers). A bounded call runs with a signal that aborts when its caller's does or when its
 * time is up, and it settles by then whatever the SDK does with that signal (a socket that stopped
 * answering may never fail by itself). A call cut by its bound fails with a `DependencyTimeoutError`
 * naming the dependency and the operation, so that a run stopped by a silent dependency says which.
 * The SDKs' own per-request timeouts sit below this one (each client sets them from the same
 * setting): they let a stalled request be retried within the bound.
 */

export class DependencyTimeoutError extends Error {
  override readonly name = 'DependencyTimeoutError';
  constructor(
    /** What did not answer, as an operator names it: `Blob storage`, `Cosmos DB`, `Key Vault`... */
    readonly dependency: string,
    /** What was asked, e.g. `Put Blob exports/v1/440/...zip` (never key data or secrets). */
    readonly operation: string,
    readonly timeoutInMs: number,
  ) {
    super(`${dependency} did not answer in ${durationText(timeoutInMs)} (${operation})`);
  }
}

/** `500 ms`, `2.5 s`, `30 s`. */
export function durationText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export interface CallBound {
  dependency: string;
  operation: string;
  timeoutInMs: number;
  /** The caller's signal (a run's): its abort ends the call too, with its reason. */
  abortSignal?: AbortSignal;
}

/**
 * One signal for a bounded call or iteration: aborted by the caller's signal (with its reason) or,
 * while armed, by the time bound (with a `DependencyTimeoutError`).
 */
class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly unlink: () => void = () => undefined;

  constructor(private readonly bound: CallBound) {
    const outer = bound.abortSignal;
    if (outer?.aborted) {
      this.controller.abort(outer.reason);
    } else if (outer) {
      const onAbort = () => this.controller.abort(outer.reason);
      outer.addEventListener('abort', onAbort, { once: true });
      this.unlink = () => outer.removeEventListener('abort', onAbort);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  timeoutError(): DependencyTimeoutError {
    const { dependency, operation, timeoutInMs } = this.bound;
    return new DependencyTimeoutError(dependency, operation, timeoutInMs);
  }

  arm(): void {
    this.timer = setTimeout(() => this.controller.abort(this.timeoutError()), this.bound.timeoutInMs);
    // A pending bound never keeps a process alive on its own.
    this.timer.unref();
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  dispose(): void {
    this.disarm();
    this.unlink();
  }

  /** `promise`, or the signal's reason as soon as it aborts (the call's own late result is dropped). */
  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.signal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          // An SDK's AbortError after our abort says less than the reason itself; one nobody asked
          // for is the SDK's own request timeout (`requestOptions.timeout`), cut short as ours would be.
          if (signal.aborted) reject(signal.reason);
          else if ((error as Error | undefined)?.name === 'AbortError') reject(this.timeoutError());
          else reject(error);
        },
      );
    });
  }
}

/** Runs `call` with a signal bounded by `bound`; settles within the bound (or the caller's abort). */
export async function withDeadline<T>(bound: CallBound, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new Deadline(bound);
  deadline.arm();
  try {
    return await deadline.race(Promise.resolve().then(() => call(deadline.signal)));
  } finally {
    deadline.dispose();
  }
}

/**
 * The items of a paged listing, each page bounded by `bound` (a listing as a whole may take as long
 * as it has pages). `open` starts the listing with the signal to hand the SDK, and returns its
 * page iterator.
 */
export async function* withPageDeadline<T>(bound: CallBound, open: (signal: AbortSignal) => AsyncIterator<T>): AsyncGenerator<T> {
  const deadline = new Deadline(bound);
  let pages: AsyncIterator<T> | undefined;
  let done = false;
  try {
    pages = open(deadline.signal);
    for (;;) {
      deadline.arm();
      const next = await deadline.race(pages.next());
      deadline.disarm();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    deadline.dispose();
    // A listing left early (a consumer's break, a failure) is closed, without waiting on a silent service.
    if (!done && pages?.return) pages.return().catch(() => undefined);
  }
}
