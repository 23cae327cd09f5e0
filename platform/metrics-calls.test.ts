import { countFailures, recordCalls } from './metrics-calls';

class Seam {
  value = 7;
  async read(fail: boolean): Promise<number> {
    if (fail) throw Object.assign(new Error('down'), { name: 'StoreUnavailableError' });
    return this.value;
  }
  check(fail: boolean): number {
    if (fail) throw new TypeError('bad');
    return this.value;
  }
  async *list(failAt: number): AsyncIterable<number> {
    for (let i = 0; i < 3; i++) {
      if (i === failAt) throw Object.assign(new Error('gone'), { name: 'RestError' });
      yield i;
    }
  }
  async stopped(): Promise<void> {
    throw Object.assign(new Error('aborted'), { name: 'AbortError' });
  }
}

describe('countFailures', () => {
  function counted() {
    const failures: string[] = [];
    const target = new Seam();
    return { target, seam: countFailures(target, (operation, error) => failures.push(`${operation}:${error}`)), failures };
  }

  it('answers as the seam does and counts nothing while it succeeds', async () => {
    const { seam, failures } = counted();
    expect(await seam.read(false)).toBe(7);
    expect(seam.check(false)).toBe(7);
    const items: number[] = [];
    for await (const item of seam.list(-1)) items.push(item);
    expect([items, seam.value, failures]).toEqual([[0, 1, 2], 7, []]);
  });

  it('counts a rejection, a throw and a failed iteration by operation and error name, and fails as before', async () => {
    const { seam, failures } = counted();
    await expect(seam.read(true)).rejects.toThrow('down');
    expect(() => seam.check(true)).toThrow(TypeError);
    const items: number[] = [];
    await expect((async () => {
      for await (const item of seam.list(1)) items.push(item);
    })()).rejects.toThrow('gone');
    expect(items).toEqual([0]);
    expect(failures).toEqual(['read:StoreUnavailableError', 'check:TypeError', 'list:RestError']);
  });

  it('does not count an abort: a stop or a deadline of ours, not the seam failing', async () => {
    const { seam, failures } = counted();
    await expect(seam.stopped()).rejects.toThrow('aborted');
    expect(failures).toEqual([]);
  });

  it('counts a method replaced after wrapping (fault injection in tests)', async () => {
    const { target, seam, failures } = counted();
    target.read = async () => {
      throw new RangeError('injected');
    };
    await expect(seam.read(false)).rejects.toThrow('injected');
    expect(failures).toEqual(['read:RangeError']);
  });
});

describe('recordCalls', () => {
  it('times every call until it settles or its iteration ends, with the error name of a failure; an abort is not a call', async () => {
    const calls: Array<[string, string | undefined]> = [];
    const durations: number[] = [];
    const target = new Seam();
    const seam = recordCalls(target, (operation, seconds, error) => {
      calls.push([operation, error]);
      durations.push(seconds);
    });
    expect(await seam.read(false)).toBe(7);
    await expect(seam.read(true)).rejects.toThrow('down');
    expect(seam.check(false)).toBe(7);
    for await (const item of seam.list(-1)) expect(item).toBeLessThan(3);
    for await (const item of seam.list(-1)) if (item === 0) break;
    await expect((async () => {
      for await (const item of seam.list(2)) expect(item).toBeLessThan(2);
    })()).rejects.toThrow('gone');
    await expect(seam.stopped()).rejects.toThrow('aborted');
    expect(calls).toEqual([['read', undefined], ['read', 'StoreUnavailableError'], ['check', undefined], ['list', undefined], ['list', undefined], ['list', 'RestError']]);
    for (const seconds of durations) expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('measures a slow call as slow', async () => {
    const durations: number[] = [];
    const seam = recordCalls({ wait: () => new Promise((resolve) => setTimeout(resolve, 60)) }, (_operation, seconds) => durations.push(seconds));
    await seam.wait();
    expect(durations[0]).toBeGreaterThanOrEqual(0.05);
  });
});
