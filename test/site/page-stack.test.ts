/**
 * `npm start`, then the edge root in Chromium, as README tells a reader to do: the stack builds
 * and publishes the page at start, keys are published by `keyfront publish --once`, and the page,
 * served by the local edge from Azurite with the edge's strict headers, shows every file of the
 * index verified and the fingerprint of the stack's signing key, with nothing on the console.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { request } from 'undici';
import { CosmosClient } from '@azure/cosmos';
import type { Browser } from 'playwright-core';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { launchBrowser } from '../support/browser';
import { runKeyfront } from '../support/cli';
import { exposureAt } from '../support/publisher-harness';
import { openPage, rowsOf, screenshot, tabIntoFiles, VIEWPORTS } from './page-driver';
import { freeStackEnvironment } from '../support/stack-environment';

const ROOT = path.join(__dirname, '..', '..');

describe('the transparency page on the local stack (npm start)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let stack: ChildProcess | undefined;
  let output = '';
  let edgeUrl: string;
  let browser: Browser;
  let indexPaths: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-site-stack-'));
    env = await freeStackEnvironment(dataDir);
    stack = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let waited = 0; !output.includes('ready.'); waited += 100) {
      if (stack.exitCode !== null || waited > 120_000) throw new Error(`the stack did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const described = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { cosmosEndpoint: string; edgeUrl: string; region: string };
    edgeUrl = described.edgeUrl;
    // Keys in two one-minute windows the stack's own clock has not closed yet; `--now` closes both.
    const client = new CosmosClient(cosmosEmulatorClientOptions(described.cosmosEndpoint));
    const now = Math.floor(Date.now() / 1000);
    await new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }).insert([exposureAt(described.region, now + 60), exposureAt(described.region, now + 120)]);
    client.dispose();
    const published = await runKeyfront(['publish', '--once', '--now', new Date((now + 300) * 1000).toISOString()], { env });
    if (published.status !== 0) throw new Error(`keyfront publish failed (${published.status}): ${published.stderr}`);
    const index = await request(`${edgeUrl}/v1/${described.region}/index.txt`);
    indexPaths = (await index.body.text()).split('\n').filter(Boolean);
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack!.once('exit', resolve));
      stack.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the page at the edge root with the strict headers, and its assets under /site/', async () => {
    const root = await request(`${edgeUrl}/`);
    const html = await root.body.text();
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(root.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(root.headers['x-content-type-options']).toBe('nosniff');
    const script = /src="(\/site\/app\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await request(`${edgeUrl}${script}`);
    await asset.body.dump();
    expect([asset.statusCode, asset.headers['content-type'], asset.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    const config = await request(`${edgeUrl}/site/config.json`);
    expect([config.statusCode, config.headers['cache-control']]).toEqual([200, 'public, max-age=60, s-maxage=300']);
    expect(((await config.body.json()) as { regions: string[] }).regions).toEqual(['440']);
  });

  it('shows every file of the index verified, the key fingerprint of the stack, and no console errors', async () => {
    expect(indexPaths.length).toBeGreaterThanOrEqual(2);
    const { page, errors } = await openPage(browser, `${edgeUrl}/`, VIEWPORTS.desktop);
    try {
      const rows = await rowsOf(page);
      expect(rows.map((row) => row.file)).toEqual(indexPaths.map((p) => p.split('/').pop()));
      for (const row of rows) expect({ file: row.file, status: row.status, batch: row.batch }).toEqual({ file: row.file, status: 'Verified', batch: '1 of 1' });
      expect(await page.textContent('#summary')).toMatch(new RegExp(`^All ${indexPaths.length} files verified: [0-9,]+ keys, every file signed by the key below\\.$`));
      const spki = createPublicKey(await readFile(path.join(dataDir, 'signing-public.pem'), 'utf8')).export({ type: 'spki', format: 'der' });
      const fingerprint = createHash('sha256').update(spki).digest('hex');
      expect((await page.textContent('#fingerprint'))?.replace(/ /g, '')).toBe(fingerprint);
      expect(await tabIntoFiles(page)).toBeDefined();
      await screenshot(page, 'stack-desktop');
      await page.setViewportSize(VIEWPORTS.phone);
      await screenshot(page, 'stack-phone');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
