/**
 * Counts the failures of a seam (an `ExposureStore`, a `BlobWriter`) without touching its code:
 * `countFailures(store, metrics.storeError)` answers the same object, whose methods report every
 * rejected promise, throw, or failed async iteration by method name and error name, then fail
 * as before. An abort is ours (a stop, a deadline) and is not counted as the seam's failure.
 */

export type FailureRecorder = (operation: string, errorName: string) => void;

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : 'Error';
}

function isAbort(error: unknown): boolean {
  return errorName(error) === 'AbortError';
}

async function* countedIteration<T>(iterable: AsyncIterable<T>, operation: string, record: FailureRecorder): AsyncIterable<T> {
  try {
    yield* iterable;
  } catch (error) {
    if (!isAbort(error)) record(operation, errorName(error));
    throw error;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** `target`, with each method's failures reported to `record`. Methods are looked up at each call, so later replacements (tests' fault injection) are counted too. */
export function countFailures<T extends object>(target: T, record: FailureRecorder): T {
  const wrappers = new Map<string, { method: (...args: unknown[]) => unknown; wrapper: (...args: unknown[]) => unknown }>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const cached = wrappers.get(property);
      if (cached?.method === value) return cached.wrapper;
      const method = value as (...args: unknown[]) => unknown;
      const fail = (error: unknown): never => {
        if (!isAbort(error)) record(property, errorName(error));
        throw error;
      };
      const wrapper = (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = method.apply(object, args);
        } catch (error) {
          return fail(error);
        }
        if (result instanceof Promise) return result.catch(fail);
        if (isAsyncIterable(result)) return countedIteration(result, property, record);
        return result;
      };
      wrappers.set(property, { method, wrapper });
      return wrapper;
    },
  });
}
