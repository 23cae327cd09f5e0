/**
 * Records the calls of a seam (an `ExposureStore`, a `BlobWriter`, a `Signer`) without touching its
 * code: `recordCalls(store, metrics.storeCall)` answers the same object, whose methods report how
 * long each call took (a promise until it settles, an async iteration until it ends) and, for a
 * rejected promise, a throw or a failed iteration, the error's name; then they answer or fail as
 * before. `countFailures` reports the failures only. An abort is ours (a stop, a deadline): it is
 * neither a failure of the seam nor a measured call.
 */

/** One call: its method, its duration, and the error's name when it failed. */
export type CallRecorder = (operation: string, seconds: number, errorName?: string) => void;
export type FailureRecorder = (operation: string, errorName: string) => void;

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : 'Error';
}

function isAbort(error: unknown): boolean {
  return errorName(error) === 'AbortError';
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

async function* recordedIteration<T>(iterable: AsyncIterable<T>, operation: string, started: number, record: CallRecorder): AsyncIterable<T> {
  let failed = false;
  try {
    yield* iterable;
  } catch (error) {
    failed = true;
    if (!isAbort(error)) record(operation, secondsSince(started), errorName(error));
    throw error;
  } finally {
    // Ended or left early (a `break`): a call that answered.
    if (!failed) record(operation, secondsSince(started));
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** `target`, with each method call reported to `record`. Methods are looked up at each call, so later replacements (tests' fault injection) are recorded too. */
export function recordCalls<T extends object>(target: T, record: CallRecorder): T {
  const wrappers = new Map<string, { method: (...args: unknown[]) => unknown; wrapper: (...args: unknown[]) => unknown }>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const cached = wrappers.get(property);
      if (cached?.method === value) return cached.wrapper;
      const method = value as (...args: unknown[]) => unknown;
      const wrapper = (...args: unknown[]): unknown => {
        const started = performance.now();
        const fail = (error: unknown): never => {
          if (!isAbort(error)) record(property, secondsSince(started), errorName(error));
          throw error;
        };
        let result: unknown;
        try {
          result = method.apply(object, args);
        } catch (error) {
          return fail(error);
        }
        if (result instanceof Promise) {
          return result.then((answer: unknown) => {
            record(property, secondsSince(started));
            return answer;
          }, fail);
        }
        if (isAsyncIterable(result)) return recordedIteration(result, property, started, record);
        record(property, secondsSince(started));
        return result;
      };
      wrappers.set(property, { method, wrapper });
      return wrapper;
    },
  });
}

/** `target`, with each method's failures reported to `record` (see `recordCalls`). */
export function countFailures<T extends object>(target: T, record: FailureRecorder): T {
  return recordCalls(target, (operation, _seconds, error) => {
    if (error !== undefined) record(operation, error);
  });
}
