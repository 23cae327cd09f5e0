/**
 * The region lock on a `MemoryBlobWriter`: acquire, wait, renew, lose, expire, release. Renewal
 * timers run on Jest's fake clock; the lease clock of the memory writer is set apart where a test
 * lets a lease run out while its holder is frozen.
 */
import { createLogger, silentLogger } from '../platform/log';
import type { BlobLease, BlobWriter } from './blob/blob-writer';
import { MemoryBlobWriter } from './blob/memory-blob-writer';
import { acquireLock, LockLostError, type LockOptions } from './lock';

const NAME = '440/manifest.json';
const OPTIONS: LockOptions = { leaseSeconds: 15, initialContent: Buffer.from('{"initial":true}'), logger: silentLogger };

async function container(clock?: () => number): Promise<MemoryBlobWriter> {
  const state = new MemoryBlobWriter('publisher-state', { clock });
  await state.ensureContainer({ publicRead: false });
  return state;
}

afterEach(() => {
  jest.clearAllTimers();
  jest.useRealTimers();
});

describe('taking the lock', () => {
  it('creates the lock blob with its initial content when missing, and leaves an existing one as it is', async () => {
    const state = await container();
    const first = (await acquireLock(state, NAME, OPTIONS))!;
    expect((await state.read(NAME))!.data.toString()).toBe('{"initial":true}');
    await state.replace(NAME, Buffer.from('{"ranges":[]}'), { contentType: 'application/json' }, { ifMatch: (await state.read(NAME))!.etag, leaseId: first.leaseId });
    await first.release();
    const second = (await acquireLock(state, NAME, OPTIONS))!;
    expect((await state.read(NAME))!.data.toString()).toBe('{"ranges":[]}');
    await second.release();
  });

  it('lets one publisher hold it: another gets undefined at once', async () => {
    const state = await container();
    const held = (await acquireLock(state, NAME, OPTIONS))!;
    expect(await acquireLock(state, NAME, OPTIONS)).toBeUndefined();
    await held.release();
    const next = await acquireLock(state, NAME, OPTIONS);
    expect(next).toBeDefined();
    await next!.release();
  });

  it('waits up to waitInMs for a held lock and takes it once released', async () => {
    const state = await container();
    const held = (await acquireLock(state, NAME, OPTIONS))!;
    setTimeout(() => void held.release(), 300);
    const started = Date.now();
    const waited = await acquireLock(state, NAME, { ...OPTIONS, waitInMs: 10_000 });
    expect(waited).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5000);
    await waited!.release();
  });

  it('gives up after waitInMs, and stops waiting when aborted', async () => {
    const state = await container();
    const held = (await acquireLock(state, NAME, OPTIONS))!;
    const started = Date.now();
    expect(await acquireLock(state, NAME, { ...OPTIONS, waitInMs: 1200 })).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopping')), 200);
    await expect(acquireLock(state, NAME, { ...OPTIONS, waitInMs: 10_000, abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await held.release();
  });
});

describe('holding the lock', () => {
  it('renews every third of the lease: held past its duration, nobody else can take it', async () => {
    jest.useFakeTimers();
    const state = await container(); // the lease clock is Date.now, which Jest's fake timers move
    const lock = (await acquireLock(state, NAME, OPTIONS))!;
    await jest.advanceTimersByTimeAsync(50_000);
    expect(await acquireLock(state, NAME, OPTIONS)).toBeUndefined();
    expect(lock.signal.aborted).toBe(false);
    await lock.release();
  });

  it('a lease that ran out while its holder was frozen and was taken by another: the next renewal aborts the holder with LockLostError', async () => {
    jest.useFakeTimers();
    let leaseNow = 0;
    const state = await container(() => leaseNow);
    const lines: Array<{ level: string; message: string }> = [];
    const logger = createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as { level: string; message: string }) });
    const frozen = (await acquireLock(state, NAME, { ...OPTIONS, logger }))!;
    leaseNow += 16_000; // the holder's timers did not run: it was paused past its lease
    const rival = (await acquireLock(state, NAME, OPTIONS))!;
    expect(rival).toBeDefined();
    await jest.advanceTimersByTimeAsync(5000);
    expect(frozen.signal.aborted).toBe(true);
    expect(frozen.signal.reason).toBeInstanceOf(LockLostError);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'publisher lock lost' }));
    // Its writes carry a lease that is no longer the blob's.
    await expect(state.replace(NAME, Buffer.from('{}'), { contentType: 'application/json' }, { ifMatch: (await state.read(NAME))!.etag, leaseId: frozen.leaseId })).rejects.toMatchObject({ code: 'LeaseIdMismatchWithBlobOperation' });
    await frozen.release(); // changes nothing: the rival keeps its lease
    expect(await acquireLock(state, NAME, OPTIONS)).toBeUndefined();
    await rival.release();
  });

  it('a publisher that dies holding the lock loses it when the lease expires, and the next one takes it', async () => {
    let leaseNow = 0;
    const state = await container(() => leaseNow);
    const dead = (await acquireLock(state, NAME, { ...OPTIONS, leaseSeconds: 60 }))!;
    leaseNow += 59_000;
    expect(await acquireLock(state, NAME, OPTIONS)).toBeUndefined();
    leaseNow += 1000;
    const next = await acquireLock(state, NAME, OPTIONS);
    expect(next).toBeDefined();
    expect(next!.leaseId).not.toBe(dead.leaseId);
    await next!.release();
    await dead.release();
  });

  it('retries a renewal that fails for another reason; loses the lock only once two renewal intervals passed without one', async () => {
    jest.useFakeTimers();
    const inner = await container();
    let failing = 1;
    const flaky: BlobWriter = Object.assign(Object.create(inner) as BlobWriter, {
      acquireLease: async (name: string, seconds: number): Promise<BlobLease | undefined> => {
        const lease = await inner.acquireLease(name, seconds);
        return lease && { leaseId: lease.leaseId, release: () => lease.release(), renew: async () => (failing-- > 0 ? Promise.reject(new Error('socket hang up')) : lease.renew()) };
      },
    });
    const lines: Array<{ level: string; message: string }> = [];
    const logger = createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as { level: string; message: string }) });
    const lock = (await acquireLock(flaky, NAME, { ...OPTIONS, logger }))!;
    await jest.advanceTimersByTimeAsync(5000); // fails once
    await jest.advanceTimersByTimeAsync(5000); // renewed
    expect(lock.signal.aborted).toBe(false);
    expect(lines.map((l) => l.message)).toEqual(['publisher lock renewal failed; retrying']);
    failing = Infinity;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(lock.signal.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(5000);
    expect(lock.signal.aborted).toBe(true);
    expect(lines.at(-1)).toMatchObject({ level: 'warn', message: 'publisher lock lost' });
    await lock.release();
  });

  it('release frees the lease at once and stops renewing', async () => {
    jest.useFakeTimers();
    const state = await container();
    const renew = jest.fn();
    const spied: BlobWriter = Object.assign(Object.create(state) as BlobWriter, {
      acquireLease: async (name: string, seconds: number) => {
        const lease = (await state.acquireLease(name, seconds))!;
        return { leaseId: lease.leaseId, release: () => lease.release(), renew: () => (renew(), lease.renew()) };
      },
    });
    const lock = (await acquireLock(spied, NAME, OPTIONS))!;
    await jest.advanceTimersByTimeAsync(5000);
    expect(renew).toHaveBeenCalledTimes(1);
    await lock.release();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(renew).toHaveBeenCalledTimes(1);
    const next = await acquireLock(state, NAME, OPTIONS);
    expect(next).toBeDefined();
    await next!.release();
  });
});
