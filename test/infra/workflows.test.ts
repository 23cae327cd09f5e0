/** The GitHub workflows, read as data: CI runs README's test command; deploy is OIDC, approved, package -> staging -> swap. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; if?: string }
interface Job { needs?: string | string[]; environment?: string; steps: Step[] }
interface Workflow { permissions?: Record<string, string>; jobs: Record<string, Job> }

const read = (name: string): Workflow => parse(readFileSync(path.join(__dirname, '..', '..', '.github', 'workflows', name), 'utf8')) as Workflow;

describe('.github/workflows', () => {
  it('ci runs .ci/run, which runs `npm test` as README says', () => {
    const ci = read('ci.yml');
    expect(ci.jobs.test.steps.map((s) => s.run).filter(Boolean)).toEqual(['.ci/run']);
    expect(readFileSync(path.join(__dirname, '..', '..', '.ci', 'run'), 'utf8')).toContain('CI=true npm test');
    expect(ci.permissions).toEqual({ contents: 'read' });
  });

  it('deploy: tests, then packages, then releases in the production environment with an OIDC login and no secret', () => {
    const deploy = read('deploy.yml');
    expect(deploy.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(deploy.jobs.package.needs).toBe('test');
    expect(deploy.jobs.release.needs).toBe('package');
    expect(deploy.jobs.release.environment).toBe('production');
    const login = deploy.jobs.release.steps.find((s) => s.uses?.startsWith('azure/login@'))!;
    expect(Object.keys(login.with ?? {}).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    expect(JSON.stringify(deploy)).not.toMatch(/secrets\.|client-secret|creds/);
    expect(deploy.jobs.package.steps.some((s) => s.run === 'npx keyfront deploy package --out packages')).toBe(true);
    const releases = deploy.jobs.release.steps.map((s) => s.run ?? '').filter((run) => run.includes('deploy release'));
    expect(releases.map((run) => /--app (\w+)/.exec(run)?.[1])).toEqual(['publisher', 'api']);
  });
});
