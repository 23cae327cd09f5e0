/**
 * Launches the Chromium the browser tests drive (playwright-core, Debian's /usr/bin/chromium).
 * Placeholder of the site branch until the settings branch's helper (npm-carried Chromium first)
 * is merged: same name and signature. Fails loudly when the browser is missing; never skips.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (the browser tests need a real browser)`);
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}
