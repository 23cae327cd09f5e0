/**
 * `keyfront publish --once` next to a real `npm start`: it finds the stack's emulators through
 * stack.json and publishes into them (`--now` closing the current window), and once the stack
 * is stopped it says so with exit code 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { CosmosExposureStore } from '../../api/store/cosmos-store';
import { EXIT } from '../../scripts/cli-error';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { freePort } from '../../scripts/local-stack/ports';
import { runKeyfront } from '../support/cli';
import { exposureAt } from '../support/publisher-harness';

const ROOT = path.join(__dirname, '..', '..');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let stack: ChildProcess | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-stack-publish-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KEYFRONT_')));
  env = {
    ...inherited,
    KEYFRONT_DATA_DIR: dataDir,
    KEYFRONT_API_PORT: String(await freePort()),
    KEYFRONT_COSMOS_PORT: String(await freePort()),
    KEYFRONT_BLOB_PORT: String(await freePort()),
    KEYFRONT_EDGE_PORT: String(await freePort()),
    KEYFRONT_EDGE_ADMIN_PORT: String(await freePort()),
    KEYFRONT_LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill('SIGKILL');
    await new Promise((resolve) => stack!.once('exit', resolve));
  }
  await rm(dataDir, { recursive: true, force: true });
});

it('publishes into the emulators of a running `npm start`, and fails clearly once it stopped', async () => {
  stack = spawn(process.execPath, [require.resolve('tsx/cli'), 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  stack.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  stack.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let waited = 0; !output.includes('ready.'); waited += 100) {
    if (stack.exitCode !== null || waited > 60_000) throw new Error(`npm start did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const described = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { cosmosEndpoint: string; indexUrls: string[] };

  // A key whose one-minute window the real clock closes only in a minute or two: the stack's own publisher leaves it alone meanwhile.
  const client = new CosmosClient(cosmosEmulatorClientOptions(described.cosmosEndpoint));
  const now = Math.floor(Date.now() / 1000);
  await new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }).insert([exposureAt('440', now + 60)]);
  client.dispose();

  const published = await runKeyfront(['publish', '--once', '--now', new Date((now + 240) * 1000).toISOString()], { env });
  expect({ status: published.status, stderr: published.status === EXIT.ok ? '' : published.stderr }).toEqual({ status: EXIT.ok, stderr: '' });
  const run = JSON.parse(published.stdout) as { regions: Array<{ region: string; status: string; filesWritten: string[] }> };
  expect(run.regions).toMatchObject([{ region: '440', status: 'done' }]);
  const index = await (await fetch(described.indexUrls[0])).text();
  expect(index.split('\n')).toEqual(run.regions[0].filesWritten);
  expect(run.regions[0].filesWritten).toHaveLength(1);

  stack.kill('SIGTERM');
  await new Promise((resolve) => stack!.once('exit', resolve));
  const stopped = await runKeyfront(['publish', '--once'], { env });
  expect(stopped.status).toBe(EXIT.failed);
  expect(stopped.stderr).toMatch(/^keyfront: no local stack runs with data directory .*\(.*stack\.json not found\)/);
}, 120_000);
