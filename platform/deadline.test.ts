import { DependencyTimeoutError, durationText, withDeadline, withPageDeadline } from './deadline';

const bound = { dependency: 'Blob storage', operation: 'Put Blob exports/a.zip', timeoutInMs: 50 };

/** A call that never settles by itself, however it is aborted (a socket that stopped answering, an SDK that ignores the signal). */
const silent = () => new Promise<never>(() => undefined);

describe('withDeadline', () => {
  it('returns what the call returns, and the call got a live signal', async () => {
    let seen: AbortSignal | undefined;
    await expect(withDeadline(bound, async (signal) => ((seen = signal), 7))).resolves.toBe(7);
    expect(seen?.aborted).toBe(false);
  });

  it('fails with a DependencyTimeoutError naming the dependency and the operation once the time is up, even if the call ignores its signal', async () => {
    const started = performance.now();
    const failure = await withDeadline(bound, silent).catch((error: unknown) => error);
    const elapsed = performance.now() - started;
    expect(failure).toBeInstanceOf(DependencyTimeoutError);
    expect((failure as Error).message).toBe('Blob storage did not answer in 50 ms (Put Blob exports/a.zip)');
    expect(failure).toMatchObject({ dependency: 'Blob storage', timeoutInMs: 50 });
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
  });

  it('aborts the signal it gave the call at the bound', async () => {
    let given: AbortSignal | undefined;
    await withDeadline(bound, (signal) => ((given = signal), silent())).catch(() => undefined);
    expect(given?.aborted).toBe(true);
    expect(given?.reason).toBeInstanceOf(DependencyTimeoutError);
  });

  it("ends with the caller's reason when the caller aborts first", async () => {
    const caller = new AbortController();
    const reason = new Error('the lock was lost');
    const call = withDeadline({ ...bound, timeoutInMs: 10_000, abortSignal: caller.signal }, silent);
    caller.abort(reason);
    await expect(call).rejects.toBe(reason);
    const already = withDeadline({ ...bound, abortSignal: caller.signal }, async () => 1);
    await expect(already).rejects.toBe(reason);
  });

  it("reads an AbortError nobody asked for as the SDK's own request timeout: a DependencyTimeoutError too", async () => {
    const sdkTimeout = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    await expect(withDeadline(bound, async () => Promise.reject(sdkTimeout))).rejects.toThrow('Blob storage did not answer in 50 ms (Put Blob exports/a.zip)');
  });

  it("passes the call's own failure through", async () => {
    await expect(withDeadline(bound, async () => Promise.reject(new Error('412 ConditionNotMet')))).rejects.toThrow('412 ConditionNotMet');
  });
});

describe('withPageDeadline', () => {
  async function* pages(delays: number[]) {
    for (const [i, delay] of delays.entries()) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      yield i;
    }
  }

  it('bounds each page, not the listing: many quick pages take longer than one bound', async () => {
    // A wide margin between a page (100 ms) and its bound (400 ms): timers run late on a loaded machine.
    const items: number[] = [];
    const started = performance.now();
    for await (const page of withPageDeadline({ ...bound, timeoutInMs: 400 }, () => pages([100, 100, 100, 100, 100, 100]))) items.push(page);
    expect(items).toEqual([0, 1, 2, 3, 4, 5]);
    expect(performance.now() - started).toBeGreaterThan(400);
  });

  it('fails naming the dependency when one page does not come in time', async () => {
    const items: number[] = [];
    let asked = 0;
    const stalls: AsyncIterator<number> = { next: () => (asked++ === 0 ? Promise.resolve({ done: false, value: 0 }) : silent()) };
    const listing = (async () => {
      for await (const page of withPageDeadline(bound, () => stalls)) items.push(page);
    })();
    await expect(listing).rejects.toThrow('Blob storage did not answer in 50 ms');
    expect(items).toEqual([0]);
  });
});

it.each([
  [500, '500 ms'],
  [2500, '2.5 s'],
  [30_000, '30 s'],
])('durationText(%i) is %s', (ms, text) => expect(durationText(ms)).toBe(text));
