/**
 * Where the browser of the browser tests comes from, in this order: the Chromium build that npm
 * installs (`@sparticuz/chromium`, a devDependency: `npm ci` is all a machine needs), the system's
 * Chromium (Debian `chromium`), else an error that says in one line what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import type { BrowserConfig } from './config';

/** The one list of launch flags: headless, no sandbox (containers, root), nothing that phones home. */
export const BROWSER_FLAGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const BROWSER_INSTALL_HINT = "run npm ci (it installs the Chromium build of @sparticuz/chromium), or install the system's Chromium (Debian: sudo apt-get install -y chromium)";

export interface BrowserExecutable {
  source: 'npm' | 'system';
  executablePath: string;
  /** Environment of the browser process: the npm build brings its own NSS libraries and fonts configuration. */
  env?: Record<string, string>;
}

/** No browser could be found or prepared; the message is one line. */
export class BrowserMissingError extends Error {
  override readonly name = 'BrowserMissingError';
}

/** Unpacks a brotli-compressed tarball of the package (a few MB) with `tar`, which every Linux base system has. */
async function untarBrotli(file: string, into: string): Promise<void> {
  const tarball = brotliDecompressSync(await readFile(file));
  const result = spawnSync('tar', ['-x', '-C', into], { input: tarball, stdio: ['pipe', 'ignore', 'pipe'] });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`tar exited with ${result.status}: ${result.stderr.toString().trim()}`);
}

/**
 * The libraries the npm build links against (NSS, NSPR, expat), from the package's own tarball, so a
 * machine without them (a slim image with only Node) still runs it. Unpacked once, then renamed into
 * place, so parallel test workers never see half a directory.
 */
async function bundledLibraries(binDir: string): Promise<string | undefined> {
  const target = path.join(tmpdir(), 'keyfront-chromium-libs');
  if (existsSync(path.join(target, 'lib', 'libnss3.so'))) return path.join(target, 'lib');
  const archive = path.join(binDir, 'al2023.tar.br');
  if (!existsSync(archive)) return undefined;
  const scratch = await mkdtemp(`${target}-`);
  try {
    await untarBrotli(archive, scratch);
    await rename(scratch, target).catch((error: NodeJS.ErrnoException) => {
      // Another process put it in place first.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return path.join(target, 'lib');
}

/**
 * Runs `work` while holding a lock directory: @sparticuz/chromium reuses `{tmp}/chromium` once it exists,
 * so two test workers unpacking at once could launch a half-written file. Bounded wait.
 */
async function whileUnpackLocked<T>(work: () => Promise<T>): Promise<T> {
  const lock = path.join(tmpdir(), 'keyfront-chromium-unpack.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) throw new BrowserMissingError(`${lock} has been held for 3 minutes: if no test run is unpacking the browser, remove it`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function npmChromium(): Promise<BrowserExecutable> {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    throw new BrowserMissingError('@sparticuz/chromium is not installed');
  }
  const { default: Chromium } = await import('@sparticuz/chromium');
  // Unpacks chromium, fonts and swiftshader into the temporary directory on first use (a few seconds).
  const [executablePath, libraries] = await whileUnpackLocked(async () => [await Chromium.executablePath(), await bundledLibraries(path.join(path.dirname(entry), '..', '..', 'bin'))] as const);
  const env: Record<string, string> = { FONTCONFIG_PATH: path.join(tmpdir(), 'fonts') };
  if (libraries) env.LD_LIBRARY_PATH = libraries;
  return { source: 'npm', executablePath, env };
}

/** The browser to launch, by `KEYFRONT_BROWSER`; throws `BrowserMissingError` (one line) when there is none. */
export async function findBrowser(config: BrowserConfig): Promise<BrowserExecutable> {
  const reasons: string[] = [];
  if (config.choice !== 'system') {
    try {
      return await npmChromium();
    } catch (error) {
      reasons.push(`the npm Chromium: ${(error as Error).message}`);
    }
  }
  if (config.choice !== 'npm') {
    if (existsSync(config.systemChromium)) return { source: 'system', executablePath: config.systemChromium };
    reasons.push(`no system Chromium at ${config.systemChromium}`);
  }
  throw new BrowserMissingError(`no browser for the browser tests (${reasons.join('; ')}): ${BROWSER_INSTALL_HINT}`);
}

/** Finds the browser and starts it headless with the one flag list. */
export async function launchChromium(config: BrowserConfig): Promise<Browser> {
  const found = await findBrowser(config);
  return chromium.launch({ executablePath: found.executablePath, headless: true, args: [...BROWSER_FLAGS], ...(found.env ? { env: { ...process.env, ...found.env } } : {}) });
}
