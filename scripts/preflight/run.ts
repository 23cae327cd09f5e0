/**
 * The checks of `npm test` after the Node version (`scripts/preflight.js`): the programs some tests
 * run, and that a browser is found and starts (unpacking the npm build once, before jest's workers
 * run in parallel). Resolves to the one line to print, or `undefined`.
 */
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../../platform/settings';
import { BROWSER_INSTALL_HINT, BrowserMissingError, launchChromium } from './browser';
import { loadBrowserConfig } from './config';

const oneLine = (text: string) => text.replace(/:\n\s*/, ': ').replace(/\s*\n\s*/g, '; ');

async function browserProblem(): Promise<string | undefined> {
  try {
    const browser = await launchChromium(loadBrowserConfig(process.env));
    await browser.close();
    return undefined;
  } catch (error) {
    if (error instanceof BrowserMissingError || error instanceof ConfigError) return oneLine(error.message);
    // Found but cannot start (e.g. a library missing): say which browser, and what to install.
    return `the browser for the browser tests does not start (${oneLine((error as Error).message).slice(0, 300)}): ${BROWSER_INSTALL_HINT}`;
  }
}

/** Programs some tests run as independent checkers: openssl (signatures, the ARM stand-in's certificate), python3 (zipfile). */
export const TEST_PROGRAMS = ['openssl', 'python3'] as const;

function missingPrograms(): string | undefined {
  const missing = TEST_PROGRAMS.filter((program) => spawnSync(program, ['--version'], { stdio: 'ignore' }).error !== undefined);
  if (missing.length === 0) return undefined;
  return `the tests need ${missing.join(' and ')} (independent checkers of signatures and zips): install ${missing.length > 1 ? 'them' : 'it'} (Debian: sudo apt-get install -y ${missing.join(' ')})`;
}

export async function runPreflight(): Promise<string | undefined> {
  return missingPrograms() ?? (await browserProblem());
}
