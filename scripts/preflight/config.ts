/**
 * Settings of the preflight and of the browser tests: which browser to use. `auto` takes the
 * Chromium build npm installs, else the system's; `npm` or `system` take only that one (to check
 * each alone, e.g. that a machine without a system browser still passes).
 */
import { SettingsReader, type Env, type Setting } from '../../platform/settings';

export type BrowserChoice = 'auto' | 'npm' | 'system';

export interface BrowserConfig {
  choice: BrowserChoice;
  /** Where the system's Chromium is looked for. */
  systemChromium: string;
}

export const BROWSER_SETTINGS: readonly Setting[] = [
  { env: 'KEYFRONT_BROWSER', default: 'auto', description: 'Browser of the browser tests: auto (the npm-installed Chromium, else the system one), npm or system.' },
  { env: 'KEYFRONT_SYSTEM_CHROMIUM', default: '/usr/bin/chromium', description: "Path of the system's Chromium (Debian: apt-get install chromium)." },
];

export function loadBrowserConfig(env: Env): BrowserConfig {
  const read = new SettingsReader(env, BROWSER_SETTINGS);
  const config: BrowserConfig = { choice: read.oneOf('KEYFRONT_BROWSER', ['auto', 'npm', 'system'] as const), systemChromium: read.required('KEYFRONT_SYSTEM_CHROMIUM') };
  read.throwIfAny();
  return config;
}

