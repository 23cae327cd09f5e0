/** `keyfront deploy` as an operator runs it: the real CLI in a child process. */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkTemplate } from '../../infra/check';
import type { ArmTemplate } from '../../infra/arm';
import { runKeyfront, STACK_TRACE } from '../support/cli';
import { readZip } from './functions-host-stand-in';

jest.setTimeout(120_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kf-deploy-cli-'));
});

describe('keyfront deploy (CLI)', () => {
  it('compile writes the template and a parameters file naming what to fill in', async () => {
    const out = path.join(dir, 'prod');
    const run = await runKeyfront(['deploy', 'compile', '--profile', 'prod', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*azuredeploy\.json \(\d+ resources, profile prod\) and .*azuredeploy\.parameters\.json: fill in its empty values\n$/);
    const template = JSON.parse(await readFile(path.join(out, 'azuredeploy.json'), 'utf8')) as ArmTemplate;
    expect(checkTemplate(template)).toEqual([]);
    const parameters = JSON.parse(await readFile(path.join(out, 'azuredeploy.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> };
    expect(Object.keys(parameters.parameters).sort()).toEqual(['healthAuthorities', 'secondaryLocation']);
  });

  it.each([
    [['deploy', 'compile', '--profile', 'qa', '--out'], '--profile must be dev or prod, got "qa"'],
    [['deploy', 'compile', '--profile', 'dev', '--prefix', 'X!', '--out'], '--prefix must be 3-11 lower-case letters'],
    [['deploy', 'package', '--app', 'web', '--out'], '--app must be api or publisher, got "web"'],
  ])('%j refuses with exit 2, one line, and writes nothing', async (args, message) => {
    const out = path.join(dir, `bad-${Math.random().toString(16).slice(2)}`);
    const run = await runKeyfront([...args, out]);
    expect(run.status).toBe(2);
    expect(run.stderr.startsWith(`keyfront: ${message}`)).toBe(true);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('release without a subscription, or with a missing package, is exit 2 before any Azure call', async () => {
    const noSubscription = await runKeyfront(['deploy', 'release', '--app', 'api', '--package', 'x.zip', '--profile', 'prod', '--resource-group', 'rg'], { env: { AZURE_SUBSCRIPTION_ID: '' } });
    expect(noSubscription.status).toBe(2);
    expect(noSubscription.stderr).toBe('keyfront: --subscription (or AZURE_SUBSCRIPTION_ID) is required\n');
    const missing = await runKeyfront(['deploy', 'release', '--app', 'api', '--package', path.join(dir, 'nope.zip'), '--profile', 'prod', '--resource-group', 'rg', '--subscription', '00000000-0000-0000-0000-000000000000']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^keyfront: .*nope\.zip/);
  });

  it('package writes api.zip and publisher.zip (no progress bar when not a terminal)', async () => {
    const out = path.join(dir, 'packages');
    const run = await runKeyfront(['deploy', 'package', '--out', out]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('packaged api\npackaged publisher\n');
    expect((await readdir(out)).sort()).toEqual(['api.zip', 'publisher.zip']);
    // The publisher carries the transparency page it publishes at start-up.
    expect([...(await readZip(await readFile(path.join(out, 'publisher.zip')))).keys()]).toContain('dist/site/index.html');
  });

  it('every deploy command has help', async () => {
    for (const command of ['compile', 'package', 'apply', 'release']) {
      const run = await runKeyfront(['deploy', command, '--help']);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`Usage: keyfront deploy ${command}`);
    }
  });
});
