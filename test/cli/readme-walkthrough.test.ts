/**
 * README's phone walkthrough, run as written: the shell block after the "walkthrough" marker is
 * taken from README.md, its commands run in order by bash (real `npx keyfront`, real `curl`)
 * from a clean directory against a local stack started here with `npm start` on free ports, and
 * each command's exit code and output shape are checked. A command added to the block without an
 * expectation here fails the test, so README and the CLI cannot drift apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePorts } from '../../scripts/local-stack/ports';
import { STACK_TRACE } from '../support/cli';

const ROOT = path.join(__dirname, '..', '..');
const MARKER = '<!-- walkthrough:';
/** The edge address README uses; the test's stack listens elsewhere. */
const README_EDGE = 'EDGE=http://127.0.0.1:8080';

/** The commands of the walkthrough block: continuation lines joined, trailing comments dropped. */
export function walkthroughCommands(readme: string): string[] {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} marker`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error('no ```sh block after the walkthrough marker');
  return block[1]
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

interface Step {
  command: string;
  status: number;
  stdout: string;
  stderr: string;
}

/** What each command must do, by the command's text. */
const EXPECTATIONS: Array<[RegExp, (step: Step, dir: string) => Promise<void>]> = [
  [/^EDGE=/, async (step) => expect(step.status).toBe(0)],
  [
    /^npx keyfront dev keys > keys\.json$/,
    async (step, dir) => {
      expect([step.status, step.stderr]).toEqual([0, '']);
      const keys = JSON.parse(await readFile(path.join(dir, 'keys.json'), 'utf8')) as Array<{ transmissionRisk: number }>;
      expect(keys).toHaveLength(14);
      expect(keys.every((k) => k.transmissionRisk >= 1 && k.transmissionRisk <= 8)).toBe(true);
    },
  ],
  [
    /^npx keyfront dev certificate --keys keys\.json --body > body\.json$/,
    async (step, dir) => {
      expect([step.status, step.stderr]).toEqual([0, '']);
      expect(JSON.parse(await readFile(path.join(dir, 'body.json'), 'utf8'))).toEqual({ temporaryExposureKeys: expect.any(Array), healthAuthorityID: expect.any(String), verificationPayload: expect.any(String), hmacKey: expect.any(String) });
    },
  ],
  [/^REG=\$\(curl .*\/api\/v1\/register\)$/, async (step) => expect(step.status).toBe(0)],
  [
    /^curl -s -X POST \$EDGE\/api\/v1\/publish /,
    async (step) => {
      expect(step.status).toBe(0);
      expect(JSON.parse(step.stdout)).toMatchObject({ revisionToken: expect.any(String), insertedExposures: 14 });
    },
  ],
  [
    /^npx keyfront publish --once --now /,
    async (step) => {
      expect(step.status).toBe(0);
      expect((JSON.parse(step.stdout) as { regions: unknown[] }).regions).toEqual([expect.objectContaining({ region: '440', status: 'done' })]);
      // One sentence a person can act on, no log lines.
      expect(step.stderr).toMatch(/^region 440: (published \d+ windows? \(\d+ files?\); the index names them|nothing new to publish: every closed window is already in the index .*)\n$/);
    },
  ],
  [
    /^curl -s \$EDGE\/v1\/440\/index\.txt$/,
    async (step) => {
      expect(step.status).toBe(0);
      const lines = step.stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^v1\/440\/\d+-\d+-\d{5}\.zip$/);
    },
  ],
  [
    /^curl -so f\.zip /,
    async (step, dir) => {
      expect(step.status).toBe(0);
      expect((await readFile(path.join(dir, 'f.zip'))).subarray(0, 2).toString('latin1')).toBe('PK');
    },
  ],
  [
    /^npx keyfront export verify f\.zip --public-key \.data\/signing-public\.pem$/,
    async (step) => {
      expect([step.status, step.stderr]).toEqual([0, '']);
      expect(JSON.parse(step.stdout)).toMatchObject({ file: 'f.zip', valid: true });
    },
  ],
  [
    /^npx keyfront export inspect --keys f\.zip \| head -n 20$/,
    async (step) => {
      // pipefail: keyfront's own exit code counts; the closed pipe must end it quietly.
      expect([step.status, step.stderr]).toEqual([0, '']);
      expect(step.stdout.split('\n').length).toBeLessThanOrEqual(21);
      expect(step.stdout).toMatch(/^\{\n {2}"file": "f\.zip",/);
    },
  ],
];

