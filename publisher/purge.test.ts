import { createLogger } from '../platform/log';
import { purgeWithRetry } from './purge';
import type { Purger } from './purgers/purger';

function purgerFailing(times: number, retryable = true): Purger & { calls: number } {
  return {
    name: 'test',
    calls: 0,
    async purge() {
      this.calls++;
      if (this.calls <= times) throw Object.assign(new Error(`edge down (${this.calls})`), { retryable });
    },
  };
}

function setup() {
  const lines: Array<{ level: string; message: string; attempt?: number }> = [];
  const sleeps: number[] = [];
  const logger = createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { lines, sleeps, options: { attempts: 4, backoffInMs: 1000, logger, sleep: async (ms: number) => void sleeps.push(ms) } };
}

describe('purgeWithRetry', () => {
  it('purges the given paths once when the edge answers', async () => {
    const { options, sleeps } = setup();
    const purger = purgerFailing(0);
    expect(await purgeWithRetry(purger, ['/v1/440/index.txt'], options)).toBe(true);
    expect({ calls: purger.calls, sleeps }).toEqual({ calls: 1, sleeps: [] });
  });

  it('retries with exponential backoff (jittered) and succeeds', async () => {
    const { options, sleeps, lines } = setup();
    const purger = purgerFailing(3);
    expect(await purgeWithRetry(purger, ['/v1/440/index.txt'], options)).toBe(true);
    expect(purger.calls).toBe(4);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(1000 * 2 ** i);
    });
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'purge failed; retrying'],
      ['warn', 'purge failed; retrying'],
      ['warn', 'purge failed; retrying'],
      ['info', 'edge paths purged'],
    ]);
  });

  it('gives up after the last attempt with an error line, and never throws', async () => {
    const { options, lines } = setup();
    const purger = purgerFailing(10);
    expect(await purgeWithRetry(purger, ['/v1/440/index.txt'], options)).toBe(false);
    expect(purger.calls).toBe(4);
    expect(lines.at(-1)).toMatchObject({ level: 'error', message: 'purge failed; the next run purges again', attempt: 4 });
  });

  it('stops at once when the purger says retrying cannot help', async () => {
    const { options } = setup();
    const purger = purgerFailing(10, false);
    expect(await purgeWithRetry(purger, ['/v1/440/index.txt'], options)).toBe(false);
    expect(purger.calls).toBe(1);
  });

  it('stops retrying when the run is aborted', async () => {
    const { options } = setup();
    const controller = new AbortController();
    const purger = purgerFailing(10);
    const result = purgeWithRetry(purger, ['/v1/440/index.txt'], { ...options, abortSignal: controller.signal, sleep: async () => controller.abort() });
    expect(await result).toBe(false);
    expect(purger.calls).toBe(1);
  });
});
