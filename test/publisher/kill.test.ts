/**
 * The heart of crash safety: a real `keyfront publish --once` process (bin/keyfront.js, finding
 * the emulators through stack.json as with `npm start`) is SIGKILLed at random moments, again
 * and again, while keys keep arriving and days pass (so that clean-up runs too). After every
 * kill the storage must be consistent; over the whole test no key may move from one file to
 * another; and a final run must leave every retained key in exactly one indexed file.
 */
import { spawn } from 'node:child_process';
import { BlobServiceClient } from '@azure/storage-blob';
import type { ExposureStore } from '../../exposures/exposure-store';
import { manifestBlobName } from '../../publisher/manifest';
import { windowStartOf } from '../../publisher/windows';
import { KEYFRONT_BIN } from '../support/cli';
import { DAY, expectComplete, expectConsistent, exposuresInWindow, hex, HOUR, readPublished, stackDataDir, startPublisherHarness, T0, type PublisherHarness, type PublishedView } from '../support/publisher-harness';

const REGION = 'k1';
const MIN_KILLS = 20;
const MAX_RUNS = 45;
const STEP = 20 * HOUR; // the publisher clock advances this much per run: clean-up starts after two weeks
/** Runs go on at least this long (publisher clock), so that files leave the index and storage, and keys the store. */
const SPAN = 17 * DAY;

let h: PublisherHarness;
let store: ExposureStore;
let env: NodeJS.ProcessEnv;

/** A seeded generator (mulberry32): the kill moments differ from run to run but repeat from test to test. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('kill-test');
  // What `npm start` would write: the CLI publishes into these emulators.
  const stack = await stackDataDir(h, 'data', {
    KEYFRONT_REGIONS: REGION,
    KEYFRONT_COSMOS_CONTAINER: 'kill-test',
    KEYFRONT_STORE_PAGE_SIZE: '5',
    KEYFRONT_MAX_KEYS_PER_FILE: '6', // several files per window
    KEYFRONT_PRIVACY_FLOOR: 'pad',
    KEYFRONT_MIN_KEYS_PER_FILE: '4', // and padding on the small ones
    KEYFRONT_PADDING_JITTER: '2',
    KEYFRONT_PUBLISH_LEASE_SECONDS: '15',
    KEYFRONT_PURGE_BACKOFF_MS: '1',
    KEYFRONT_LOG_LEVEL: 'debug',
  });
  env = { ...process.env, ...stack.env };
});

afterAll(async () => {
  await h?.stop();
});

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI; kills it with SIGKILL after `killAfterLines` log lines plus `delayInMs`, or after `delayInMs` alone. */
function publishOnce(now: number, kill?: { afterLines?: number; delayInMs: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEYFRONT_BIN, 'publish', '--once', '--now', new Date(now * 1000).toISOString(), '--wait', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let lines = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), kill!.delayInMs);
    };
    if (kill && kill.afterLines === undefined) arm();
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      lines += chunk.toString().split('\n').length - 1;
      if (kill?.afterLines !== undefined && lines >= kill.afterLines) arm();
    });
    // A run that never ends fails the test instead of hanging it.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** A killed publisher keeps its lease until it expires; the test lets that time pass by breaking it. */
async function expireLease(): Promise<void> {
  const blob = BlobServiceClient.fromConnectionString(h.azurite.connectionString).getContainerClient('publisher-state').getBlobClient(manifestBlobName(REGION));
  await blob
    .getBlobLeaseClient()
    .breakLease(0)
    .catch(() => undefined);
}

/** A key is published in one file for good: it never appears in another, even after its file was deleted. */
function expectKeysStayHome(view: PublishedView, home: Map<string, string>): void {
  for (const file of view.files.values()) {
    for (const key of file.keys) {
      const first = home.get(key);
      if (first !== undefined && first !== file.name) throw new Error(`a key moved from ${first} to ${file.name}`);
      home.set(key, file.name);
    }
  }
}

it(`leaves storage consistent after each of at least ${MIN_KILLS} SIGKILLs of a real publisher process, and the next run finishes the job`, async () => {
  const next = random(0x5eed);
  const seen = new Map<string, string>();
  const home = new Map<string, string>();
  const inserted: Array<{ key: string; publishAt: number }> = [];
  let kills = 0;
  let completed = 0;
  let now = T0;
  for (let run = 0; run < MAX_RUNS && (kills < MIN_KILLS || now < T0 + SPAN); run++) {
    now += STEP;
    // Keys keep arriving: two closed windows' worth before each run (one with several files).
    const batch = [...exposuresInWindow(REGION, windowStartOf(now, HOUR) - 3 * HOUR, 1 + Math.floor(next() * 14)), ...exposuresInWindow(REGION, windowStartOf(now, HOUR) - 2 * HOUR, 1 + Math.floor(next() * 4))];
    await store.insert(batch);
    inserted.push(...batch.map((e) => ({ key: hex(e.tek.keyData), publishAt: e.publishAt })));

    const kill = next() < 0.75 ? { afterLines: Math.floor(next() * 14), delayInMs: Math.floor(next() * 40) } : { delayInMs: 1500 + Math.floor(next() * 2500) };
    const result = await publishOnce(now, kill);
    if (result.signal === 'SIGKILL') {
      kills++;
      await expireLease();
    } else {
      if (result.code !== 0) throw new Error(`publish --once failed (${result.code}): ${result.stderr.slice(-2000)}`);
      completed++;
    }
    const view = await readPublished(h.exports, REGION);
    await expectConsistent(view, h.publicKey, seen);
    expectKeysStayHome(view, home);
  }
  expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);

  const final = await publishOnce(now);
  expect(final).toMatchObject({ code: 0, signal: null });
  const view = await readPublished(h.exports, REGION);
  await expectConsistent(view, h.publicKey, seen);
  expectKeysStayHome(view, home);
  // Keys of windows that ended within the file retention are indexed, each in exactly one file; older ones left with their files.
  const retainedFrom = now - 14 * DAY;
  const retained = inserted.filter((k) => windowStartOf(k.publishAt, HOUR) + HOUR >= retainedFrom);
  expectComplete(view, { keys: retained.map((k) => k.key), retainedFrom });
  expect(retained.length).toBeLessThan(inserted.length);
  // Every key ever stored was published: either still in an indexed file, or seen in one before clean-up.
  expect(inserted.filter((k) => !home.has(k.key))).toEqual([]);
  expect(completed + kills).toBeGreaterThan(MIN_KILLS);
}, 240_000);
