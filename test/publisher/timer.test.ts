/**
 * The timer function `publishExports`: its handler publishes with the real Blob client (Azurite),
 * fails the invocation when a region failed, and the Function App entry validates its settings
 * at start-up.
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { createLogger } from '../../platform/log';
import { MemoryExposureStore } from '../../exposures/memory-store';
import type { ExposureStore } from '../../exposures/exposure-store';
import { createPublishExportsHandler } from '../../publisher/timer';
import { exposuresInWindow, harnessDeps, HOUR, readPublished, startPublisherHarness, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;

beforeAll(async () => {
  h = await startPublisherHarness();
});

afterAll(async () => {
  await h?.stop();
});

const timer = (isPastDue: boolean): Timer => ({ isPastDue, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } });

it('publishes the closed windows on each tick, and logs a tick that is past due', async () => {
  const store = new MemoryExposureStore();
  const windowStart = Math.floor(Date.now() / 1000 / HOUR) * HOUR - 3 * HOUR;
  await store.insert(exposuresInWindow('t1', windowStart, 3));
  const lines: Array<{ level: string; message: string; invocationId?: string }> = [];
  const logger = createLogger('publisher', { write: (line) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const handler = createPublishExportsHandler(async () => harnessDeps(h, store, { regions: ['t1'] }, { logger }));

  await handler(timer(true), new InvocationContext({ invocationId: 'tick-1' }));
  const view = await readPublished(h.exports, 't1');
  expect([...view.files.keys()]).toEqual([`v1/t1/${windowStart}-${windowStart + HOUR}-00001.zip`]);
  expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/past due/), invocationId: 'tick-1' }));
});

it('fails the invocation when a region could not be published', async () => {
  const broken: ExposureStore = Object.assign(new MemoryExposureStore(), {
    listForPublication: () => {
      throw new Error('store down');
    },
  });
  const handler = createPublishExportsHandler(async () => harnessDeps(h, broken, { regions: ['t2'] }));
  await expect(handler(timer(false), new InvocationContext({ invocationId: 'tick-2' }))).rejects.toThrow(/publishing failed for t2 \(store down\)/);
});

describe('the Function App entry (publisher/index.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  it('refuses to start with a bad setting, naming the variable', async () => {
    process.env = { ...saved, KEYFRONT_COSMOS_ENDPOINT: 'https://a.documents.azure.com', KEYFRONT_BLOB_ACCOUNT_URL: 'https://a.blob.core.windows.net', KEYFRONT_WINDOW_SECONDS: '45' };
    await jest.isolateModulesAsync(async () => {
      await expect(import('../../publisher/index')).rejects.toThrow(/KEYFRONT_WINDOW_SECONDS must be .*, got "45"/);
    });
  });

  it('registers the timer function `publishExports` with valid settings', async () => {
    process.env = { ...saved, KEYFRONT_COSMOS_ENDPOINT: 'https://a.documents.azure.com', KEYFRONT_BLOB_ACCOUNT_URL: 'https://a.blob.core.windows.net' };
    // Outside the Functions host, @azure/functions only warns that it skips the registration.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await jest.isolateModulesAsync(async () => {
      await import('../../publisher/index');
    });
    expect(warn.mock.calls.map((call) => String(call[0]))).toContainEqual(expect.stringMatching(/Skipping call to register function "publishExports"/));
  });
});
