/**
 * `keyfront publish --once`: publishes into the local stack it finds through stack.json (the real
 * CLI process, over Azurite and the Cosmos emulator), every file it writes verifies with
 * `keyfront export verify`, and without a stack, or with bad arguments, it fails with a message
 * and an exit code, never a stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ExposureStore } from '../../exposures/exposure-store';
import { EXIT } from '../../scripts/cli-error';
import { main } from '../../scripts/cli';
import { freePort } from '../../scripts/local-stack/ports';
import { azuriteConnectionString } from '../../scripts/local-stack/azurite';
import { runKeyfront, STACK_TRACE } from '../support/cli';
import { expectComplete, expectConsistent, exposuresInWindow, hex, HOUR, readPublished, stackDataDir, startPublisherHarness, T0, type PublisherHarness } from '../support/publisher-harness';

let h: PublisherHarness;
let store: ExposureStore;

beforeAll(async () => {
  h = await startPublisherHarness({ cosmos: true });
  store = await h.cosmosStore('cli-test');
});

afterAll(async () => {
  await h?.stop();
});

it('publishes into the running local stack found through stack.json, and every file it wrote verifies with `keyfront export verify`', async () => {
  const region = 'cli1';
  const keys = [...exposuresInWindow(region, T0, 7), ...exposuresInWindow(region, T0 + HOUR, 2)];
  await store.insert(keys);
  const { env } = await stackDataDir(h, 'stack-ok', { KEYFRONT_REGIONS: `${region},cli2`, KEYFRONT_COSMOS_CONTAINER: 'cli-test', KEYFRONT_MAX_KEYS_PER_FILE: '4', KEYFRONT_MIN_KEYS_PER_FILE: '0', KEYFRONT_PADDING_JITTER: '0' });

  const result = await runKeyfront(['publish', '--once', '--now', new Date((T0 + 2 * HOUR + 300) * 1000).toISOString(), '--region', region], { env });
  expect({ status: result.status, stderr: result.status === EXIT.ok ? '' : result.stderr }).toEqual({ status: EXIT.ok, stderr: '' });
  const run = JSON.parse(result.stdout) as { regions: Array<{ region: string; status: string; filesWritten: string[] }> };
  expect(run.regions.map((r) => [r.region, r.status, r.filesWritten.length])).toEqual([[region, 'done', 3]]);

  const view = await readPublished(h.exports, region);
  await expectConsistent(view, h.publicKey);
  expectComplete(view, { keys: keys.map((e) => hex(e.tek.keyData)) });
  const dir = path.join(h.dir, 'downloads');
  await mkdir(dir, { recursive: true });
  for (const file of view.files.values()) {
    const local = path.join(dir, path.basename(file.name));
    await writeFile(local, file.zip);
    const verified = await runKeyfront(['export', 'verify', local, '--public-key', h.publicKeyFile], { env });
    expect(verified.status).toBe(EXIT.ok);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, keyCount: file.keys.length, signatureInfo: { verificationKeyId: '440', verificationKeyVersion: 'v1' } });
  }
}, 60_000);

describe('without a stack to publish into, or with bad arguments', () => {
  const saved = { ...process.env };
  let stderr: string;

  beforeEach(() => {
    stderr = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    });
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    for (const name of Object.keys(process.env)) if (name.startsWith('KEYFRONT_')) delete process.env[name];
  });

  afterEach(() => {
    jest.restoreAllMocks();
    process.env = { ...saved };
  });

  async function publishIn(dataDir: string, args: string[]): Promise<number> {
    process.env.KEYFRONT_DATA_DIR = dataDir;
    process.env.KEYFRONT_SIGNING_KEY_FILE = h.privateKeyFile;
    return main(['publish', ...args]);
  }

  it('fails with exit code 1 and says how to start one when no local stack runs', async () => {
    const dataDir = path.join(h.dir, 'no-stack');
    await mkdir(dataDir, { recursive: true });
    expect(await publishIn(dataDir, ['--once'])).toBe(EXIT.failed);
    expect(stderr).toMatch(/^keyfront: no local stack runs with data directory .*no-stack .*stack\.json not found\)\. Start one with `npm start`/);
    expect(stderr).not.toMatch(STACK_TRACE);
  });

  it('fails with exit code 1 when the stack of stack.json is no longer running', async () => {
    const exited = spawn(process.execPath, ['-e', '']);
    const pid = exited.pid!;
    await new Promise((resolve) => exited.on('close', resolve));
    const dataDir = path.join(h.dir, 'dead-stack');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'stack.json'), JSON.stringify({ pid, cosmosEndpoint: h.cosmos!.endpoint, blobConnectionString: h.azurite.connectionString }));
    expect(await publishIn(dataDir, ['--once'])).toBe(EXIT.failed);
    expect(stderr).toMatch(new RegExp(`\\(pid ${pid}\\) is not running; start it with \`npm start\``));
  });

  it('fails with exit code 1, at once, when the stack’s storage does not answer', async () => {
    const dataDir = path.join(h.dir, 'silent-stack');
    await mkdir(dataDir, { recursive: true });
    const port = await freePort();
    await writeFile(path.join(dataDir, 'stack.json'), JSON.stringify({ pid: process.pid, cosmosEndpoint: h.cosmos!.endpoint, blobConnectionString: azuriteConnectionString(`http://127.0.0.1:${port}/devstoreaccount1`) }));
    expect(await publishIn(dataDir, ['--once'])).toBe(EXIT.failed);
    expect(stderr).toMatch(new RegExp(`cannot reach Blob storage at http://127.0.0.1:${port}/devstoreaccount1 \\(ECONNREFUSED\\); is the local stack still running\\?`));
  });

  it.each<[string, string[], RegExp]>([
    ['without --once', [], /pass --once/],
    ['--now that is not a date', ['--once', '--now', 'tomorrow'], /--now must be an ISO 8601 date-time/],
    ['--now on a day that does not exist', ['--once', '--now', '2026-02-30T00:00:00Z'], /--now must be an ISO 8601 date-time with a time zone, such as 2026-11-30T00:00:00Z, got "2026-02-30T00:00:00Z"/],
    ['--now without a zone (it would be read as local time)', ['--once', '--now', '2026-11-30T00:00:00'], /--now must be an ISO 8601 date-time with a time zone, such as 2026-11-30T00:00:00Z, got "2026-11-30T00:00:00"/],
    ['--region that is not a region code', ['--once', '--region', 'a b'], /--region must be a region code matching/],
    ['a negative --wait', ['--once', '--wait', '-3'], /--wait must be a number of seconds/],
    ['--region that is not published', ['--once', '--region', 'XX'], /--region "XX" is not a published region \(440; KEYFRONT_REGIONS\)/],
  ])('rejects %s with exit code 2 and says why', async (_name, args, message) => {
    const { dataDir } = await stackDataDir(h, 'args', {});
    expect(await publishIn(dataDir, args)).toBe(EXIT.usage);
    expect(stderr).toMatch(message);
  });

  it('rejects a --region these settings do not publish with exit code 2 even when no stack runs', async () => {
    const dataDir = path.join(h.dir, 'no-stack-region');
    await mkdir(dataDir, { recursive: true });
    expect(await publishIn(dataDir, ['--once', '--region', 'bogus'])).toBe(EXIT.usage);
    expect(stderr).toMatch(/--region "bogus" is not a published region \(440; KEYFRONT_REGIONS\)/);
    // A region the settings publish: the missing stack is the problem.
    expect(await publishIn(dataDir, ['--once', '--region', '440'])).toBe(EXIT.failed);
    expect(stderr).toMatch(/no local stack runs with data directory/);
  });

  it('rejects a bad publisher setting with exit code 2, naming the variable', async () => {
    const { dataDir } = await stackDataDir(h, 'bad-setting', {});
    process.env.KEYFRONT_MAX_KEYS_PER_FILE = '800000';
    expect(await publishIn(dataDir, ['--once'])).toBe(EXIT.usage);
    expect(stderr).toMatch(/KEYFRONT_MAX_KEYS_PER_FILE must be an integer from 1 to 750000, got "800000"/);
  });
});
