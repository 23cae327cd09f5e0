/**
 * The one way tests start a browser: Chromium through playwright-core, found by
 * `scripts/preflight/browser.ts` (the npm-installed build, else the system's; `KEYFRONT_BROWSER`
 * chooses) and launched headless with its one flag list. Without one it fails with the one-line
 * instruction: browser tests never skip.
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../scripts/preflight/browser';
import { loadBrowserConfig } from '../../scripts/preflight/config';

export { BROWSER_FLAGS } from '../../scripts/preflight/browser';

export function launchBrowser(): Promise<Browser> {
  return launchChromium(loadBrowserConfig(process.env));
}
