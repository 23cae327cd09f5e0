/**
 * The preflight as `npm test` and `npm start` run it: `node scripts/preflight.js`, in a child process.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findBrowser } from './browser';

const PREFLIGHT = path.join(__dirname, '..', 'preflight.js');

function preflight(mode: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [PREFLIGHT, mode], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/preflight.js', () => {
  it('stops `npm test` with one line saying what to install when no browser can be had', () => {
    const run = preflight('test', { KEYFRONT_BROWSER: 'system', KEYFRONT_SYSTEM_CHROMIUM: '/nonexistent/chromium' });
    expect(run).toEqual({
      status: 1,
      stdout: '',
      stderr: "keyfront preflight: no browser for the browser tests (no system Chromium at /nonexistent/chromium): run npm ci (it installs the Chromium build of @sparticuz/chromium), or install the system's Chromium (Debian: sudo apt-get install -y chromium)\n",
    });
  });

  it('passes `npm test` with the npm-installed Chromium alone, no system browser needed', () => {
    expect(preflight('test', { KEYFRONT_BROWSER: 'npm', KEYFRONT_SYSTEM_CHROMIUM: '/nonexistent/chromium' })).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('lets `npm start` through on this Node; the stack checks its own settings and ports', () => {
    expect(preflight('start', { KEYFRONT_API_PORT: 'x' })).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it.each([
    ['test', { KEYFRONT_BROWSER: 'firefox' }, 'keyfront preflight: invalid settings: KEYFRONT_BROWSER must be one of auto, npm, system, got "firefox"\n'],
    ['deploy', {}, 'keyfront preflight: usage: node scripts/preflight.js test|start\n'],
  ])('refuses %s with %j in one line', (mode, env, line) => {
    expect(preflight(mode, env)).toEqual({ status: 1, stdout: '', stderr: line });
  });

  it('names the npm build first and gives it its own libraries', async () => {
    const found = await findBrowser({ choice: 'npm', systemChromium: '/nonexistent/chromium' });
    expect(found).toEqual({ source: 'npm', executablePath: expect.stringMatching(/chromium$/), env: { FONTCONFIG_PATH: expect.any(String), LD_LIBRARY_PATH: expect.stringMatching(/keyfront-chromium-libs\/lib$/) } });
  });
});
