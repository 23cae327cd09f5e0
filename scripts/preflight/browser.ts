/**
 * Where the browser of the browser tests comes from, in this order: the Chromium build that npm
 * installs (`@sparticuz/chromium`, a devDependency: `npm ci` is all a machine needs), the system's
 * Chromium (Debian `chromium`), else an error that says in one line what to install.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { loadBrowserConfig, type BrowserConfig } from './config';

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

/** Runs `tar -x` (in every Linux base system) on a brotli-compressed tarball of the package. */
async function untarBrotli(file: string, into: string): Promise<void> {
  const tar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${stderr.trim()}`))));
  });
  await Promise.all([pipeline(createReadStream(file), createBrotliDecompress(), tar.stdin), exited]);
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

async function npmChromium(): Promise<BrowserExecutable> {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    throw new BrowserMissingError('@sparticuz/chromium is not installed');
  }
  const { default: Chromium } = await import('@sparticuz/chromium');
  // Unpacks chromium, fonts and swiftshader into the temporary directory on first use (a few seconds).
  const executablePath = await Chromium.executablePath();
  const libraries = await bundledLibraries(path.join(path.dirname(entry), '..', '..', 'bin'));
  const env: Record<string, string> = { FONTCONFIG_PATH: path.join(tmpdir(), 'fonts') };
  if (libraries) env.LD_LIBRARY_PATH = libraries;
  return { source: 'npm', executablePath, env };
}

/** The browser to launch, by `KEYFRONT_BROWSER`; throws `BrowserMissingError` (one line) when there is none. */
export async function findBrowser(config: BrowserConfig = loadBrowserConfig(process.env)): Promise<BrowserExecutable> {
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
