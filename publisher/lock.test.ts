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

  /** A container whose leases' renewals fail (rejecting, or never answering) while `renewals` says so. */
  async function faultyRenewals(renewals: { fail: number; mode: 'reject' | 'silent' }): Promise<BlobWriter> {
    const inner = await container();
    return Object.assign(Object.create(inner) as BlobWriter, {
      acquireLease: async (name: string, seconds: number): Promise<BlobLease | undefined> => {
        const lease = await inner.acquireLease(name, seconds);
        const fault = () => (renewals.mode === 'reject' ? Promise.reject(new Error('socket hang up')) : new Promise<never>(() => undefined));
        return lease && { leaseId: lease.leaseId, release: () => lease.release(), renew: async () => (renewals.fail-- > 0 ? fault() : lease.renew()) };
      },
    });
  }

  function recordedLogger() {
    const lines: Array<{ level: string; message: string; error?: { message?: string } }> = [];
    return { lines, logger: createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as (typeof lines)[number]) }) };
  }

  it('retries a renewal that fails for another reason; loses the lock once the next renewal could end after the lease ran out', async () => {
    jest.useFakeTimers();
    const renewals = { fail: 1, mode: 'reject' as const };
    const { lines, logger } = recordedLogger();
    const lock = (await acquireLock(await faultyRenewals(renewals), NAME, { ...OPTIONS, logger }))!;
    await jest.advanceTimersByTimeAsync(5000); // fails once
    await jest.advanceTimersByTimeAsync(5000); // renewed: the 15-s lease runs from here (10 s)
    expect(lock.signal.aborted).toBe(false);
    expect(lines.map((l) => l.message)).toEqual(['publisher lock renewal failed; retrying']);
    renewals.fail = Infinity;
    await jest.advanceTimersByTimeAsync(5000); // 15 s fails: a renewal at 20 s would still end by 22.5 s, before 25 s
    expect(lock.signal.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(5000); // 20 s fails: one at 25 s could not end in time
    expect(lock.signal.aborted).toBe(true);
    expect(lines.at(-1)).toMatchObject({ level: 'warn', message: 'publisher lock lost' });
    await lock.release();
  });

  it('a renewal storage does not answer is cut at a sixth of the lease, and the lock is lost before the lease can run out on the service', async () => {
    jest.useFakeTimers();
    const { lines, logger } = recordedLogger();
    const lock = (await acquireLock(await faultyRenewals({ fail: Infinity, mode: 'silent' }), NAME, { ...OPTIONS, logger }))!;
    // Renewal at 5 s, cut at 7.5 s: the next one (10 s, cut by 12.5 s) would still end before the lease (15 s).
    await jest.advanceTimersByTimeAsync(7500);
    expect(lines.map((l) => l.message)).toEqual(['publisher lock renewal failed; retrying']);
    expect(lines[0].error?.message).toBe(`Blob storage did not answer in 2.5 s (renew the lease on publisher-state/${NAME})`);
    expect(lock.signal.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(5000); // 12.5 s: cut again, and the next (15 s) could not end in time
    expect(lock.signal.aborted).toBe(true);
    expect((lock.signal.reason as Error).message).toBe(`the lock ${NAME} was lost: Blob storage did not answer in 2.5 s (renew the lease on publisher-state/${NAME})`);
  });

  it('a release storage does not answer ends within a sixth of the lease (the lease then expires by itself)', async () => {
    const inner = await container();
    const silentRelease: BlobWriter = Object.assign(Object.create(inner) as BlobWriter, {
      acquireLease: async (name: string, seconds: number): Promise<BlobLease | undefined> => {
        const lease = await inner.acquireLease(name, seconds);
        return lease && { leaseId: lease.leaseId, renew: () => lease.renew(), release: () => new Promise<never>(() => undefined) };
      },
    });
    jest.useFakeTimers();
    const lock = (await acquireLock(silentRelease, NAME, OPTIONS))!;
    const released = lock.release().catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(2500);
    await expect(released).resolves.toMatchObject({ message: `Blob storage did not answer in 2.5 s (release the lease on publisher-state/${NAME})` });
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