/** Runs `commands` in one bash, each with its own output files and exit code. */
function runScript(commands: string[], dir: string, env: NodeJS.ProcessEnv): Promise<Step[]> {
  const lines = ['set -o pipefail', ...commands.map((command, i) => `{ ${command} ; } >"$STEPS/${i}.out" 2>"$STEPS/${i}.err"; echo $? >"$STEPS/${i}.rc"`)];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', lines.join('\n')], { cwd: dir, env: { ...env, STEPS: path.join(dir, '.steps') }, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', () => {
      void Promise.all(
        commands.map(async (command, i) => {
          const read = (ext: string) => readFile(path.join(dir, '.steps', `${i}.${ext}`), 'utf8').catch(() => '');
          return { command, status: Number((await read('rc')).trim() || NaN), stdout: await read('out'), stderr: await read('err') };
        }),
      ).then(resolve, reject);
    });
  });
}

describe("README's phone walkthrough", () => {
  let dir: string;
  let stack: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyfront-walkthrough-'));
    // `npx keyfront` from this clean directory finds the CLI as it does at the repository root.
    await mkdir(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    await symlink(path.join(ROOT, 'bin', 'keyfront.js'), path.join(dir, 'node_modules', '.bin', 'keyfront'));
    await mkdir(path.join(dir, '.steps'));
  });

  afterAll(async () => {
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack!.once('exit', resolve));
      stack.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (stack.exitCode === null) stack.kill('SIGKILL');
    }
    // Its pipes stay open while anything it started still holds them: let go of them.
    stack?.stdout?.destroy();
    stack?.stderr?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every command of the block in order, each with its exit code and output shape', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const commands = walkthroughCommands(readme);
    expect(commands[0]).toBe(README_EDGE);
    // Every command has exactly one expectation, and every expectation a command.
    const matched = commands.map((command) => EXPECTATIONS.filter(([pattern]) => pattern.test(command)));
    expect(commands.filter((_, i) => matched[i].length !== 1)).toEqual([]);
    expect(EXPECTATIONS.filter(([pattern]) => !commands.some((command) => pattern.test(command))).map(([pattern]) => String(pattern))).toEqual([]);

    const [api, cosmos, blob, edge, edgeAdmin] = await freePorts(5);
    const ports = { KEYFRONT_API_PORT: api, KEYFRONT_COSMOS_PORT: cosmos, KEYFRONT_BLOB_PORT: blob, KEYFRONT_EDGE_PORT: edge, KEYFRONT_EDGE_ADMIN_PORT: edgeAdmin };
    const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), npm_config_update_notifier: 'false' };
    delete env.KEYFRONT_DATA_DIR;
    delete env.KEYFRONT_LOG_LEVEL;
    // The README's data directory is `.data` of the working directory: the stack's, here.
    stack = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...env, KEYFRONT_DATA_DIR: path.join(dir, '.data'), KEYFRONT_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.includes('ready.')) {
      if (stack.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const runnable = commands.map((command) => (command === README_EDGE ? `EDGE=http://127.0.0.1:${ports.KEYFRONT_EDGE_PORT}` : command));
    const steps = await runScript(runnable, dir, env);
    for (const [i, step] of steps.entries()) {
      const [, expectation] = matched[i][0];
      try {
        expect(step.stderr).not.toMatch(STACK_TRACE);
        await expectation(step, dir);
      } catch (error) {
        throw new Error(`step ${i + 1} \`${commands[i]}\` (exit ${step.status}):\nstdout: ${step.stdout.slice(0, 1500)}\nstderr: ${step.stderr.slice(0, 1500)}\n${(error as Error).message}`, { cause: error });
      }
    }
  }, 600_000);
});
