/**
 * The GitHub workflows, read as data: CI runs README's test command on each Node users arrive with;
 * deploy is plan -> approve -> apply (what-if in a job before the approval, apply after it, the plan
 * in the run's summary), OIDC without a secret, the deployment's own prefix everywhere, Node 22.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; if?: string; name?: string }
interface Job { needs?: string | string[]; environment?: string; if?: string; steps: Step[]; strategy?: { matrix: Record<string, unknown[]> } }
interface Workflow { permissions?: Record<string, string>; env?: Record<string, string>; jobs: Record<string, Job> }

const read = (name: string): Workflow => parse(readFileSync(path.join(__dirname, '..', '..', '.github', 'workflows', name), 'utf8')) as Workflow;
const nodeOf = (job: Job) => job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version'];

describe('.github/workflows', () => {
  it('ci runs .ci/run, which runs `npm test` as README says, on Node 20, 22 and 24', () => {
    const ci = read('ci.yml');
    expect(ci.jobs.test.steps.map((s) => s.run).filter(Boolean)).toEqual(['.ci/run']);
    expect(readFileSync(path.join(__dirname, '..', '..', '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
    expect(ci.permissions).toEqual({ contents: 'read' });
    expect(ci.jobs.test.strategy?.matrix.node).toEqual(['20.19', '22', '24']);
    expect(nodeOf(ci.jobs.test)).toBe('${{ matrix.node }}');
  });

  it('deploy: what-if in a job before the approval, its plan in the summary; apply and releases after it, in the production environment', () => {
    const deploy = read('deploy.yml');
    expect(deploy.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(deploy.jobs.package.needs).toBe('test');
    const plan = deploy.jobs.plan;
    expect(plan.environment).toBe('plan');
    const whatIf = plan.steps.find((s) => s.run?.includes('--what-if'))!;
    expect(whatIf.run).toContain('--create-resource-group');
    expect(whatIf.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(plan.steps.some((s) => s.uses?.startsWith('actions/upload-artifact@') && s.with?.name === 'plan')).toBe(true);
    expect(plan.steps.some((s) => s.run?.includes('deploy apply') && !s.run.includes('--what-if'))).toBe(false);

    const job = deploy.jobs.deploy;
    expect(job.needs).toEqual(['package', 'plan']);
    expect(job.environment).toBe('production');
    const runs = job.steps.map((s) => s.run ?? '');
    const apply = runs.findIndex((run) => run.includes('deploy apply'));
    expect(runs[apply]).not.toContain('--what-if');
    expect(job.steps[apply].if).toBe('${{ inputs.infrastructure }}');
    const releases = runs.filter((run) => run.includes('deploy release'));
    expect(releases.map((run) => /--app (\w+)/.exec(run)?.[1])).toEqual(['publisher', 'api']);
    expect(runs.findIndex((run) => run.includes('deploy release'))).toBeGreaterThan(apply);
  });

  it('deploy: OIDC login without a secret, the deployment prefix on every command, Node 22 in every job', () => {
    const deploy = read('deploy.yml');
    expect(JSON.stringify(deploy)).not.toMatch(/secrets\.|client-secret|creds/);
    for (const name of ['plan', 'deploy']) {
      const login = deploy.jobs[name].steps.find((s) => s.uses?.startsWith('azure/login@'))!;
      expect(Object.keys(login.with ?? {}).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    }
    expect(deploy.env?.DEPLOY).toBe('--profile prod --prefix ${{ vars.KEYFRONT_PREFIX }} --resource-group ${{ vars.KEYFRONT_RESOURCE_GROUP }}');
    const commands = Object.values(deploy.jobs).flatMap((job) => job.steps.map((s) => s.run ?? '')).filter((run) => /deploy (apply|release)/.test(run));
    expect(commands.length).toBe(4);
    for (const run of commands) expect(run).toContain('$DEPLOY');
    expect(deploy.jobs.package.steps.some((s) => s.run === 'npx keyfront deploy package --out packages')).toBe(true);
    for (const job of Object.values(deploy.jobs)) expect(nodeOf(job)).toBe('22');
  });
});
